package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

// Sign-in challenges, for identity.Store.

// CreateChallenge implements identity.Store; it also deletes expired
// challenges.
func (d *DB) CreateChallenge(ctx context.Context, c identity.Challenge) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		if _, err := tx.ExecContext(bg, `DELETE FROM sign_in_challenges WHERE expires_ns < ?`, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("sqlite: create challenge: %w", mapErr(err))
		}
		_, err := tx.ExecContext(bg, `INSERT INTO sign_in_challenges (hash, person_id, step, expires_ns) VALUES (?, ?, ?, ?)`,
			c.Hash, c.PersonID, string(c.Step), c.Expires.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: create challenge: %w", mapErr(err))
		}
		return nil
	})
}

// Challenge implements identity.Store.
func (d *DB) Challenge(ctx context.Context, hash []byte) (identity.Challenge, error) {
	var (
		c       identity.Challenge
		step    string
		expires int64
	)
	err := d.r.QueryRowContext(ctx, `SELECT hash, person_id, step, expires_ns FROM sign_in_challenges WHERE hash = ?`, hash).
		Scan(&c.Hash, &c.PersonID, &step, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Challenge{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.Challenge{}, fmt.Errorf("sqlite: challenge: %w", mapErr(err))
	}
	c.Step, c.Expires = identity.Step(step), time.Unix(0, expires).UTC()
	return c, nil
}

// DeleteChallenge implements identity.Store: it reports whether the
// challenge existed, so only one request can consume it.
func (d *DB) DeleteChallenge(ctx context.Context, hash []byte) (bool, error) {
	var n int64
	err := d.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(context.Background(), `DELETE FROM sign_in_challenges WHERE hash = ?`, hash)
		if err != nil {
			return fmt.Errorf("sqlite: delete challenge: %w", mapErr(err))
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}
