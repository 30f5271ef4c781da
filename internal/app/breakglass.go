package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/breakglass"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/notify"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// NewBreakGlass builds emergency access over db: grants and reviews, the
// reason sealed by the tenant's key, notices e-mailed through [smtp]
// (when a host is configured) to the tenant's privacy officers.
func NewBreakGlass(cfg config.Config, db *sqlite.DB, ids *identity.Service, sealer KeyringSealer, now func() time.Time, log *slog.Logger) (*breakglass.Service, error) {
	o := breakglass.Options{
		DefaultDuration: cfg.BreakGlass.DefaultDuration.D(), MaxDuration: cfg.BreakGlass.MaxDuration.D(),
		AllowWrite: cfg.BreakGlass.AllowWrite, Roles: cfg.BreakGlass.Roles, BaseURL: cfg.BaseURL,
		Officers: officers{ids}, Now: now, Log: log,
	}
	if cfg.SMTP.Host != "" {
		var pw string
		if cfg.SMTP.PasswordFile != "" {
			b, err := os.ReadFile(cfg.SMTP.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("smtp.password_file: %w", err)
			}
			pw = strings.TrimSpace(string(b))
		}
		m, err := notify.NewSMTP(notify.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.PortNumber(), Username: cfg.SMTP.Username,
			Password: notify.Password(pw), From: cfg.SMTP.From, TLS: notify.TLSMode(cfg.SMTP.TLS), Timeout: cfg.SMTP.Timeout.D()})
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		o.Mailer = m
	}
	return breakglass.New(db, sealer, o)
}

// officers finds a tenant's privacy officers to notify: enabled accounts
// with that role and an e-mail address.
type officers struct{ ids *identity.Service }

func (o officers) PrivacyOfficers(ctx context.Context, tenant string) ([]breakglass.Recipient, error) {
	ps, err := o.ids.List(ctx, identity.Actor{Operator: true}, tenant)
	if err != nil {
		return nil, err
	}
	var out []breakglass.Recipient
	for _, p := range ps {
		if p.Role == identity.RolePrivacyOfficer && !p.Disabled && p.Email != "" {
			out = append(out, breakglass.Recipient{ID: p.ID, Email: p.Email})
		}
	}
	return out, nil
}
