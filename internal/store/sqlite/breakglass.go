package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/audit/alert"
	"github.com/wardhealth/ward/internal/breakglass"
	sqlite3 "modernc.org/sqlite/lib"
)

// Emergency access grants and their reviews, for breakglass.Store. A
// grant's in-app alert goes to audit_alerts (rule break-glass), the list
// privacy officers already read, in the grant's own transaction.

const grantColumns = `id, tenant, person_id, patient_id, reason, started_ns, ends_ns, ended_ns, ended_by, write`

const reviewColumns = `id, grant_id, tenant, opened_ns, closed_ns, closed_by, disposition, notes`

// activeGrant selects the grants of (tenant, person, patient) active at
// ?4 (ns), the one ending last first: a seek on break_glass_grants_active.
const activeGrant = `SELECT ` + grantColumns + ` FROM break_glass_grants
	WHERE tenant = ?1 AND person_id = ?2 AND patient_id = ?3 AND ends_ns > ?4
		AND started_ns <= ?4 AND (ended_ns = 0 OR ended_ns > ?4)
	ORDER BY ends_ns DESC LIMIT 1`

// CreateBreakGlass implements breakglass.Store.
func (d *DB) CreateBreakGlass(ctx context.Context, g breakglass.Grant, r breakglass.Review, a breakglass.Alert) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		var active bool
		err := tx.QueryRowContext(bg, `SELECT EXISTS (`+activeGrant+`)`, g.Tenant, g.PersonID, g.PatientID, g.Started.UnixNano()).Scan(&active)
		if err != nil {
			return fmt.Errorf("sqlite: create break-glass grant: %w", mapErr(err))
		}
		if active {
			return breakglass.ErrActive
		}
		_, err = tx.ExecContext(bg, `INSERT INTO break_glass_grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?)`,
			g.ID, g.Tenant, g.PersonID, g.PatientID, g.SealedReason, g.Started.UnixNano(), g.Ends.UnixNano(), g.Write)
		switch {
		case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
			return fmt.Errorf("create break-glass grant: no such person: %w", breakglass.ErrNotFound)
		case err != nil:
			return fmt.Errorf("sqlite: create break-glass grant: %w", mapErr(err))
		}
		_, err = tx.ExecContext(bg, `INSERT INTO break_glass_reviews (id, grant_id, tenant, opened_ns) VALUES (?, ?, ?, ?)`,
			r.ID, g.ID, r.Tenant, r.Opened.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: create break-glass review: %w", mapErr(err))
		}
		// first_index and last_index 0: the alert comes from the grant,
		// not from ledger events. The alert watcher delivers it to the
		// webhook like any other.
		_, err = tx.ExecContext(bg, `INSERT INTO audit_alerts (dedup, time_ms, tenant, rule, severity, actor, summary, first_index, last_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT (dedup) DO NOTHING`,
			a.Key, a.Time.UnixMilli(), a.Tenant, alert.RuleBreakGlass, alert.SeverityHigh, a.Actor, a.Summary)
		if err != nil {
			return fmt.Errorf("sqlite: break-glass alert: %w", mapErr(err))
		}
		return nil
	})
}

// ActiveBreakGlass implements breakglass.Store.
func (d *DB) ActiveBreakGlass(ctx context.Context, tenant, personID, patientID string, t time.Time) (breakglass.Grant, error) {
	return scanGrant(d.r.QueryRowContext(ctx, activeGrant, tenant, personID, patientID, t.UnixNano()))
}

// BreakGlassGrant implements breakglass.Store.
func (d *DB) BreakGlassGrant(ctx context.Context, id string) (breakglass.Grant, error) {
	return scanGrant(d.r.QueryRowContext(ctx, `SELECT `+grantColumns+` FROM break_glass_grants WHERE id = ?`, id))
}

func scanGrant(row *sql.Row) (breakglass.Grant, error) {
	var (
		g                    breakglass.Grant
		started, ends, ended int64
	)
	err := row.Scan(&g.ID, &g.Tenant, &g.PersonID, &g.PatientID, &g.SealedReason, &started, &ends, &ended, &g.EndedBy, &g.Write)
	if errors.Is(err, sql.ErrNoRows) {
		return breakglass.Grant{}, breakglass.ErrNotFound
	}
	if err != nil {
		return breakglass.Grant{}, fmt.Errorf("sqlite: break-glass grant: %w", mapErr(err))
	}
	g.Started, g.Ends, g.Ended = fromUnixNano(started), fromUnixNano(ends), fromUnixNano(ended)
	return g, nil
}

// EndBreakGlass implements breakglass.Store.
func (d *DB) EndBreakGlass(ctx context.Context, id, by string, t time.Time) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		res, err := tx.ExecContext(bg, `UPDATE break_glass_grants SET ended_ns = ?2, ended_by = ?3
			WHERE id = ?1 AND ended_ns = 0 AND started_ns <= ?2 AND ends_ns > ?2`, id, t.UnixNano(), by)
		if err != nil {
			return fmt.Errorf("sqlite: end break-glass grant: %w", mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(bg, `SELECT EXISTS (SELECT 1 FROM break_glass_grants WHERE id = ?)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("sqlite: end break-glass grant: %w", mapErr(err))
		}
		if exists {
			return breakglass.ErrEnded
		}
		return breakglass.ErrNotFound
	})
}

// BreakGlassReview implements breakglass.Store.
func (d *DB) BreakGlassReview(ctx context.Context, id string) (breakglass.Review, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+reviewColumns+` FROM break_glass_reviews WHERE id = ?`, id)
	if err != nil {
		return breakglass.Review{}, fmt.Errorf("sqlite: break-glass review: %w", mapErr(err))
	}
	rs, err := scanReviews(rows)
	if err != nil {
		return breakglass.Review{}, err
	}
	if len(rs) == 0 {
		return breakglass.Review{}, breakglass.ErrNotFound
	}
	return rs[0], nil
}

// BreakGlassReviews implements breakglass.Store.
func (d *DB) BreakGlassReviews(ctx context.Context, tenant string, open bool, limit int) ([]breakglass.Review, error) {
	q := `SELECT ` + reviewColumns + ` FROM break_glass_reviews WHERE tenant = ? AND closed_ns = 0 ORDER BY opened_ns, id LIMIT ?`
	if !open {
		q = `SELECT ` + reviewColumns + ` FROM break_glass_reviews WHERE tenant = ? AND closed_ns > 0 ORDER BY closed_ns DESC, id LIMIT ?`
	}
	rows, err := d.r.QueryContext(ctx, q, tenant, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: break-glass reviews: %w", mapErr(err))
	}
	return scanReviews(rows)
}

func scanReviews(rows *sql.Rows) ([]breakglass.Review, error) {
	defer rows.Close()
	var out []breakglass.Review
	for rows.Next() {
		var (
			r              breakglass.Review
			opened, closed int64
		)
		if err := rows.Scan(&r.ID, &r.GrantID, &r.Tenant, &opened, &closed, &r.ClosedBy, &r.Disposition, &r.SealedNotes); err != nil {
			return nil, fmt.Errorf("sqlite: break-glass reviews: %w", mapErr(err))
		}
		r.Opened, r.Closed = fromUnixNano(opened), fromUnixNano(closed)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: break-glass reviews: %w", mapErr(err))
	}
	return out, nil
}

// CloseBreakGlassReview implements breakglass.Store.
func (d *DB) CloseBreakGlassReview(ctx context.Context, id, by string, t time.Time, disposition string, sealedNotes []byte) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		res, err := tx.ExecContext(bg, `UPDATE break_glass_reviews SET closed_ns = ?, closed_by = ?, disposition = ?, notes = ?
			WHERE id = ? AND closed_ns = 0`, t.UnixNano(), by, disposition, sealedNotes, id)
		if err != nil {
			return fmt.Errorf("sqlite: close break-glass review: %w", mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(bg, `SELECT EXISTS (SELECT 1 FROM break_glass_reviews WHERE id = ?)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("sqlite: close break-glass review: %w", mapErr(err))
		}
		if exists {
			return breakglass.ErrClosed
		}
		return breakglass.ErrNotFound
	})
}
