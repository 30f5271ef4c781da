package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/audit/alert"
)

// Audit alerts, for alert.Store and alert.Networks, and their listing
// for GET /audit/alerts.

const alertColumns = `id, dedup, time_ms, tenant, rule, severity, actor, summary, first_index, last_index`

// AlertCursor implements alert.Store.
func (d *DB) AlertCursor(ctx context.Context) (uint64, error) {
	var next int64
	err := d.r.QueryRowContext(ctx, `SELECT coalesce((SELECT next FROM audit_alert_cursor WHERE one = 1), 0)`).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("sqlite: alert cursor: %w", mapErr(err))
	}
	return uint64(next), nil
}

// SaveAlerts implements alert.Store. The cursor only moves forward, so a
// Raise from another process cannot move it back.
func (d *DB) SaveAlerts(ctx context.Context, alerts []alert.Alert, next uint64) ([]alert.Alert, error) {
	var stored []alert.Alert
	err := d.exec(ctx, func(tx *sql.Tx) error {
		stored = stored[:0]
		bg := context.Background()
		for _, a := range alerts {
			var id int64
			err := tx.QueryRowContext(bg, `INSERT INTO audit_alerts (dedup, time_ms, tenant, rule, severity, actor, summary, first_index, last_index)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup) DO NOTHING RETURNING id`,
				a.Key, a.Time.UnixMilli(), a.Tenant, a.Rule, a.Severity, a.Actor, a.Summary, int64(a.First), int64(a.Last)).Scan(&id)
			if err == sql.ErrNoRows {
				continue // raised before
			}
			if err != nil {
				return fmt.Errorf("sqlite: save alert: %w", mapErr(err))
			}
			a.ID = id
			stored = append(stored, a)
		}
		_, err := tx.ExecContext(bg, `INSERT INTO audit_alert_cursor (one, next) VALUES (1, ?)
			ON CONFLICT (one) DO UPDATE SET next = max(next, excluded.next)`, int64(next))
		if err != nil {
			return fmt.Errorf("sqlite: save alert cursor: %w", mapErr(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// Unnotified implements alert.Store.
func (d *DB) Unnotified(ctx context.Context, limit int) ([]alert.Alert, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM audit_alerts
		WHERE notified = 0 ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending alerts: %w", mapErr(err))
	}
	return scanAlerts(rows)
}

// MarkNotified implements alert.Store.
func (d *DB) MarkNotified(ctx context.Context, id int64) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(context.Background(), `UPDATE audit_alerts SET notified = 1 WHERE id = ?`, id); err != nil {
			return fmt.Errorf("sqlite: mark alert notified: %w", mapErr(err))
		}
		return nil
	})
}

// Alerts lists the alerts of a tenant and of the whole deployment with
// id > after, oldest first, at most limit, optionally only of one rule
// and within [from, to) (zero times: unbounded).
func (d *DB) Alerts(ctx context.Context, tenant, rule string, from, to time.Time, after int64, limit int) ([]alert.Alert, error) {
	lo, hi := int64(0), int64(1<<62)
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli()
	}
	rows, err := d.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM audit_alerts
		WHERE tenant IN (?, '') AND id > ? AND (? = '' OR rule = ?) AND time_ms >= ? AND time_ms < ?
		ORDER BY id LIMIT ?`, tenant, after, rule, rule, lo, hi, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", mapErr(err))
	}
	return scanAlerts(rows)
}

func scanAlerts(rows *sql.Rows) ([]alert.Alert, error) {
	defer rows.Close()
	var out []alert.Alert
	for rows.Next() {
		var a alert.Alert
		var ms, first, last int64
		if err := rows.Scan(&a.ID, &a.Key, &ms, &a.Tenant, &a.Rule, &a.Severity, &a.Actor, &a.Summary, &first, &last); err != nil {
			return nil, fmt.Errorf("sqlite: alerts: %w", mapErr(err))
		}
		a.Time, a.First, a.Last = time.UnixMilli(ms).UTC(), uint64(first), uint64(last)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", mapErr(err))
	}
	return out, nil
}

// Remember implements alert.Networks.
func (d *DB) Remember(ctx context.Context, tenant, actor, network string, index uint64, at time.Time) (bool, error) {
	var isNew bool
	err := d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		_, err := tx.ExecContext(bg, `INSERT INTO audit_networks (tenant, actor, network, first_index, first_ms)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tenant, actor, network, int64(index), at.UnixMilli())
		if err != nil {
			return fmt.Errorf("sqlite: remember network: %w", mapErr(err))
		}
		// New when this event introduced the network and the actor had
		// signed in from another one before it.
		err = tx.QueryRowContext(bg, `SELECT
			EXISTS (SELECT 1 FROM audit_networks WHERE tenant = ? AND actor = ? AND network = ? AND first_index = ?)
			AND EXISTS (SELECT 1 FROM audit_networks WHERE tenant = ? AND actor = ? AND first_index < ?)`,
			tenant, actor, network, int64(index), tenant, actor, int64(index)).Scan(&isNew)
		if err != nil {
			return fmt.Errorf("sqlite: remember network: %w", mapErr(err))
		}
		return nil
	})
	return isNew, err
}
