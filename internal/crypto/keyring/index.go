package keyring

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// TokenLen is the length of a blind-index token: HMAC-SHA256 truncated
// to 64 bits. Truncation does not help anyone recover a value (that
// needs the key); a collision only adds a candidate the search engine's
// exact check after decryption removes, and with 10^8 tokens in a tenant
// a given query token collides with probability about 5·10^-12.
const TokenLen = 8

// IndexKey computes blind-index tokens for one tenant: HMAC-SHA256 under
// the tenant's index key, a key of its own (never a data key), wrapped by
// the tenant master key like the data keys. Its material stays inside the
// HMAC states; an IndexKey is safe for concurrent use.
type IndexKey struct {
	tenant, id string
	macs       sync.Pool // of hash.Hash, each keyed with the material
}

func newIndexKey(tenant, id string, material []byte) *IndexKey {
	m := append([]byte(nil), material...) // the caller clears material
	return &IndexKey{tenant: tenant, id: id, macs: sync.Pool{New: func() any { return hmac.New(sha256.New, m) }}}
}

// ID is the key's id, for the record of which key an index was built with.
func (ik *IndexKey) ID() string { return ik.id }

// AppendToken appends the TokenLen-byte token of msg to dst.
func (ik *IndexKey) AppendToken(dst, msg []byte) []byte {
	h := ik.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	var sum [sha256.Size]byte
	out := append(dst, h.Sum(sum[:0])[:TokenLen]...)
	ik.macs.Put(h)
	return out
}

// String identifies the key without revealing it.
func (ik *IndexKey) String() string {
	return "keyring.IndexKey{tenant: " + ik.tenant + ", id: " + ik.id + ", material: REDACTED}"
}

// IndexKey returns the tenant's blind-index key, creating and persisting
// it (and the tenant master key) on first use.
func (k *Keyring) IndexKey(ctx context.Context, tenant string) (*IndexKey, error) {
	if tenant == "" {
		return nil, errNoTenant
	}
	if ik := k.cache.getByName(tenant, nameIndex); ik != nil {
		return ik.index, nil
	}
	ik, err := k.flights.do(ctx, flightKey{flightDataKey, tenant, nameIndex}, func(ctx context.Context) (*key, error) {
		if ik := k.cache.getByName(tenant, nameIndex); ik != nil {
			return ik, nil
		}
		return k.getOrCreate(ctx, tenant, nameIndex)
	})
	if err != nil {
		return nil, err
	}
	return ik.index, nil
}

// GoString is String, so %#v redacts too.
func (ik *IndexKey) GoString() string { return ik.String() }
