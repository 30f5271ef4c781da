package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSMTPAndBreakGlass loads [smtp] and [break_glass] tables (and the
// WARD_SMTP_* variables) and checks the defaults and what FinishData
// refuses.
func TestSMTPAndBreakGlass(t *testing.T) {
	const relay = `
[smtp]
host = "smtp.clinic.example"
username = "ward"
password_file = "/etc/ward/smtp.secret"
from = "Ward <ward@clinic.example>"
`
	cases := []struct {
		name    string
		toml    string
		env     map[string]string
		wantErr string // "" accepted
		check   func(t *testing.T, c Config)
	}{
		{name: "nothing set: no e-mail, break-glass defaults", check: func(t *testing.T, c Config) {
			if c.SMTP.Host != "" || c.SMTP.TLS != "" {
				t.Errorf("smtp = %+v, want off", c.SMTP)
			}
			b := c.BreakGlass
			if b.DefaultDuration.D() != 30*time.Minute || b.MaxDuration.D() != 4*time.Hour || b.AllowWrite ||
				!slices.Equal(b.Roles, []string{"physician", "nurse"}) {
				t.Errorf("break_glass = %+v, want 30m, 4h, read only, physician and nurse", b)
			}
		}},
		{name: "relay with defaults", toml: relay, check: func(t *testing.T, c Config) {
			s := c.SMTP
			if s.TLS != SMTPStartTLS || s.Port != "587" || s.PortNumber() != 587 || s.Timeout.D() != 10*time.Second {
				t.Errorf("smtp = %+v, want starttls on 587 with a 10s timeout", s)
			}
		}},
		{name: "implicit TLS port", toml: relay + "tls = \"tls\"\n", check: func(t *testing.T, c Config) {
			if c.SMTP.Port != "465" {
				t.Errorf("port %q, want 465", c.SMTP.Port)
			}
		}},
		{name: "environment", env: map[string]string{"WARD_SMTP_HOST": "127.0.0.1", "WARD_SMTP_PORT": "2525",
			"WARD_SMTP_FROM": "ward@localhost", "WARD_SMTP_USERNAME": "u", "WARD_SMTP_PASSWORD_FILE": "/p"},
			check: func(t *testing.T, c Config) {
				s := c.SMTP
				if s.Host != "127.0.0.1" || s.PortNumber() != 2525 || s.From != "ward@localhost" || s.Username != "u" || s.PasswordFile != "/p" {
					t.Errorf("smtp = %+v", s)
				}
			}},
		{name: "cleartext to loopback", toml: "[smtp]\nhost = \"localhost\"\ntls = \"none\"\nfrom = \"ward@localhost\"\n",
			check: func(t *testing.T, c Config) {
				if c.SMTP.Port != "25" {
					t.Errorf("port %q, want 25", c.SMTP.Port)
				}
			}},
		{name: "cleartext off loopback", toml: relay + "tls = \"none\"\n", wantErr: "loopback"},
		{name: "unknown tls mode", toml: relay + "tls = \"opportunistic\"\n", wantErr: "smtp.tls must be"},
		{name: "host with a port", toml: strings.Replace(relay, `.example"`, `.example:25"`, 1), wantErr: "smtp.host"},
		{name: "host with a scheme", toml: strings.Replace(relay, `"smtp.`, `"smtp://smtp.`, 1), wantErr: "smtp.host"},
		{name: "bad port", toml: relay + "port = \"70000\"\n", wantErr: "smtp.port"},
		{name: "no sender", toml: strings.Replace(relay, `from = "Ward <ward@clinic.example>"`, ``, 1), wantErr: "smtp.from"},
		{name: "bad sender", toml: strings.Replace(relay, `<ward@clinic.example>`, `<ward>`, 1), wantErr: "smtp.from must be"},
		{name: "username without password file", toml: strings.Replace(relay, `password_file = "/etc/ward/smtp.secret"`, ``, 1), wantErr: "set together"},
		{name: "password inline", toml: relay + "password = \"hunter2\"\n", wantErr: "unknown setting"},
		{name: "settings without a host", toml: "[smtp]\nfrom = \"ward@clinic.example\"\n", wantErr: "host is required"},
		{name: "timeout too long", toml: relay + "timeout = \"5m\"\n", wantErr: "smtp.timeout"},

		{name: "break-glass settings", toml: "[break_glass]\ndefault_duration = \"15m\"\nmax_duration = \"2h\"\nallow_write = true\nroles = [\"physician\"]\n",
			check: func(t *testing.T, c Config) {
				b := c.BreakGlass
				if b.DefaultDuration.D() != 15*time.Minute || b.MaxDuration.D() != 2*time.Hour || !b.AllowWrite || !slices.Equal(b.Roles, []string{"physician"}) {
					t.Errorf("break_glass = %+v", b)
				}
			}},
		{name: "break-glass off", toml: "[break_glass]\nroles = []\n", check: func(t *testing.T, c Config) {
			if c.BreakGlass.Roles == nil || len(c.BreakGlass.Roles) != 0 {
				t.Errorf("roles = %#v, want an empty list (nobody)", c.BreakGlass.Roles)
			}
		}},
		{name: "long default raises the maximum", toml: "[break_glass]\ndefault_duration = \"6h\"\n", check: func(t *testing.T, c Config) {
			if c.BreakGlass.MaxDuration.D() != 6*time.Hour {
				t.Errorf("max = %v, want 6h", c.BreakGlass.MaxDuration.D())
			}
		}},
		{name: "default over the maximum", toml: "[break_glass]\ndefault_duration = \"3h\"\nmax_duration = \"1h\"\n", wantErr: "not be longer than max_duration"},
		{name: "maximum over a day", toml: "[break_glass]\nmax_duration = \"25h\"\n", wantErr: "at most 24h"},
		{name: "too short", toml: "[break_glass]\ndefault_duration = \"30s\"\n", wantErr: "at least 1m"},
		{name: "patients may not", toml: "[break_glass]\nroles = [\"physician\", \"patient\"]\n", wantErr: "patient may never"},
		{name: "role listed twice", toml: "[break_glass]\nroles = [\"nurse\", \"nurse\"]\n", wantErr: "listed twice"},
		{name: "not a role", toml: "[break_glass]\nroles = [\"Nurse \"]\n", wantErr: "not a role name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ward.toml")
			if err := os.WriteFile(file, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file, env(tc.env))
			if err == nil {
				err = c.FinishData()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q quotes the password", err)
			}
			if err == nil && tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
