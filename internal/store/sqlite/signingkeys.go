package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SigningKey is a tenant's electronic-signature key as stored: the
// public key, and the private key sealed by the caller.
type SigningKey struct {
	Tenant  string
	KID     string
	Public  []byte
	Sealed  []byte
	Created time.Time
}

// ErrNoSigningKey means the tenant has no such signing key.
var ErrNoSigningKey = errors.New("sqlite: no such signing key")

// AddSigningKey stores a new signing key.
func (d *DB) AddSigningKey(ctx context.Context, k SigningKey) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO signing_keys (tenant, kid, public_key, sealed, created_ns)
			VALUES (?, ?, ?, ?, ?)`, k.Tenant, k.KID, k.Public, k.Sealed, k.Created.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: add signing key: %w", mapErr(err))
		}
		return nil
	})
}

// LatestSigningKey returns the tenant's newest signing key, or
// ErrNoSigningKey.
func (d *DB) LatestSigningKey(ctx context.Context, tenant string) (SigningKey, error) {
	return d.signingKey(ctx, `WHERE tenant = ? ORDER BY created_ns DESC, kid LIMIT 1`, tenant)
}

// SigningKey returns the tenant's key kid, or ErrNoSigningKey.
func (d *DB) SigningKey(ctx context.Context, tenant, kid string) (SigningKey, error) {
	return d.signingKey(ctx, `WHERE tenant = ? AND kid = ?`, tenant, kid)
}

func (d *DB) signingKey(ctx context.Context, where string, args ...any) (SigningKey, error) {
	var (
		k       SigningKey
		created int64
	)
	err := d.r.QueryRowContext(ctx, `SELECT tenant, kid, public_key, sealed, created_ns FROM signing_keys `+where, args...).
		Scan(&k.Tenant, &k.KID, &k.Public, &k.Sealed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return SigningKey{}, ErrNoSigningKey
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("sqlite: signing key: %w", mapErr(err))
	}
	k.Created = time.Unix(0, created).UTC()
	return k, nil
}
