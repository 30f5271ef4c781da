package keyring

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Ciphertext format v1:
//
//	0x01 | key id (16 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The GCM additional data is the 17-byte header followed by the caller's
// aad, so the version and key id are authenticated too. A later format
// gets a new version byte; Open dispatches on it, so old data stays
// readable through rotations.
const (
	formatV1  = 0x01
	headerLen = 1 + idLen
	// Overhead is the number of bytes Seal adds to a plaintext.
	Overhead = headerLen + nonceLen + tagLen
)

// Seal encrypts plaintext under the tenant's data key with that id (from
// DataKey), binding aad, and returns a v1 ciphertext. It performs no
// writes, so it is safe inside a write transaction; on a cache miss it
// reads the key through the KeyStore. An id that is not one of the
// tenant's data keys yields an error wrapping ErrKeyNotFound.
func (k *Keyring) Seal(ctx context.Context, tenant, keyID string, plaintext, aad []byte) ([]byte, error) {
	if tenant == "" {
		return nil, errNoTenant
	}
	if _, ok := parseID(keyID); !ok {
		return nil, fmt.Errorf("keyring: seal: malformed key id: %w", ErrKeyNotFound)
	}
	dk, err := k.keyByID(ctx, tenant, keyID)
	if err != nil {
		return nil, err
	}
	if dk.tenant != tenant || !dk.isDataKey() {
		return nil, fmt.Errorf("keyring: seal: key %s is not a data key of tenant %s: %w", keyID, tenant, ErrKeyNotFound)
	}
	out := make([]byte, headerLen+nonceLen, Overhead+len(plaintext))
	out[0] = formatV1
	copy(out[1:headerLen], dk.rawID[:])
	nonce := out[headerLen : headerLen+nonceLen]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("keyring: seal: random nonce: %w", err)
	}
	return dk.aead.Seal(out, nonce, plaintext, sealAAD(out[:headerLen], aad)), nil
}

// Open decrypts a ciphertext made by Seal for the same tenant and aad,
// finding the key by the id in its header. Any ciphertext it cannot
// authenticate yields an error wrapping ErrIntegrity: truncated, unknown
// version, altered, bound to other aad, or naming another tenant's key.
// When the reason is that the tenant has no key with the header's id (a
// destroyed key, or an altered header), the error also wraps
// ErrKeyNotFound, so callers can tell crypto-shredded data apart.
func (k *Keyring) Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error) {
	if tenant == "" {
		return nil, errNoTenant
	}
	switch {
	case len(ciphertext) == 0:
		return nil, fmt.Errorf("keyring: open: empty ciphertext: %w", ErrIntegrity)
	case ciphertext[0] != formatV1:
		return nil, fmt.Errorf("keyring: open: unknown ciphertext format %#x: %w", ciphertext[0], ErrIntegrity)
	case len(ciphertext) < Overhead:
		return nil, fmt.Errorf("keyring: open: ciphertext truncated (%d bytes): %w", len(ciphertext), ErrIntegrity)
	}
	id := hex.EncodeToString(ciphertext[1:headerLen])
	dk, err := k.keyByID(ctx, tenant, id)
	if errors.Is(err, ErrKeyNotFound) && !errors.Is(err, ErrIntegrity) {
		// Destroyed, or the header was altered: either way the ciphertext
		// cannot be authenticated.
		return nil, fmt.Errorf("%w: %w", err, ErrIntegrity)
	}
	if err != nil {
		return nil, err
	}
	if dk.tenant != tenant {
		return nil, fmt.Errorf("keyring: open: key %s belongs to another tenant, not %s: %w", id, tenant, ErrIntegrity)
	}
	if !dk.isDataKey() {
		return nil, fmt.Errorf("keyring: open: key %s is not a data key: %w", id, ErrIntegrity)
	}
	nonce := ciphertext[headerLen : headerLen+nonceLen]
	plaintext, err := dk.aead.Open(nil, nonce, ciphertext[headerLen+nonceLen:], sealAAD(ciphertext[:headerLen], aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: open: key %s: %w", id, ErrIntegrity)
	}
	return plaintext, nil
}

// sealAAD is the GCM additional data: the fixed-length header, then aad.
func sealAAD(header, aad []byte) []byte {
	b := make([]byte, 0, len(header)+len(aad))
	return append(append(b, header...), aad...)
}
