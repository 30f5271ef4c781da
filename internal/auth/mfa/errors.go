package mfa

import "errors"

// Errors returned by this package. Their messages never contain a code, a
// secret or a hash, so they are safe to log.
var (
	// ErrInvalidCode means a TOTP or recovery code is malformed or does not
	// match. Callers must not tell the user which.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrReplayed means a TOTP code matched a time step at or before the
	// last one accepted for this user, so it was already used or is older
	// than one that was.
	ErrReplayed = errors.New("mfa: code already used")
	// ErrInvalidSecret means a stored TOTP secret is not a base32 secret of
	// at least 128 bits; the stored record is damaged.
	ErrInvalidSecret = errors.New("mfa: invalid TOTP secret")
	// ErrInvalidLabel means the issuer or account passed to NewTOTP is empty,
	// too long, or holds a character the otpauth label cannot carry.
	ErrInvalidLabel = errors.New("mfa: invalid TOTP issuer or account")
)
