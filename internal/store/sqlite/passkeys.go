package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
	sqlite3 "modernc.org/sqlite/lib"
)

// Passkeys and WebAuthn ceremonies, for identity.Store.

// AddPasskey implements identity.Store.
func (d *DB) AddPasskey(ctx context.Context, k identity.Passkey) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO passkeys (credential_id, person_id, data, created_ns, last_used_ns)
			VALUES (?, ?, ?, ?, ?)`, k.CredentialID, k.PersonID, k.Data, k.Created.UnixNano(), k.LastUsed.UnixNano())
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return fmt.Errorf("add passkey: %w", identity.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("sqlite: add passkey: %w", mapErr(err))
		}
		return nil
	})
}

// Passkeys implements identity.Store.
func (d *DB) Passkeys(ctx context.Context, personID string) ([]identity.Passkey, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT credential_id, person_id, data, created_ns, last_used_ns
		FROM passkeys WHERE person_id = ? ORDER BY created_ns`, personID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: passkeys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []identity.Passkey
	for rows.Next() {
		var (
			k             identity.Passkey
			created, used int64
		)
		if err := rows.Scan(&k.CredentialID, &k.PersonID, &k.Data, &created, &used); err != nil {
			return nil, fmt.Errorf("sqlite: passkeys: %w", mapErr(err))
		}
		k.Created, k.LastUsed = fromUnixNano(created), fromUnixNano(used)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: passkeys: %w", mapErr(err))
	}
	return out, nil
}

// UpdatePasskey implements identity.Store.
func (d *DB) UpdatePasskey(ctx context.Context, credentialID, data []byte, used time.Time) error {
	return d.updateOne(ctx, `UPDATE passkeys SET data = ?, last_used_ns = ? WHERE credential_id = ?`, data, used.UnixNano(), credentialID)
}

// PutCeremony implements identity.Store.
func (d *DB) PutCeremony(ctx context.Context, c identity.Ceremony) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT OR REPLACE INTO webauthn_ceremonies (owner, purpose, person_id, data, expires_ns)
			VALUES (?, ?, ?, ?, ?)`, c.Owner, string(c.Purpose), c.PersonID, c.Data, c.Expires.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: put ceremony: %w", mapErr(err))
		}
		return nil
	})
}

// TakeCeremony implements identity.Store.
func (d *DB) TakeCeremony(ctx context.Context, owner []byte, purpose identity.Purpose) (identity.Ceremony, error) {
	c := identity.Ceremony{Owner: owner, Purpose: purpose}
	err := d.exec(ctx, func(tx *sql.Tx) error {
		var expires int64
		err := tx.QueryRowContext(context.Background(), `DELETE FROM webauthn_ceremonies WHERE owner = ? AND purpose = ?
			RETURNING person_id, data, expires_ns`, owner, string(purpose)).Scan(&c.PersonID, &c.Data, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return identity.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: take ceremony: %w", mapErr(err))
		}
		c.Expires = fromUnixNano(expires)
		return nil
	})
	return c, err
}
