package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/alert"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/notify"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// NewAlerts builds the audit alert watcher over the trail of db's
// ledger: the rules
// from cfg.Alerts, alerts recorded through rec, delivered to the
// configured webhook. The same-surname rule needs people's names and
// stays off until people accounts exist.
func NewAlerts(cfg config.Config, trail ledger.Trail, db *sqlite.DB, rec audit.Recorder, log *slog.Logger) (*alert.Watcher, error) {
	zone := cfg.Alerts.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("audit_alerts.time_zone %q: not a known time zone", zone)
	}
	hours, err := alert.ParseHours(cfg.Alerts.Hours, loc)
	if err != nil {
		return nil, fmt.Errorf("audit_alerts.hours: %w", err)
	}
	var n alert.Notifier
	if cfg.Alerts.Webhook != "" {
		secret, err := os.ReadFile(cfg.Alerts.WebhookSecretFile)
		if err != nil {
			return nil, fmt.Errorf("audit_alerts.webhook_secret_file: %w", err)
		}
		wh, err := notify.NewWebhook(cfg.Alerts.Webhook, bytes.TrimSpace(secret), nil)
		if err != nil {
			return nil, fmt.Errorf("audit_alerts: %w", err)
		}
		n = webhookAlerts{wh}
	}
	det := alert.NewDetector(alert.Config{MaxPatients: cfg.Alerts.MaxPatients, Denials: cfg.Alerts.Denials, Hours: hours}, db, nil)
	return alert.NewWatcher(trail, db, det, rec, alert.WatcherOptions{Notifier: n, Log: log}), nil
}

// webhookAlerts delivers alerts as notify messages: rule, severity and
// the PHI-free summary.
type webhookAlerts struct{ w *notify.Webhook }

func (n webhookAlerts) Notify(ctx context.Context, a alert.Alert) error {
	return n.w.Send(ctx, notify.Message{
		Kind: "audit-alert", ID: strconv.FormatInt(a.ID, 10), Time: a.Time, Tenant: a.Tenant,
		Severity: a.Severity, Title: "ward audit alert: " + a.Rule, Text: a.Summary,
	})
}

// operatorRecorder records through RecordOperator, for CLI commands.
type operatorRecorder struct{ db *sqlite.DB }

func (r operatorRecorder) Record(ctx context.Context, events []audit.Event) error {
	return RecordOperator(ctx, r.db, events)
}

// RaiseVerificationAlert records a failed ledger verification as an
// alert for the whole deployment and delivers it (from `ward audit
// verify`, which runs beside or without the server).
func RaiseVerificationAlert(ctx context.Context, cfg config.Config, db *sqlite.DB, summary string, log *slog.Logger) error {
	w, err := NewAlerts(cfg, ledger.Trail{R: db}, db, operatorRecorder{db}, log)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return w.Raise(ctx, alert.Alert{
		Key: "verification-failed|" + now.Format(time.RFC3339Nano), Time: now,
		Rule: alert.RuleVerifyFailed, Severity: alert.SeverityHigh, Summary: summary,
	})
}
