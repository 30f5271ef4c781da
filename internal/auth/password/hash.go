package password

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// Hash derives an argon2id hash of pw with parameters p and a fresh salt
// read from random (crypto/rand when nil), and returns it as a PHC string.
// pw is NFKC-normalised first, as Verify does; input over MaxBytes, invalid
// UTF-8 or with control characters is refused before any hashing.
func Hash(pw string, p Params, random io.Reader) (string, error) {
	n, err := normalize(pw)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	if random == nil {
		random = rand.Reader
	}
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("hash: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(n), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

// Verify reports whether pw matches the PHC string encoded, comparing in
// constant time. It also returns the parameters the stored hash was made
// with, so the caller can rehash after a successful login when
// stored.NeedsRehash(DefaultParams()) is true. Without hashing anything,
// it returns false and an error wrapping ErrMalformed for a malformed
// encoding or one whose parameters exceed the bounds (see Params.Validate),
// and false with Hash's error for a pw that Hash would refuse.
func Verify(pw, encoded string) (ok bool, stored Params, err error) {
	d, err := decode(encoded)
	if err != nil {
		return false, Params{}, fmt.Errorf("verify: %w", err)
	}
	n, err := normalize(pw)
	if err != nil {
		return false, d.params, fmt.Errorf("verify: %w", err)
	}
	key := argon2.IDKey([]byte(n), d.salt, d.params.Time, d.params.MemoryKiB, d.params.Threads, d.params.KeyLen)
	return subtle.ConstantTimeCompare(key, d.key) == 1, d.params, nil
}
