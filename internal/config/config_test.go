package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ward.toml")
	os.WriteFile(file, []byte("env = \"development\"\naddr = \"127.0.0.1:9000\"\ndata_dir = \"from-file\"\ntoken_ttl = \"5m\"\n[token_rate]\nburst = 7\n"), 0o600)
	c, err := Load(file, env(map[string]string{"WARD_DATA_DIR": "from-env", "WARD_TOKEN_RATE_PER_IP": "9"}))
	if err != nil {
		t.Fatal(err)
	}
	c.Addr = "127.0.0.1:9100" // a flag
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "from-env" || c.Addr != "127.0.0.1:9100" || c.TokenTTL.D() != 5*time.Minute || c.TokenRate.Burst != 7 || c.TokenRate.PerIP != 9 {
		t.Fatalf("precedence wrong: %+v", c)
	}
	if c.KMS != "local:"+filepath.Join("from-env", "keys", "kek") || c.BaseURL != "https://127.0.0.1:9100" {
		t.Fatalf("defaults wrong: %q %q", c.KMS, c.BaseURL)
	}
}

func TestDefaultsAreProduction(t *testing.T) {
	c, _ := Load("", env(nil))
	err := c.Finish()
	if err == nil || !strings.Contains(err.Error(), "kms is required") {
		t.Fatalf("production without kms: %v", err)
	}
	c, _ = Load("", env(map[string]string{"WARD_KMS": "local:/k"}))
	if err := c.Finish(); err == nil || !strings.Contains(err.Error(), "audit_key") {
		t.Fatalf("production without an audit key: %v", err)
	}
	c, _ = Load("", env(map[string]string{"WARD_KMS": "local:/k", "WARD_AUDIT_KEY": "/a"}))
	if err := c.Finish(); err == nil || !strings.Contains(err.Error(), "tls_cert") {
		t.Fatalf("production without TLS: %v", err)
	}
	if c.AuditCheckpoints != "ward-data.checkpoints" {
		t.Errorf("checkpoint file default %q is not beside the data dir", c.AuditCheckpoints)
	}
}

func TestInvalid(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("colour = \"blue\"\n"), 0o600)
	if _, err := Load(bad, env(nil)); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml"), env(nil)); err == nil {
		t.Error("missing file accepted")
	}
	for name, e := range map[string]map[string]string{
		"env":                {"WARD_ENV": "staging"},
		"addr":               {"WARD_ENV": "development", "WARD_ADDR": "nohost"},
		"ttl":                {"WARD_ENV": "development", "WARD_TOKEN_TTL": "10s"},
		"ttl parse":          {"WARD_TOKEN_TTL": "soon"},
		"body":               {"WARD_ENV": "development", "WARD_MAX_BODY_BYTES": "12"},
		"kms":                {"WARD_ENV": "development", "WARD_KMS": "vault:x"},
		"db":                 {"WARD_ENV": "development", "WARD_DATABASE_URL": "postgres://x"},
		"base url":           {"WARD_ENV": "development", "WARD_BASE_URL": "http://x"},
		"log":                {"WARD_ENV": "development", "WARD_LOG_LEVEL": "loud"},
		"half tls":           {"WARD_ENV": "development", "WARD_TLS_CERT": "/c"},
		"alert patients":     {"WARD_ENV": "development", "WARD_AUDIT_ALERT_MAX_PATIENTS": "-1"},
		"alert patients int": {"WARD_AUDIT_ALERT_MAX_PATIENTS": "many"},
		"alert denials":      {"WARD_ENV": "development", "WARD_AUDIT_ALERT_DENIALS": "-5"},
		"alert zone":         {"WARD_ENV": "development", "WARD_AUDIT_ALERT_TIME_ZONE": "Mars/Olympus"},
		"alert webhook half": {"WARD_ENV": "development", "WARD_AUDIT_ALERT_WEBHOOK": "https://siem.example/hook"},
		"alert secret half":  {"WARD_ENV": "development", "WARD_AUDIT_ALERT_WEBHOOK_SECRET_FILE": "/s"},
	} {
		c, err := Load("", env(e))
		if err == nil {
			err = c.Finish()
		}
		if err == nil {
			t.Errorf("%s: accepted %v", name, e)
		}
	}
}

func TestAuditRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		name string
		env  map[string]string
		want time.Duration // 0: refused
	}{
		{"default six years", nil, 2192 * day},
		{"days", map[string]string{"WARD_AUDIT_RETENTION": "2190d"}, 2190 * day},
		{"ten years", map[string]string{"WARD_AUDIT_RETENTION": "3653d"}, 3653 * day},
		{"go duration", map[string]string{"WARD_AUDIT_RETENTION": "8784h"}, 366 * day},
		{"one year is the minimum", map[string]string{"WARD_AUDIT_RETENTION": "365d"}, 365 * day},
		{"under a year", map[string]string{"WARD_AUDIT_RETENTION": "364d"}, 0},
		{"hours mistaken for years", map[string]string{"WARD_AUDIT_RETENTION": "6h"}, 0},
		{"negative", map[string]string{"WARD_AUDIT_RETENTION": "-2192d"}, 0},
		{"not a number", map[string]string{"WARD_AUDIT_RETENTION": "sixd"}, 0},
		{"too many days", map[string]string{"WARD_AUDIT_RETENTION": "999999999d"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", env(tt.env))
			if err == nil {
				err = c.FinishData()
			}
			switch {
			case tt.want == 0 && err == nil:
				t.Errorf("accepted: %v", c.AuditRetention.D())
			case tt.want != 0 && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != 0 && c.AuditRetention.D() != tt.want:
				t.Errorf("retention = %v, want %v", c.AuditRetention.D(), tt.want)
			}
		})
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ward.toml")
	os.WriteFile(file, []byte("audit_retention = \"2557d\"\n"), 0o600)
	c, err := Load(file, env(nil))
	if err == nil {
		err = c.FinishData()
	}
	if err != nil || c.AuditRetention.D() != 2557*day {
		t.Errorf("from the file: %v, %v", c.AuditRetention.D(), err)
	}
}
