package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/crypto/keyring"
)

// Wrapped keys, for keyring.KeyStore. Reads use the reader pool; creation
// goes through the writer, so it is group-committed with everything else.

const keyColumns = `tenant, id, name, wrapped_by, wrapped, created_ns`

// KeyByName implements keyring.KeyStore.
func (d *DB) KeyByName(ctx context.Context, tenant, name string) (keyring.StoredKey, error) {
	return scanKey(d.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE tenant = ? AND name = ?`, tenant, name))
}

// KeyByID implements keyring.KeyStore.
func (d *DB) KeyByID(ctx context.Context, tenant, id string) (keyring.StoredKey, error) {
	return scanKey(d.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM keys WHERE tenant = ? AND id = ?`, tenant, id))
}

// CreateKey implements keyring.KeyStore: it inserts k unless the tenant
// already has a key of that name, and returns the key stored under the
// name. A k whose id is taken by a key of another name is an error.
func (d *DB) CreateKey(ctx context.Context, k keyring.StoredKey) (keyring.StoredKey, error) {
	if k.ID == "" || k.Name == "" || len(k.Wrapped) == 0 {
		return keyring.StoredKey{}, errors.New("sqlite: create key: id, name and wrapped key are required")
	}
	var got keyring.StoredKey
	err := d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		if _, err := tx.ExecContext(bg, `INSERT INTO keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
			k.Tenant, k.ID, k.Name, k.WrappedBy, k.Wrapped, k.Created.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: create key: %w", mapErr(err))
		}
		var err error
		got, err = scanKey(tx.QueryRowContext(bg, `SELECT `+keyColumns+` FROM keys WHERE tenant = ? AND name = ?`, k.Tenant, k.Name))
		if errors.Is(err, keyring.ErrKeyNotFound) {
			return errors.New("sqlite: create key: key id already used by another key")
		}
		return err
	})
	if err != nil {
		return keyring.StoredKey{}, err
	}
	return got, nil
}

func scanKey(r *sql.Row) (keyring.StoredKey, error) {
	var k keyring.StoredKey
	var ns int64
	if err := r.Scan(&k.Tenant, &k.ID, &k.Name, &k.WrappedBy, &k.Wrapped, &ns); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return keyring.StoredKey{}, keyring.ErrKeyNotFound
		}
		return keyring.StoredKey{}, fmt.Errorf("sqlite: read key: %w", mapErr(err))
	}
	k.Created = time.Unix(0, ns).UTC()
	return k, nil
}
