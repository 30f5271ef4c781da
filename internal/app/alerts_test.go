package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// Bad alert settings stop the start with an error naming the setting.
func TestNewAlertsRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "ward.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	short := filepath.Join(dir, "short.secret")
	long := filepath.Join(dir, "long.secret")
	os.WriteFile(short, []byte("too short"), 0o600)
	os.WriteFile(long, []byte(strings.Repeat("x", 40)), 0o600)
	for name, c := range map[string]struct {
		a    config.Alerts
		want string
	}{
		"hours":          {config.Alerts{Hours: "9-5"}, "audit_alerts.hours"},
		"zone":           {config.Alerts{TimeZone: "Mars/Olympus"}, "time_zone"},
		"missing secret": {config.Alerts{Webhook: "https://siem.example/hook", WebhookSecretFile: filepath.Join(dir, "none")}, "webhook_secret_file"},
		"short secret":   {config.Alerts{Webhook: "https://siem.example/hook", WebhookSecretFile: short}, "at least 32 bytes"},
		"cleartext":      {config.Alerts{Webhook: "http://siem.example/hook", WebhookSecretFile: long}, "https"},
	} {
		if _, err := NewAlerts(config.Config{Alerts: c.a}, ledger.Trail{R: db}, db, nil, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, c.want)
		}
	}
	if _, err := NewAlerts(config.Config{Alerts: config.Alerts{Hours: "07:00-19:00", TimeZone: "UTC", Webhook: "https://siem.example/hook", WebhookSecretFile: long}}, ledger.Trail{R: db}, db, nil, nil); err != nil {
		t.Fatalf("good settings refused: %v", err)
	}
}
