package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/notify"
	"github.com/wardhealth/ward/internal/notify/smtptest"
)

const (
	subject = "Emergency access was used; review required"
	body    = "Emergency access was used; review required.\n\nReview: https://ward.example/access/reviews/rv-1\n"
)

// Each TLS mode delivers to a real SMTP server: the message arrives
// with its sender, recipients, subject and body, over TLS when asked,
// authenticated when credentials are set.
func TestSMTPDelivers(t *testing.T) {
	cases := []struct {
		name    string
		opts    smtptest.Options
		mode    notify.TLSMode
		wantTLS bool
	}{
		{"starttls with PLAIN auth", smtptest.Options{StartTLS: true, Username: "ward", Password: "s3cret-relay-pw"}, notify.StartTLS, true},
		{"implicit tls with PLAIN auth", smtptest.Options{ImplicitTLS: true, Username: "ward", Password: "s3cret-relay-pw"}, notify.ImplicitTLS, true},
		{"cleartext to a loopback relay", smtptest.Options{}, notify.NoTLS, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opts)
			m, err := notify.NewSMTP(notify.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: tc.opts.Username,
				Password: notify.Password(tc.opts.Password), From: "Ward <ward@clinic.example>", TLS: tc.mode,
				Timeout: 5 * time.Second, RootCAs: srv.RootCAs})
			if err != nil {
				t.Fatal(err)
			}
			to := []string{"po1@clinic.example", "Privacy Two <po2@clinic.example>"}
			if err := m.Send(context.Background(), to, subject, body); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.From != "ward@clinic.example" || strings.Join(got.To, ",") != "po1@clinic.example,po2@clinic.example" {
				t.Errorf("envelope from %q to %q", got.From, got.To)
			}
			if got.TLS != tc.wantTLS || got.Auth != tc.opts.Username {
				t.Errorf("tls %v auth %q, want %v %q", got.TLS, got.Auth, tc.wantTLS, tc.opts.Username)
			}
			data := string(got.Data)
			for _, want := range []string{"Subject: " + subject, "Auto-Submitted: auto-generated", "https://ward.example/access/reviews/rv-1", "@clinic.example>"} {
				if !strings.Contains(data, want) {
					t.Errorf("message lacks %q:\n%s", want, data)
				}
			}
			for _, leak := range []string{"go-mail", "User-Agent", "X-Mailer", tc.opts.Password + "\n"} {
				if leak != "\n" && strings.Contains(data, leak) {
					t.Errorf("message holds %q:\n%s", leak, data)
				}
			}
		})
	}
}

// What cannot be delivered safely fails: no STARTTLS offered (never a
// silent downgrade), an untrusted certificate, a wrong password, a relay
// that is down. The server keeps nothing.
func TestSMTPFailsSafely(t *testing.T) {
	plain := smtptest.Start(t, smtptest.Options{})
	tlsSrv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "ward", Password: "right-password"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cases := []struct {
		name string
		srv  *smtptest.Server
		cfg  notify.SMTPConfig
	}{
		{"starttls required, not offered", plain, notify.SMTPConfig{Host: "127.0.0.1", Port: plain.Port, TLS: notify.StartTLS}},
		{"untrusted certificate", tlsSrv, notify.SMTPConfig{Host: "127.0.0.1", Port: tlsSrv.Port, Username: "ward", Password: "right-password"}},
		{"wrong password", tlsSrv, notify.SMTPConfig{Host: "127.0.0.1", Port: tlsSrv.Port, Username: "ward", Password: "wrong", RootCAs: tlsSrv.RootCAs}},
		{"no credentials where required", tlsSrv, notify.SMTPConfig{Host: "127.0.0.1", Port: tlsSrv.Port, RootCAs: tlsSrv.RootCAs}},
		{"relay down", nil, notify.SMTPConfig{Host: "127.0.0.1", Port: downPort, TLS: notify.NoTLS}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.From, tc.cfg.Timeout = "ward@clinic.example", 3*time.Second
			m, err := notify.NewSMTP(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Send(context.Background(), []string{"po@clinic.example"}, subject, body)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if strings.Contains(err.Error(), "right-password") {
				t.Errorf("error %q quotes the password", err)
			}
			if tc.srv != nil && len(tc.srv.Messages()) != 0 {
				t.Errorf("the server kept %d messages", len(tc.srv.Messages()))
			}
		})
	}
}

// Send refuses what cannot be a short PHI-free notice before it
// connects.
func TestSMTPRefusesMessages(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := notify.NewSMTP(notify.SMTPConfig{Host: srv.Host, Port: srv.Port, From: "ward@clinic.example", TLS: notify.NoTLS})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, notify.MaxRecipients+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@clinic.example", i)
	}
	cases := []struct {
		name          string
		to            []string
		subject, body string
	}{
		{"body over the limit", []string{"po@clinic.example"}, subject, strings.Repeat("x", notify.MaxBodyBytes+1)},
		{"header injection in the subject", []string{"po@clinic.example"}, "hi\r\nBcc: attacker@evil.example", body},
		{"empty subject", []string{"po@clinic.example"}, "", body},
		{"control characters in the body", []string{"po@clinic.example"}, subject, "a\x00b"},
		{"invalid UTF-8", []string{"po@clinic.example"}, subject, "\xff\xfe"},
		{"no recipient", nil, subject, body},
		{"not an address", []string{"po@clinic.example", "nobody"}, subject, body},
		{"too many recipients", many, subject, body},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Send(context.Background(), tc.to, tc.subject, tc.body); err == nil {
				t.Fatal("Send accepted it")
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("the server received %d messages", n)
	}
	// The largest body allowed goes through.
	if err := m.Send(context.Background(), []string{"po@clinic.example"}, subject, strings.Repeat("y", notify.MaxBodyBytes)); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPRefusesBadConfig(t *testing.T) {
	ok := notify.SMTPConfig{Host: "smtp.clinic.example", From: "ward@clinic.example"}
	cases := map[string]func(c *notify.SMTPConfig){
		"no host":                     func(c *notify.SMTPConfig) { c.Host = "" },
		"host with a port":            func(c *notify.SMTPConfig) { c.Host = "smtp.clinic.example:25" },
		"unix socket":                 func(c *notify.SMTPConfig) { c.Host = "unix:///run/smtp.sock" },
		"cleartext off loopback":      func(c *notify.SMTPConfig) { c.TLS = notify.NoTLS },
		"unknown tls mode":            func(c *notify.SMTPConfig) { c.TLS = "opportunistic" },
		"bad port":                    func(c *notify.SMTPConfig) { c.Port = 70000 },
		"username without a password": func(c *notify.SMTPConfig) { c.Username = "ward" },
		"password without a username": func(c *notify.SMTPConfig) { c.Password = "pw" },
		"no sender":                   func(c *notify.SMTPConfig) { c.From = "" },
		"bad sender":                  func(c *notify.SMTPConfig) { c.From = "ward" },
	}
	for name, mutate := range cases {
		c := ok
		mutate(&c)
		if _, err := notify.NewSMTP(c); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
	for _, c := range []notify.SMTPConfig{ok,
		{Host: "::1", From: "ward@localhost", TLS: notify.NoTLS},
		{Host: "localhost", From: "ward@localhost", TLS: notify.NoTLS, Username: "u", Password: "p"}} {
		if _, err := notify.NewSMTP(c); err != nil {
			t.Errorf("refused %+v: %v", c, err)
		}
	}
}

// A printed config never shows the password.
func TestSMTPPasswordRedacted(t *testing.T) {
	c := notify.SMTPConfig{Host: "smtp.clinic.example", Username: "ward", Password: "hunter2-relay", From: "ward@clinic.example"}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%v %+v %#v %s", c, c, c, c.Password)
	if strings.Contains(b.String(), "hunter2") {
		t.Fatalf("printed config holds the password: %s", b.String())
	}
}

// Text beyond ASCII is sent quoted-printable and arrives intact.
func TestSMTPNonASCII(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := notify.NewSMTP(notify.SMTPConfig{Host: srv.Host, Port: srv.Port, From: "ward@clinic.example", TLS: notify.NoTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), []string{"po@clinic.example"}, "Überprüfung erforderlich", "Notfallzugriff – bitte prüfen.\n"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	data := string(msgs[0].Data)
	if !strings.Contains(data, "Content-Transfer-Encoding: quoted-printable") || !strings.Contains(data, "pr=C3=BCfen") || !strings.Contains(data, "Subject: =?UTF-8?q?") {
		t.Errorf("message not quoted-printable:\n%s", data)
	}
}
