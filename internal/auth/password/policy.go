package password

import (
	"errors"
	"fmt"
	"time"
)

// Preset names.
const (
	// HIPAA is the default: 8 to 128 characters with an upper-case letter,
	// a digit and a symbol, 180-day maximum age.
	HIPAA = "hipaa"
	// NIST follows NIST SP 800-63B: no composition rules, 15 characters
	// without MFA and 8 with it, no forced expiry.
	NIST = "nist"
)

// ErrPolicy reports a Policy that cannot be enforced.
var ErrPolicy = errors.New("invalid password policy")

// Policy says which passwords are accepted and how long they last.
// Lengths count characters (runes) after NFKC normalisation. Both presets
// also refuse common passwords, personal information, repeated patterns and
// invalid input; those rules cannot be turned off.
type Policy struct {
	Preset         string        // name of the preset this was made from
	MinLen         int           // minimum length without MFA
	MinLenMFA      int           // minimum length when the person has MFA; 0 means MinLen
	MaxLen         int           // maximum length, at most MaxRunes
	RequireUpper   bool          // at least one upper-case letter
	RequireDigit   bool          // at least one decimal digit
	RequireSpecial bool          // at least one character that is neither letter nor digit
	MinScore       int           // minimum zxcvbn score, 0..4
	History        int           // number of previous passwords that may not be reused
	MaxAge         time.Duration // 0: passwords never expire
	WarnBefore     time.Duration // how long before expiry to warn
}

// Preset returns the named policy: "hipaa" (also for ""), or "nist".
func Preset(name string) (Policy, error) {
	switch name {
	case HIPAA, "":
		return Policy{
			Preset: HIPAA, MinLen: 8, MaxLen: MaxRunes,
			RequireUpper: true, RequireDigit: true, RequireSpecial: true,
			MinScore: 3, History: 12,
			MaxAge: 180 * 24 * time.Hour, WarnBefore: 14 * 24 * time.Hour,
		}, nil
	case NIST:
		return Policy{
			Preset: NIST, MinLen: 15, MinLenMFA: 8, MaxLen: MaxRunes,
			MinScore: 3, History: 12,
		}, nil
	}
	return Policy{}, fmt.Errorf("%w: unknown preset %q (want %q or %q)", ErrPolicy, name, HIPAA, NIST)
}

// Validate reports whether p can be enforced.
func (p Policy) Validate() error {
	switch {
	case p.MinLen < 1 || p.MinLen > p.MaxLen:
		return fmt.Errorf("%w: MinLen %d not in 1..MaxLen", ErrPolicy, p.MinLen)
	case p.MinLenMFA < 0 || p.MinLenMFA > p.MaxLen:
		return fmt.Errorf("%w: MinLenMFA %d not in 0..MaxLen", ErrPolicy, p.MinLenMFA)
	case p.MaxLen > MaxRunes:
		return fmt.Errorf("%w: MaxLen %d over %d", ErrPolicy, p.MaxLen, MaxRunes)
	case p.MinScore < 0 || p.MinScore > 4:
		return fmt.Errorf("%w: MinScore %d not in 0..4", ErrPolicy, p.MinScore)
	case p.History < 0 || p.History > 100:
		return fmt.Errorf("%w: History %d not in 0..100", ErrPolicy, p.History)
	case p.MaxAge < 0 || p.WarnBefore < 0 || (p.MaxAge > 0 && p.WarnBefore >= p.MaxAge):
		return fmt.Errorf("%w: need 0 <= WarnBefore < MaxAge", ErrPolicy)
	}
	return nil
}

// minLen returns the minimum length that applies to who.
func (p Policy) minLen(who Person) int {
	if who.HasMFA && p.MinLenMFA > 0 {
		return p.MinLenMFA
	}
	return p.MinLen
}

// Expiry tells, for a password last changed at changedAt, whether it has
// expired at now, whether the holder should be warned (it expires within
// WarnBefore), and when it expires. With MaxAge 0 nothing expires and
// expiresAt is the zero time.
func (p Policy) Expiry(changedAt, now time.Time) (expired, warn bool, expiresAt time.Time) {
	if p.MaxAge <= 0 {
		return false, false, time.Time{}
	}
	expiresAt = changedAt.Add(p.MaxAge)
	if !now.Before(expiresAt) {
		return true, false, expiresAt
	}
	return false, !now.Before(expiresAt.Add(-p.WarnBefore)), expiresAt
}
