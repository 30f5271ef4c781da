package sqlite

import (
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

const clientColumns = `id, tenant, name, role, secret_hash, created_ns, disabled`

// CreateClient implements auth.Store.
func (d *DB) CreateClient(ctx context.Context, c auth.Client) error {
	if c.ID == "" {
		return errors.New("sqlite: create client: empty id")
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO clients (`+clientColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Tenant, c.Name, c.Role, nonNil(c.SecretHash), c.Created.UnixNano(), c.Disabled)
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
		var ns int64
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Name, &c.Role, &c.SecretHash, &ns, &c.Disabled); err != nil {
			return nil, fmt.Errorf("sqlite: clients: %w", mapErr(err))
		}
		c.Created = time.Unix(0, ns).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", mapErr(err))
	}
	return out, nil
}

// SetClientDisabled implements auth.Store. Disabling deletes the client's
// tokens in the same transaction.
func (d *DB) SetClientDisabled(ctx context.Context, id string, disabled bool) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		res, err := tx.ExecContext(bg, `UPDATE clients SET disabled = ? WHERE id = ?`, disabled, id)
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

// nonNil stores an absent hash as an empty blob (the column is NOT NULL).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
