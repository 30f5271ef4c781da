package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

// People's sessions and sign-in throttling, for identity.Store. Times are
// stored as Unix nanoseconds and come back in UTC.

const sessionColumns = `hash, person_id, tenant, role, created_ns, seen_ns, expires_ns, idle_ns,
	locked_ns, resume_failures, stepped_up_ns`

// CreateSession implements identity.Store.
func (d *DB) CreateSession(ctx context.Context, s identity.Session) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO sessions (`+sessionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.Hash, s.PersonID, s.Tenant, s.Role,
			s.Created.UnixNano(), s.Seen.UnixNano(), s.Expires.UnixNano(), int64(s.Idle),
			unixNano(s.Locked), s.ResumeFailures, unixNano(s.SteppedUp))
		if err != nil {
			return fmt.Errorf("sqlite: create session: %w", mapErr(err))
		}
		return nil
	})
}

// Session implements identity.Store.
func (d *DB) Session(ctx context.Context, hash []byte) (identity.Session, error) {
	ss, err := d.querySessions(ctx, `WHERE s.hash = ?`, hash)
	if err != nil {
		return identity.Session{}, err
	}
	if len(ss) == 0 {
		return identity.Session{}, identity.ErrNotFound
	}
	return ss[0], nil
}

// Sessions implements identity.Store.
func (d *DB) Sessions(ctx context.Context, personID string) ([]identity.Session, error) {
	return d.querySessions(ctx, `WHERE s.person_id = ? ORDER BY s.created_ns`, personID)
}

func (d *DB) querySessions(ctx context.Context, where string, args ...any) ([]identity.Session, error) {
	// The account's standing comes in the same query: checking a session
	// on every request then costs one read.
	rows, err := d.r.QueryContext(ctx, `SELECT s.hash, s.person_id, s.tenant, s.role, s.created_ns, s.seen_ns, s.expires_ns,
		s.idle_ns, s.locked_ns, s.resume_failures, s.stepped_up_ns, p.disabled, p.fhir_user
		FROM sessions s JOIN people p ON p.id = s.person_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sessions: %w", mapErr(err))
	}
	defer rows.Close()
	var out []identity.Session
	for rows.Next() {
		var (
			s                                             identity.Session
			created, seen, expires, idle, locked, stepped int64
		)
		if err := rows.Scan(&s.Hash, &s.PersonID, &s.Tenant, &s.Role, &created, &seen, &expires, &idle,
			&locked, &s.ResumeFailures, &stepped, &s.AccountDisabled, &s.FHIRUser); err != nil {
			return nil, fmt.Errorf("sqlite: sessions: %w", mapErr(err))
		}
		s.Created, s.Seen, s.Expires = time.Unix(0, created).UTC(), time.Unix(0, seen).UTC(), time.Unix(0, expires).UTC()
		s.Idle, s.Locked, s.SteppedUp = time.Duration(idle), fromUnixNano(locked), fromUnixNano(stepped)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sessions: %w", mapErr(err))
	}
	return out, nil
}

// TouchSession implements identity.Store: it moves the session's last use
// to seen, only forward.
func (d *DB) TouchSession(ctx context.Context, hash []byte, seen time.Time) error {
	return d.updateOne(ctx, `UPDATE sessions SET seen_ns = max(seen_ns, ?) WHERE hash = ?`, seen.UnixNano(), hash)
}

// LockSession implements identity.Store.
func (d *DB) LockSession(ctx context.Context, hash []byte, at time.Time) error {
	return d.updateOne(ctx, `UPDATE sessions SET locked_ns = ? WHERE hash = ? AND locked_ns = 0`, at.UnixNano(), hash)
}

// ResumeFailed implements identity.Store.
func (d *DB) ResumeFailed(ctx context.Context, hash []byte) (int, error) {
	var n int
	err := d.exec(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(context.Background(), `UPDATE sessions SET resume_failures = resume_failures + 1
			WHERE hash = ? RETURNING resume_failures`, hash).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return identity.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: resume failed: %w", mapErr(err))
		}
		return nil
	})
	return n, err
}

// ResumeSession implements identity.Store.
func (d *DB) ResumeSession(ctx context.Context, hash []byte, seen time.Time) error {
	return d.updateOne(ctx, `UPDATE sessions SET locked_ns = 0, resume_failures = 0, seen_ns = max(seen_ns, ?) WHERE hash = ?`, seen.UnixNano(), hash)
}

// StepUpSession implements identity.Store.
func (d *DB) StepUpSession(ctx context.Context, hash []byte, at time.Time) error {
	return d.updateOne(ctx, `UPDATE sessions SET stepped_up_ns = ? WHERE hash = ?`, at.UnixNano(), hash)
}

// DeleteSessions implements identity.Store: it deletes the person's
// sessions, or only the one with that hash, or all but it (except).
func (d *DB) DeleteSessions(ctx context.Context, personID string, hash []byte, except bool) (int, error) {
	q, args := `DELETE FROM sessions WHERE person_id = ?`, []any{personID}
	switch {
	case hash != nil && except:
		q, args = q+` AND hash != ?`, append(args, hash)
	case hash != nil:
		q, args = q+` AND hash = ?`, append(args, hash)
	}
	var n int64
	err := d.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(context.Background(), q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: delete sessions: %w", mapErr(err))
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// RecordLogin implements identity.Store: after a failure it adds one to
// the account's failures in a row and, once they reach lockAt, locks it
// until lockUntil; after a success it clears both. It returns the
// failures in a row.
func (d *DB) RecordLogin(ctx context.Context, personID string, ok bool, lockAt int, lockUntil time.Time) (int, error) {
	var failures int
	err := d.exec(ctx, func(tx *sql.Tx) error {
		var q string
		var args []any
		if ok {
			q, args = `UPDATE people SET failed_logins = 0, locked_until_ns = 0 WHERE id = ? RETURNING failed_logins`, []any{personID}
		} else {
			q = `UPDATE people SET failed_logins = failed_logins + 1,
				locked_until_ns = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until_ns END
				WHERE id = ? RETURNING failed_logins`
			args = []any{lockAt, lockUntil.UnixNano(), personID}
		}
		err := tx.QueryRowContext(context.Background(), q, args...).Scan(&failures)
		if errors.Is(err, sql.ErrNoRows) {
			return identity.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: record login: %w", mapErr(err))
		}
		return nil
	})
	return failures, err
}

// UnlockPerson implements identity.Store.
func (d *DB) UnlockPerson(ctx context.Context, personID string) error {
	return d.updateOne(ctx, `UPDATE people SET failed_logins = 0, locked_until_ns = 0 WHERE id = ?`, personID)
}

// unixNano stores a time that may be unset: zero for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano reads a time stored by unixNano.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
