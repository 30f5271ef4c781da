// Package kms defines the key-encryption-key (KEK) provider that the
// keyring uses to wrap each tenant's master key. Providers keep the KEK
// outside the database: a local key file (localkms), and later Vault
// Transit or AWS KMS. Every provider must pass kmstest.Run.
package kms

import (
	"context"
	"errors"
)

// ErrUnwrap means a wrapped key could not be unwrapped because it failed
// authentication: it was altered, truncated, bound to other additional
// data, or wrapped under another KEK.
var ErrUnwrap = errors.New("kms: unwrap failed authentication")

// Provider wraps and unwraps small secrets (keys of at most 64 bytes)
// under a key-encryption key it never reveals. Implementations are safe
// for concurrent use.
type Provider interface {
	// KeyID returns a stable, non-secret identifier of the KEK; the keyring
	// records it next to every key the provider wrapped.
	KeyID() string
	// Wrap encrypts plaintext under the KEK, authenticating aad (which is
	// not stored in the output). Wrapping the same input twice gives
	// different outputs.
	Wrap(ctx context.Context, plaintext, aad []byte) ([]byte, error)
	// Unwrap reverses Wrap given the same aad. Input that fails
	// authentication or is malformed yields an error wrapping ErrUnwrap;
	// other errors (an unreachable service) do not wrap it.
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}
