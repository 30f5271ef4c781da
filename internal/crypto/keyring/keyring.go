// Package keyring does ward's envelope encryption, after HashiCorp
// Vault's barrier and keyring. A KMS-held key-encryption key wraps one
// master key per tenant; each tenant master key wraps the tenant's data
// keys: a shared one, and one per patient so erasing a patient can
// destroy their key (crypto-shredding). Keys are created lazily, stored
// wrapped through a KeyStore, and cached unwrapped in memory.
//
// Records are sealed with AES-256-GCM in a self-describing format (see
// Seal) whose header names the key, so keys can rotate without breaking
// old data.
package keyring

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wardhealth/ward/internal/crypto/kms"
)

// Options tune a Keyring. Zero values select the defaults.
type Options struct {
	// CacheSize bounds the unwrapped keys kept in memory (least recently
	// used are dropped first); 0 or less means DefaultCacheSize.
	CacheSize int
	// Rand supplies key material, key ids and nonces; it must be safe for
	// concurrent use. nil means crypto/rand.Reader.
	Rand io.Reader
	// Now stamps new keys' creation time. nil means time.Now.
	Now func() time.Time
}

// Keyring creates, unwraps and caches keys and seals and opens records
// with them. It is safe for concurrent use; the unwrapped keys are owned
// by its cache (see keyCache), which has its own lock.
type Keyring struct {
	kms     kms.Provider
	store   KeyStore
	rand    io.Reader
	now     func() time.Time
	cache   *keyCache
	flights flightGroup // dedups concurrent loads and creations of one key
}

// New returns a Keyring whose tenant master keys are wrapped by p and
// whose wrapped keys are kept in ks.
func New(p kms.Provider, ks KeyStore, opts Options) *Keyring {
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Keyring{
		kms:   p,
		store: ks,
		rand:  opts.Rand,
		now:   opts.Now,
		cache: newKeyCache(opts.CacheSize),
	}
}

// errNoTenant is returned for calls without a tenant.
var errNoTenant = errors.New("keyring: empty tenant")

// DataKey returns the id of the data key for the tenant's patient
// (patient "" means the tenant's shared data key). On first use it
// creates the key, and the tenant master key if need be, and persists
// them through the KeyStore; concurrent first uses create one key.
func (k *Keyring) DataKey(ctx context.Context, tenant, patient string) (keyID string, err error) {
	if tenant == "" {
		return "", errNoTenant
	}
	name := dataKeyName(patient)
	if dk := k.cache.getByName(tenant, name); dk != nil {
		return dk.id, nil
	}
	dk, err := k.flights.do(ctx, flightKey{flightDataKey, tenant, name}, func(ctx context.Context) (*key, error) {
		if dk := k.cache.getByName(tenant, name); dk != nil {
			return dk, nil
		}
		return k.getOrCreate(ctx, tenant, name)
	})
	if err != nil {
		return "", err
	}
	return dk.id, nil
}

// tenantKey returns the tenant's master key, creating it on first use.
func (k *Keyring) tenantKey(ctx context.Context, tenant string) (*key, error) {
	if tk := k.cache.getByName(tenant, nameTenant); tk != nil {
		return tk, nil
	}
	return k.flights.do(ctx, flightKey{flightTenantKey, tenant, nameTenant}, func(ctx context.Context) (*key, error) {
		if tk := k.cache.getByName(tenant, nameTenant); tk != nil {
			return tk, nil
		}
		return k.getOrCreate(ctx, tenant, nameTenant)
	})
}

// getOrCreate loads the tenant's key with that name, or creates and
// stores a new one. The caller dedups concurrent calls.
func (k *Keyring) getOrCreate(ctx context.Context, tenant, name string) (*key, error) {
	sk, err := k.store.KeyByName(ctx, tenant, name)
	if err == nil {
		return k.unwrapNamed(ctx, tenant, name, sk)
	}
	if !errors.Is(err, ErrKeyNotFound) {
		return nil, fmt.Errorf("keyring: tenant %s: load %s: %w", tenant, kind(name), err)
	}
	sk, err = k.newStoredKey(ctx, tenant, name)
	if err != nil {
		return nil, err
	}
	stored, err := k.store.CreateKey(ctx, sk)
	if err != nil {
		return nil, fmt.Errorf("keyring: tenant %s: store new %s: %w", tenant, kind(name), err)
	}
	// stored is another process's key if it won the race. Unwrapping it
	// (even when it is ours) also proves the new key can be read back.
	return k.unwrapNamed(ctx, tenant, name, stored)
}

// unwrapNamed unwraps sk, which the store returned for that name.
func (k *Keyring) unwrapNamed(ctx context.Context, tenant, name string, sk StoredKey) (*key, error) {
	if sk.Name != name {
		return nil, fmt.Errorf("keyring: tenant %s: store returned key %s under the wrong name: %w", tenant, sk.ID, ErrIntegrity)
	}
	return k.unwrapStored(ctx, tenant, sk)
}

// newStoredKey makes a random key named name and wraps it: a tenant
// master key under the KMS, a data key under the tenant master key.
func (k *Keyring) newStoredKey(ctx context.Context, tenant, name string) (StoredKey, error) {
	var rawID [idLen]byte
	if _, err := io.ReadFull(k.rand, rawID[:]); err != nil {
		return StoredKey{}, fmt.Errorf("keyring: random key id: %w", err)
	}
	material := make([]byte, keyLen)
	defer clear(material)
	if _, err := io.ReadFull(k.rand, material); err != nil {
		return StoredKey{}, fmt.Errorf("keyring: random key: %w", err)
	}
	sk := StoredKey{
		Tenant:  tenant,
		ID:      hex.EncodeToString(rawID[:]),
		Name:    name,
		Created: k.now().UTC(),
	}
	var err error
	if name == nameTenant {
		sk.WrappedBy = k.kms.KeyID()
		sk.Wrapped, err = k.kms.Wrap(ctx, material, wrapAAD(tenant, sk.ID, name, sk.WrappedBy))
		if err != nil {
			return StoredKey{}, fmt.Errorf("keyring: tenant %s: wrap new tenant master key: %w", tenant, err)
		}
		return sk, nil
	}
	parent, err := k.tenantKey(ctx, tenant)
	if err != nil {
		return StoredKey{}, err
	}
	sk.WrappedBy = parent.id
	sk.Wrapped, err = wrapWith(parent, k.rand, material, wrapAAD(tenant, sk.ID, name, sk.WrappedBy))
	if err != nil {
		return StoredKey{}, err
	}
	return sk, nil
}

// keyByID returns the key with that id, from the cache or else loaded
// from the store and unwrapped. A cached key may belong to another
// tenant or be a tenant master key; the caller checks.
func (k *Keyring) keyByID(ctx context.Context, tenant, id string) (*key, error) {
	if c := k.cache.get(id); c != nil {
		return c, nil
	}
	return k.flights.do(ctx, flightKey{flightKeyByID, tenant, id}, func(ctx context.Context) (*key, error) {
		if c := k.cache.get(id); c != nil {
			return c, nil
		}
		sk, err := k.store.KeyByID(ctx, tenant, id)
		if err != nil {
			return nil, fmt.Errorf("keyring: tenant %s: load key %s: %w", tenant, id, err)
		}
		if sk.ID != id {
			return nil, fmt.Errorf("keyring: tenant %s: store returned key %s for id %s: %w", tenant, sk.ID, id, ErrIntegrity)
		}
		return k.unwrapStored(ctx, tenant, sk)
	})
}

// parentKey returns the tenant master key with that id, which wraps a
// data key being unwrapped. It never loads a data key, so loads cannot
// wait on each other in a cycle (see flightKind).
func (k *Keyring) parentKey(ctx context.Context, tenant, id string) (*key, error) {
	check := func(p *key) (*key, error) {
		if p.tenant != tenant || !p.isTenantKey() {
			return nil, fmt.Errorf("keyring: tenant %s: key %s is not this tenant's master key: %w", tenant, id, ErrIntegrity)
		}
		return p, nil
	}
	if c := k.cache.get(id); c != nil {
		return check(c)
	}
	p, err := k.flights.do(ctx, flightKey{flightParentKey, tenant, id}, func(ctx context.Context) (*key, error) {
		if c := k.cache.get(id); c != nil {
			return c, nil
		}
		sk, err := k.store.KeyByID(ctx, tenant, id)
		if err != nil {
			return nil, fmt.Errorf("keyring: tenant %s: load tenant master key %s: %w", tenant, id, err)
		}
		if sk.ID != id || sk.Name != nameTenant {
			return nil, fmt.Errorf("keyring: tenant %s: key %s is not a tenant master key: %w", tenant, id, ErrIntegrity)
		}
		return k.unwrapStored(ctx, tenant, sk)
	})
	if err != nil {
		return nil, err
	}
	return check(p)
}

// unwrapStored checks that sk belongs to tenant, unwraps it (through
// the KMS for a tenant master key, else through its tenant master key)
// and caches it. Authentication failures wrap ErrIntegrity.
func (k *Keyring) unwrapStored(ctx context.Context, tenant string, sk StoredKey) (*key, error) {
	integrity := func(format string, args ...any) (*key, error) {
		return nil, fmt.Errorf("keyring: tenant %s: key %s: "+format+": %w", append(append([]any{tenant, sk.ID}, args...), ErrIntegrity)...)
	}
	if sk.Tenant != tenant {
		return integrity("belongs to another tenant")
	}
	if !validName(sk.Name) {
		return integrity("unknown key name")
	}
	if _, ok := parseID(sk.ID); !ok {
		return integrity("malformed id")
	}
	aad := wrapAAD(sk.Tenant, sk.ID, sk.Name, sk.WrappedBy)
	var material []byte
	if sk.Name == nameTenant {
		if kekID := k.kms.KeyID(); sk.WrappedBy != kekID {
			return integrity("wrapped by KEK %q, but the configured KEK is %q", sk.WrappedBy, kekID)
		}
		var err error
		material, err = k.kms.Unwrap(ctx, sk.Wrapped, aad)
		if errors.Is(err, kms.ErrUnwrap) {
			return nil, fmt.Errorf("keyring: tenant %s: unwrap tenant master key %s: %w: %w", tenant, sk.ID, ErrIntegrity, err)
		}
		if err != nil {
			return nil, fmt.Errorf("keyring: tenant %s: unwrap tenant master key %s: %w", tenant, sk.ID, err)
		}
	} else {
		if sk.WrappedBy == sk.ID {
			return integrity("wrapped by itself")
		}
		parent, err := k.parentKey(ctx, tenant, sk.WrappedBy)
		if err != nil {
			return nil, err
		}
		material, err = unwrapWith(parent, sk.Wrapped, aad)
		if err != nil {
			return integrity("%s", err.Error())
		}
	}
	defer clear(material)
	nk, err := newKey(tenant, sk.ID, sk.Name, material)
	if err != nil {
		return nil, err
	}
	k.cache.add(nk)
	return nk, nil
}
