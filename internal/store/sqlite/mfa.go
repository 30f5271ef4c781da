package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

// People's second factors, for identity.Store.

// MFA implements identity.Store.
func (d *DB) MFA(ctx context.Context, personID string) (identity.MFA, error) {
	var (
		m        identity.MFA
		recovery string
		updated  int64
	)
	err := d.r.QueryRowContext(ctx, `SELECT person_id, totp_secret, confirmed, totp_step, recovery, updated_ns
		FROM people_mfa WHERE person_id = ?`, personID).Scan(&m.PersonID, &m.SealedSecret, &m.Confirmed, &m.Step, &recovery, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.MFA{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.MFA{}, fmt.Errorf("sqlite: mfa: %w", mapErr(err))
	}
	if err := json.Unmarshal([]byte(recovery), &m.Recovery); err != nil {
		return identity.MFA{}, fmt.Errorf("sqlite: mfa of %s: %w", personID, err)
	}
	m.Updated = time.Unix(0, updated).UTC()
	return m, nil
}

// PutMFA implements identity.Store: it replaces the person's second
// factors.
func (d *DB) PutMFA(ctx context.Context, m identity.MFA) error {
	rec, err := json.Marshal(nonNilStrings(m.Recovery))
	if err != nil {
		return fmt.Errorf("sqlite: put mfa: %w", err)
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO people_mfa
			(person_id, totp_secret, confirmed, totp_step, recovery, updated_ns) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (person_id) DO UPDATE SET totp_secret = excluded.totp_secret, confirmed = excluded.confirmed,
			totp_step = excluded.totp_step, recovery = excluded.recovery, updated_ns = excluded.updated_ns`,
			m.PersonID, append([]byte{}, m.SealedSecret...), m.Confirmed, m.Step, string(rec), m.Updated.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: put mfa: %w", mapErr(err))
		}
		return nil
	})
}

// UpdateMFA implements identity.Store: it replaces the TOTP step,
// confirmation and recovery hashes only if they are still as in old
// (compare-and-swap), so a code or recovery code is accepted once even
// by concurrent requests on several instances.
func (d *DB) UpdateMFA(ctx context.Context, old, next identity.MFA) error {
	oldRec, err := json.Marshal(nonNilStrings(old.Recovery))
	if err != nil {
		return err
	}
	nextRec, err := json.Marshal(nonNilStrings(next.Recovery))
	if err != nil {
		return err
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(context.Background(), `UPDATE people_mfa
			SET totp_step = ?, confirmed = ?, recovery = ?, updated_ns = ?
			WHERE person_id = ? AND totp_step = ? AND confirmed = ? AND recovery = ? AND totp_secret = ?`,
			next.Step, next.Confirmed, string(nextRec), next.Updated.UnixNano(),
			old.PersonID, old.Step, old.Confirmed, string(oldRec), append([]byte{}, old.SealedSecret...))
		if err != nil {
			return fmt.Errorf("sqlite: update mfa: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return identity.ErrConflict
		}
		return nil
	})
}

// DeleteMFA implements identity.Store.
func (d *DB) DeleteMFA(ctx context.Context, personID string) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM people_mfa WHERE person_id = ?`, `DELETE FROM passkeys WHERE person_id = ?`} {
			if _, err := tx.ExecContext(context.Background(), q, personID); err != nil {
				return fmt.Errorf("sqlite: delete mfa: %w", mapErr(err))
			}
		}
		return nil
	})
}
