package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wardhealth/ward/internal/esign"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// Signatures signs and verifies people's electronic signatures with
// per-tenant Ed25519 keys, made on first use and kept in the database
// with the private key sealed by the tenant's data key.
type Signatures struct {
	DB     *sqlite.DB
	Sealer KeyringSealer
	Issuer string // the deployment's base URL, in every signature
	Now    func() time.Time

	mu sync.Mutex // one key made per tenant, however many sign at once
}

// Sign implements api.Signatures: it completes c with the issuer and
// signs it with the tenant's key.
func (s *Signatures) Sign(ctx context.Context, tenant string, c esign.Claims) (string, error) {
	k, err := s.key(ctx, tenant)
	if err != nil {
		return "", err
	}
	c.Issuer, c.Tenant = s.Issuer, tenant
	return esign.Sign(k, c)
}

// Verify implements api.Signatures with the tenant's public keys.
func (s *Signatures) Verify(ctx context.Context, tenant, jws string) (esign.Claims, error) {
	return esign.Verify(jws, func(kid string) (ed25519.PublicKey, error) {
		k, err := s.DB.SigningKey(ctx, tenant, kid)
		if errors.Is(err, sqlite.ErrNoSigningKey) {
			return nil, esign.ErrUnknownKey
		}
		if err != nil {
			return nil, err
		}
		return ed25519.PublicKey(k.Public), nil
	})
}

// key returns the tenant's signing key, making it on first use.
func (s *Signatures) key(ctx context.Context, tenant string) (esign.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, err := s.DB.LatestSigningKey(ctx, tenant)
	if errors.Is(err, sqlite.ErrNoSigningKey) {
		return s.newKey(ctx, tenant)
	}
	if err != nil {
		return esign.Key{}, err
	}
	seed, err := s.Sealer.Open(ctx, tenant, stored.Sealed, signingKeyAAD(tenant, stored.KID))
	if err != nil {
		return esign.Key{}, fmt.Errorf("open signing key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return esign.Key{}, errors.New("open signing key: not an Ed25519 seed")
	}
	return esign.Key{ID: stored.KID, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

func (s *Signatures) newKey(ctx context.Context, tenant string) (esign.Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return esign.Key{}, err
	}
	kid := hex.EncodeToString(pub[:8])
	sealed, err := s.Sealer.Seal(ctx, tenant, priv.Seed(), signingKeyAAD(tenant, kid))
	if err != nil {
		return esign.Key{}, fmt.Errorf("seal signing key: %w", err)
	}
	k := sqlite.SigningKey{Tenant: tenant, KID: kid, Public: pub, Sealed: sealed, Created: s.Now().UTC()}
	if err := s.DB.AddSigningKey(ctx, k); err != nil {
		return esign.Key{}, err
	}
	return esign.Key{ID: kid, Private: priv}, nil
}

func signingKeyAAD(tenant, kid string) []byte {
	return []byte("ward signing key\x00" + tenant + "\x00" + kid)
}
