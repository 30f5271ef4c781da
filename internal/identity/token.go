package identity

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// Token is a bearer secret ward hands out once — a session, a sign-in
// challenge, an invitation, an SSO browser binding — and keeps only as
// its SHA-256. String, GoString and MarshalText redact it, so it cannot
// leak into logs or errors by accident; Reveal returns it, to its owner.
type Token string

func (Token) String() string               { return "[redacted]" }
func (Token) GoString() string             { return "[redacted]" }
func (Token) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the token itself.
func (t Token) Reveal() string { return string(t) }

// newToken is prefix and 256 random bits (unpadded base64url); the
// prefix tells what it is and lets secret scanners recognise a leaked one.
func (s *Service) newToken(prefix string) (Token, error) {
	raw := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	return Token(prefix + base64.RawURLEncoding.EncodeToString(raw)), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}
