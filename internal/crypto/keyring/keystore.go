package keyring

import (
	"context"
	"errors"
	"time"
)

// Errors returned by the keyring and by KeyStore implementations.
var (
	// ErrKeyNotFound means no key is stored under that name or id.
	ErrKeyNotFound = errors.New("key not found")
	// ErrIntegrity means a ciphertext or wrapped key failed authentication.
	ErrIntegrity = errors.New("ciphertext failed authentication")
)

// StoredKey is a wrapped key as persisted in the database. The key
// material itself is never stored unwrapped.
type StoredKey struct {
	Tenant    string
	ID        string // random, hex; appears in ciphertext headers
	Name      string // lookup handle: "tenant", "data", "patient/<id>"
	WrappedBy string // id of the key (or KMS key) that wrapped this one
	Wrapped   []byte
	Created   time.Time
}

// KeyStore persists wrapped keys; the database backends implement it.
type KeyStore interface {
	// KeyByName returns the key stored under tenant and name, or ErrKeyNotFound.
	KeyByName(ctx context.Context, tenant, name string) (StoredKey, error)
	// KeyByID returns the key with that id in tenant, or ErrKeyNotFound.
	KeyByID(ctx context.Context, tenant, id string) (StoredKey, error)
	// CreateKey stores k unless the tenant already has a key named k.Name,
	// and returns the key now stored under that name (k, or the earlier
	// one when another writer won the race).
	CreateKey(ctx context.Context, k StoredKey) (StoredKey, error)
}
