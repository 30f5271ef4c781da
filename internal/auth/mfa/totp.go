package mfa

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters. They are the only ones common authenticator apps all
// honour, so they are fixed rather than configurable.
const (
	// TOTPPeriod is the length of one time step, in seconds.
	TOTPPeriod = 30
	// TOTPDigits is the number of decimal digits in a code.
	TOTPDigits = 6
	// TOTPSecretSize is the size of a new secret in bytes (160 bits, the
	// HMAC-SHA-1 block output size RFC 4226 recommends).
	TOTPSecretSize = 20
	// totpSkew is how many steps either side of now are accepted, for clock
	// drift and the time a person takes to type.
	totpSkew = 1
	// minSecretSize is RFC 4226's minimum shared secret length (128 bits).
	minSecretSize = 16
	// maxLabelLen bounds issuer and account so the URI fits a QR code.
	maxLabelLen = 100
)

// Enrolment is a new TOTP secret and the otpauth:// URI that carries it to
// an authenticator app (usually as a QR code). Both fields are secret:
// store Secret encrypted with the user record, show URI once and do not
// log it. String, GoString, LogValue and MarshalText redact, so a stray
// %v, slog or JSON call does not leak them.
type Enrolment struct {
	// Secret is the shared key, base32 (RFC 4648) without padding.
	Secret string
	// URI is the otpauth://totp/ key URI holding issuer, account and Secret.
	URI string
}

// String redacts the enrolment.
func (Enrolment) String() string { return "[redacted]" }

// GoString redacts the enrolment for %#v.
func (Enrolment) GoString() string { return "[redacted]" }

// LogValue redacts the enrolment for log/slog.
func (Enrolment) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText redacts the enrolment for encoders; callers that mean to
// send the URI to the person build their own response from the fields.
func (Enrolment) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// NewTOTP creates a TOTP secret of TOTPSecretSize bytes read from rand and
// its key URI (SHA-1, TOTPDigits digits, TOTPPeriod seconds).
//
// issuer names the service (e.g. "Ward Health"). account must be the
// user's opaque id, not a name, e-mail or any other PHI: the label is shown
// in the authenticator app and copied to its cloud backups, outside our
// control. Neither may be empty, contain ':' (the label separator) or
// control characters, or be longer than 100 bytes.
func NewTOTP(issuer, account string, rand io.Reader) (Enrolment, error) {
	if rand == nil {
		// The library would silently fall back to crypto/rand; we want every
		// source of randomness to be explicit.
		return Enrolment{}, errors.New("mfa: new TOTP: nil random source")
	}
	if !validLabel(issuer) || !validLabel(account) {
		return Enrolment{}, ErrInvalidLabel
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      TOTPPeriod,
		SecretSize:  TOTPSecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Rand:        rand,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("mfa: new TOTP: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URI: key.String()}, nil
}

// VerifyTOTP checks a code typed by the user against secret at time now,
// accepting the current time step and one step either side. It returns the
// time step (Unix seconds / TOTPPeriod) the code matched.
//
// Replay protection is a contract with the caller: lastStep is the step
// VerifyTOTP last returned for this user (0 if none), and any step at or
// before it is refused with ErrReplayed, so a code works once and an older
// code cannot follow a newer one. On success the caller must store the
// returned step with the user record atomically, as a compare-and-swap on
// the lastStep it read (e.g. UPDATE … SET totp_step = ? WHERE id = ? AND
// totp_step = ?), and treat a lost race as ErrReplayed; otherwise two
// concurrent requests could both spend one code. The caller must also
// rate-limit attempts: three of the 10⁶ codes are valid at any moment.
//
// code must be exactly TOTPDigits ASCII digits; anything else (including
// surrounding spaces) is ErrInvalidCode before any computation. A code that
// matches no step is ErrInvalidCode. A damaged secret is ErrInvalidSecret.
func VerifyTOTP(secret string, code string, now time.Time, lastStep int64) (step int64, err error) {
	if !sixDigits(code) {
		return 0, ErrInvalidCode
	}
	if err := checkSecret(secret); err != nil {
		return 0, err
	}
	current := stepAt(now)
	matched, replayed := int64(-1), false
	// Every step in the window is computed and compared, whatever matched
	// earlier, so timing does not depend on which step (if any) matched.
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		s := current + d
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(s), hotp.ValidateOpts{
			Digits:    otp.DigitsSix,
			Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, fmt.Errorf("mfa: compute TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if s <= lastStep {
			replayed = true
			continue
		}
		// Steps rise with d, so this keeps the latest fresh match, which
		// moves lastStep furthest and refuses the most.
		matched = s
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed:
		return 0, ErrReplayed
	default:
		return 0, ErrInvalidCode
	}
}

// stepAt is the RFC 6238 time step T = floor(Unix time / period).
func stepAt(now time.Time) int64 {
	u := now.Unix()
	s := u / TOTPPeriod
	if u%TOTPPeriod < 0 {
		s--
	}
	return s
}

// sixDigits reports whether code is exactly TOTPDigits bytes of '0'–'9'.
// Byte length rules out non-ASCII digits such as fullwidth ones.
func sixDigits(code string) bool {
	if len(code) != TOTPDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// checkSecret accepts only what NewTOTP produces: upper-case base32 without
// padding, of at least 128 bits.
func checkSecret(secret string) error {
	if strings.ContainsAny(secret, "\r\n") {
		// The base32 decoder skips newlines; a stored secret never has them.
		return ErrInvalidSecret
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil || len(b) < minSecretSize {
		return ErrInvalidSecret
	}
	return nil
}

// validLabel reports whether s can be an issuer or account in a key URI.
func validLabel(s string) bool {
	if s == "" || len(s) > maxLabelLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ':' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}
