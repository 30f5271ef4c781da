package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/auth"
	sqlite3 "modernc.org/sqlite/lib"
)

// Service clients and access tokens, for auth.Store. Times are stored as
// Unix nanoseconds and come back in UTC.

const clientColumns = `id, tenant, name, role, secret_hash, created_ns, disabled, previous_secret_hash, previous_until_ns`

// CreateClient implements auth.Store.
func (d *DB) CreateClient(ctx context.Context, c auth.Client) error {
	if c.ID == "" {
		return errors.New("sqlite: create client: empty id")
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO clients (`+clientColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Tenant, c.Name, c.Role, nonNil(c.SecretHash), c.Created.UnixNano(), c.Disabled,
			previousHash(c.PreviousSecretHash), unixNano(c.PreviousUntil))
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return fmt.Errorf("create client: %w", auth.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("sqlite: create client: %w", mapErr(err))
		}
		return nil
	})
}

// Client implements auth.Store.
func (d *DB) Client(ctx context.Context, id string) (auth.Client, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id)
	if err != nil {
		return auth.Client{}, fmt.Errorf("sqlite: client: %w", mapErr(err))
	}
	cs, err := scanClients(rows)
	if err != nil {
		return auth.Client{}, err
	}
	if len(cs) == 0 {
		return auth.Client{}, auth.ErrNotFound
	}
	return cs[0], nil
}

// Clients implements auth.Store.
func (d *DB) Clients(ctx context.Context, tenant string) ([]auth.Client, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients
		WHERE tenant = ? ORDER BY created_ns, rowid`, tenant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", mapErr(err))
	}
	return scanClients(rows)
}

func scanClients(rows *sql.Rows) ([]auth.Client, error) {
	defer rows.Close()
	var out []auth.Client
	for rows.Next() {
		var c auth.Client
		var ns, prevNS int64
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Name, &c.Role, &c.SecretHash, &ns, &c.Disabled,
			&c.PreviousSecretHash, &prevNS); err != nil {
			return nil, fmt.Errorf("sqlite: clients: %w", mapErr(err))
		}
		c.Created, c.PreviousUntil = time.Unix(0, ns).UTC(), fromUnixNano(prevNS)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", mapErr(err))
	}
	return out, nil
}

// SetClientDisabled implements auth.Store. Disabling deletes the client's
// tokens and forgets its previous secret in the same transaction.
func (d *DB) SetClientDisabled(ctx context.Context, id string, disabled bool) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		res, err := tx.ExecContext(bg, `UPDATE clients SET disabled = ?,
			previous_secret_hash = CASE WHEN ? THEN NULL ELSE previous_secret_hash END,
			previous_until_ns = CASE WHEN ? THEN 0 ELSE previous_until_ns END
			WHERE id = ?`, disabled, disabled, disabled, id)
		if err != nil {
			return fmt.Errorf("sqlite: set client disabled: %w", mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: set client disabled: %w", mapErr(err))
		} else if n == 0 {
			return fmt.Errorf("set client disabled: %w", auth.ErrNotFound)
		}
		if disabled {
			if _, err := tx.ExecContext(bg, `DELETE FROM tokens WHERE client_id = ?`, id); err != nil {
				return fmt.Errorf("sqlite: delete client tokens: %w", mapErr(err))
			}
		}
		return nil
	})
}

// RotateClientSecret implements auth.Store: it checks and changes the
// client in one transaction, and with r.RevokeTokens deletes its tokens
// in the same one.
func (d *DB) RotateClientSecret(ctx context.Context, id string, r auth.SecretRotation) error {
	if len(r.Hash) == 0 {
		return errors.New("sqlite: rotate client secret: empty hash")
	}
	if (len(r.PreviousHash) == 0) != r.PreviousUntil.IsZero() {
		return errors.New("sqlite: rotate client secret: a previous hash and its end go together")
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		var cur []byte
		var disabled bool
		err := tx.QueryRowContext(bg, `SELECT secret_hash, disabled FROM clients WHERE id = ?`, id).Scan(&cur, &disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("rotate client secret: %w", auth.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: rotate client secret: %w", mapErr(err))
		}
		if disabled {
			return fmt.Errorf("rotate client secret: %w", auth.ErrDisabled)
		}
		if !bytes.Equal(cur, r.From) {
			return fmt.Errorf("rotate client secret: %w", auth.ErrConflict)
		}
		if _, err := tx.ExecContext(bg, `UPDATE clients SET secret_hash = ?, previous_secret_hash = ?, previous_until_ns = ?
			WHERE id = ?`, r.Hash, previousHash(r.PreviousHash), unixNano(r.PreviousUntil), id); err != nil {
			return fmt.Errorf("sqlite: rotate client secret: %w", mapErr(err))
		}
		if r.RevokeTokens {
			if _, err := tx.ExecContext(bg, `DELETE FROM tokens WHERE client_id = ?`, id); err != nil {
				return fmt.Errorf("sqlite: delete client tokens: %w", mapErr(err))
			}
		}
		return nil
	})
}

// PutToken implements auth.Store. The token's client must exist
// (auth.ErrNotFound otherwise); a token with the same hash is replaced.
func (d *DB) PutToken(ctx context.Context, t auth.Token) error {
	if len(t.Hash) == 0 {
		return errors.New("sqlite: put token: empty hash")
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT OR REPLACE INTO tokens
			(hash, client_id, tenant, role, issued_ns, expires_ns) VALUES (?, ?, ?, ?, ?, ?)`,
			t.Hash, t.ClientID, t.Tenant, t.Role, t.Issued.UnixNano(), t.Expires.UnixNano())
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
			return fmt.Errorf("put token: client: %w", auth.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: put token: %w", mapErr(err))
		}
		return nil
	})
}

// Token implements auth.Store. It returns expired tokens too; the caller
// checks Expires.
func (d *DB) Token(ctx context.Context, hash []byte) (auth.Token, error) {
	var t auth.Token
	var issued, expires int64
	err := d.r.QueryRowContext(ctx, `SELECT hash, client_id, tenant, role, issued_ns, expires_ns
		FROM tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.ClientID, &t.Tenant, &t.Role, &issued, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Token{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("sqlite: token: %w", mapErr(err))
	}
	t.Issued, t.Expires = time.Unix(0, issued).UTC(), time.Unix(0, expires).UTC()
	return t, nil
}

// DeleteExpiredTokens implements auth.Store: it removes tokens whose
// Expires is before now and reports how many.
func (d *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := d.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(context.Background(), `DELETE FROM tokens WHERE expires_ns < ?`, now.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: delete expired tokens: %w", mapErr(err))
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// previousHash stores an absent previous secret as NULL.
func previousHash(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nonNil stores an absent hash as an empty blob (the column is NOT NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
