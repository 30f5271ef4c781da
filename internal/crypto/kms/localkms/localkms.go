// Package localkms is the default kms.Provider: a 256-bit key-encryption
// key (KEK) kept in a local file, outside the database and readable only
// by its owner. It suits a single machine; larger deployments use Vault
// Transit or a cloud KMS.
package localkms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/wardhealth/ward/internal/crypto/kms"
)

// Mode says whether a key file may be used in production. Production
// startup refuses a development key file; that check is the caller's.
type Mode int

// The modes of a key file.
const (
	Development Mode = iota + 1 // made by `ward init` in development; not for real PHI
	Production                  // made for a production deployment
)

// String returns the mode as written in the key file.
func (m Mode) String() string {
	switch m {
	case Development:
		return "development"
	case Production:
		return "production"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// parseMode is the inverse of Mode.String for the valid modes.
func parseMode(s string) (Mode, bool) {
	switch s {
	case "development":
		return Development, true
	case "production":
		return Production, true
	}
	return 0, false
}

const (
	keyLen   = 32 // AES-256
	idLen    = 16
	formatV1 = 0x01 // first byte of every wrapped output
	// overhead of a wrapped output: version, nonce, GCM tag.
	nonceLen = 12
	tagLen   = 16
)

// KMS is a KEK loaded from a local key file. It is safe for concurrent
// use. Its formatting methods redact, so printing or logging it never
// shows key material.
type KMS struct {
	id   string
	mode Mode
	aead cipher.AEAD // AES-256-GCM with random nonces; the only copy of the key
}

var _ kms.Provider = (*KMS)(nil)

// newKMS builds a KMS from raw key material, which the caller clears.
func newKMS(id string, mode Mode, key []byte) (*KMS, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("localkms: invalid key length")
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("localkms: %w", err)
	}
	return &KMS{id: id, mode: mode, aead: aead}, nil
}

// KeyID returns "local:" followed by the key file's random id.
func (k *KMS) KeyID() string { return "local:" + k.id }

// Mode reports whether the key file was made for development or production.
func (k *KMS) Mode() Mode { return k.mode }

// Wrap encrypts plaintext with AES-256-GCM under the KEK, binding aad.
// The output is 0x01 | nonce (12 bytes) | ciphertext and tag.
func (k *KMS) Wrap(_ context.Context, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1, 1+nonceLen+len(plaintext)+tagLen)
	out[0] = formatV1
	return k.aead.Seal(out, nil, plaintext, gcmAAD(aad)), nil
}

// Unwrap decrypts the output of Wrap given the same aad. Anything that
// fails authentication yields an error wrapping kms.ErrUnwrap.
func (k *KMS) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) < 1+nonceLen+tagLen {
		return nil, fmt.Errorf("localkms: wrapped key truncated: %w", kms.ErrUnwrap)
	}
	if wrapped[0] != formatV1 {
		return nil, fmt.Errorf("localkms: unknown wrapped key format %#x: %w", wrapped[0], kms.ErrUnwrap)
	}
	pt, err := k.aead.Open(nil, nil, wrapped[1:], gcmAAD(aad))
	if err != nil {
		return nil, fmt.Errorf("localkms: KEK %s: %w", k.KeyID(), kms.ErrUnwrap)
	}
	return pt, nil
}

// gcmAAD authenticates the format version along with the caller's aad,
// so a future format cannot be confused with this one.
func gcmAAD(aad []byte) []byte {
	b := make([]byte, 0, 1+len(aad))
	return append(append(b, formatV1), aad...)
}

// String identifies the KEK without revealing it.
func (k KMS) String() string {
	return "localkms.KMS{id: " + k.id + ", mode: " + k.mode.String() + ", key: REDACTED}"
}

// GoString is String, so %#v redacts too.
func (k KMS) GoString() string { return k.String() }

// Format writes String for every verb, so no verb prints the key.
func (k KMS) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue lets slog log the KEK's id and mode, never its material.
func (k KMS) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", k.KeyID()),
		slog.String("mode", k.mode.String()),
		slog.String("key", "REDACTED"),
	)
}
