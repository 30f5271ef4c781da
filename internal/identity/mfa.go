package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/auth/mfa"
)

// MFA is a person's second factors: a TOTP authenticator and recovery
// codes (passkeys are kept apart, see Passkey). There is no SMS factor.
type MFA struct {
	PersonID string
	// SealedSecret is the TOTP secret sealed by the Sealer, bound to the
	// account id; empty when the first factor enrolled was a passkey.
	SealedSecret []byte
	// Confirmed is set once a code from the authenticator was accepted:
	// until then the enrolment is pending and signs nobody in.
	Confirmed bool
	Step      int64    // last accepted TOTP time step: earlier codes are refused
	Recovery  []string // hashes of the unused recovery codes
	Updated   time.Time
}

// Sealer encrypts second-factor secrets at rest, per tenant ("" for
// super-admins); the app adapts the keyring.
type Sealer interface {
	Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error)
}

// Errors of the second-factor steps.
var (
	// ErrBadCode means a TOTP or recovery code was wrong, reused or
	// malformed, or the account is locked; it never says which.
	ErrBadCode = errors.New("identity: wrong or already used code")
	// ErrNoMFA means the account has no confirmed second factor.
	ErrNoMFA = errors.New("identity: no second factor enrolled")
	// ErrConflict means the record changed concurrently.
	ErrConflict = errors.New("identity: changed concurrently")
)

// totpIssuer names ward in authenticator apps. The account label is the
// user id, never a name or e-mail address.
const totpIssuer = "ward"

func totpAAD(personID string) []byte { return []byte("totp:" + personID) }

// EnrollTOTP starts (or restarts) TOTP enrolment for p and returns the
// secret and otpauth:// URI to show once, as text and QR code. It does
// not count until ConfirmTOTP. An account with a confirmed factor must
// have it reset by an administrator first (ResetMFA).
func (s *Service) EnrollTOTP(ctx context.Context, p Person) (mfa.Enrolment, error) {
	if s.sealer == nil {
		return mfa.Enrolment{}, errors.New("identity: no key to seal second factors with")
	}
	m, err := s.st.MFA(ctx, p.ID)
	switch {
	case err == nil && m.Confirmed:
		return mfa.Enrolment{}, fmt.Errorf("%w: a second factor is enrolled; an administrator must reset it first", ErrForbidden)
	case err != nil && !errors.Is(err, ErrNotFound):
		return mfa.Enrolment{}, err
	}
	e, err := mfa.NewTOTP(totpIssuer, p.ID, s.rand)
	if err != nil {
		return mfa.Enrolment{}, err
	}
	sealed, err := s.sealer.Seal(ctx, p.Tenant, []byte(e.Secret), totpAAD(p.ID))
	if err != nil {
		return mfa.Enrolment{}, err
	}
	err = s.st.PutMFA(ctx, MFA{PersonID: p.ID, SealedSecret: sealed, Updated: s.now().UTC()})
	if err != nil {
		return mfa.Enrolment{}, err
	}
	return e, nil
}

// ConfirmTOTP completes enrolment with a code from the authenticator and
// returns ten recovery codes, to show once.
func (s *Service) ConfirmTOTP(ctx context.Context, p Person, code string) ([]string, error) {
	m, err := s.st.MFA(ctx, p.ID)
	if errors.Is(err, ErrNotFound) || err == nil && m.Confirmed {
		return nil, fmt.Errorf("%w: no pending enrolment", ErrForbidden)
	}
	if err != nil {
		return nil, err
	}
	step, err := s.checkTOTP(ctx, p, m, code)
	if err != nil {
		return nil, err
	}
	codes, hashes, err := mfa.NewRecoveryCodes(s.rand)
	if err != nil {
		return nil, err
	}
	next := m
	next.Step, next.Confirmed, next.Recovery, next.Updated = step, true, hashes, s.now().UTC()
	if err := s.st.UpdateMFA(ctx, m, next); err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifyTOTP checks a sign-in code of p's confirmed authenticator. A code
// works once. Wrong codes count against the account like wrong passwords
// (see CheckPassword), so six-digit codes cannot be guessed.
func (s *Service) VerifyTOTP(ctx context.Context, p Person, code string) error {
	m, err := s.confirmed(ctx, p.ID)
	if err != nil {
		return err
	}
	step, err := s.checkTOTP(ctx, p, m, code)
	if err != nil {
		return err
	}
	next := m
	next.Step = step
	return s.spend(ctx, m, next)
}

// UseRecoveryCode signs p in with one of their recovery codes, which then
// stops working. It returns how many are left.
func (s *Service) UseRecoveryCode(ctx context.Context, p Person, code string) (int, error) {
	m, err := s.confirmed(ctx, p.ID)
	if err != nil {
		return 0, err
	}
	if err := s.unlocked(ctx, p.ID); err != nil {
		return 0, err
	}
	rest, err := mfa.UseRecoveryCode(code, m.Recovery)
	if err != nil {
		return 0, s.failCode(ctx, p.ID, err)
	}
	next := m
	next.Recovery = rest
	if err := s.spend(ctx, m, next); err != nil {
		return 0, err
	}
	return len(rest), nil
}

// confirmed returns account id's second factors if they are confirmed,
// ErrNoMFA otherwise.
func (s *Service) confirmed(ctx context.Context, id string) (MFA, error) {
	m, err := s.st.MFA(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && !m.Confirmed {
		return MFA{}, ErrNoMFA
	}
	return m, err
}

// spend stores next in place of m, which a code just used: if another
// request changed m first (it used this code, or a later one), the code
// counts as used and ErrBadCode is returned.
func (s *Service) spend(ctx context.Context, m, next MFA) error {
	next.Updated = s.now().UTC()
	err := s.st.UpdateMFA(ctx, m, next)
	if errors.Is(err, ErrConflict) {
		return ErrBadCode
	}
	return err
}

// HasMFA reports whether account id has a confirmed second factor.
func (s *Service) HasMFA(ctx context.Context, id string) (bool, error) {
	m, err := s.st.MFA(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && m.Confirmed, err
}

// ResetMFA removes an account's second factors, under the rules of
// Create, and ends its sessions: the next sign-in enrols anew.
func (s *Service) ResetMFA(ctx context.Context, by Actor, id string) error {
	if _, err := s.managed(ctx, by, id); err != nil {
		return err
	}
	if err := s.st.DeleteMFA(ctx, id); err != nil {
		return err
	}
	_, err := s.st.DeleteSessions(ctx, id, nil, false)
	return err
}

// checkTOTP verifies code against m's secret, counting a failure against
// the account, and returns the accepted step.
func (s *Service) checkTOTP(ctx context.Context, p Person, m MFA, code string) (int64, error) {
	if s.sealer == nil {
		return 0, errors.New("identity: no key to open second factors with")
	}
	if err := s.unlocked(ctx, p.ID); err != nil {
		return 0, err
	}
	if len(m.SealedSecret) == 0 { // a passkey, not an authenticator app
		return 0, s.failCode(ctx, p.ID, mfa.ErrInvalidCode)
	}
	secret, err := s.sealer.Open(ctx, p.Tenant, m.SealedSecret, totpAAD(p.ID))
	if err != nil {
		return 0, fmt.Errorf("identity: open TOTP secret: %w", err)
	}
	step, err := mfa.VerifyTOTP(string(secret), code, s.now(), m.Step)
	if err != nil {
		return 0, s.failCode(ctx, p.ID, err)
	}
	return step, nil
}

// unlocked returns ErrBadCode while the account is locked.
func (s *Service) unlocked(ctx context.Context, id string) error {
	p, err := s.st.Person(ctx, id)
	if err != nil {
		return err
	}
	if s.now().Before(p.LockedUntil) || p.Disabled {
		return &Refused{PersonID: id, Code: true}
	}
	return nil
}

// failCode counts a wrong code against the account and returns
// ErrBadCode (or the error of a broken stored secret).
func (s *Service) failCode(ctx context.Context, id string, err error) error {
	if !errors.Is(err, mfa.ErrInvalidCode) && !errors.Is(err, mfa.ErrReplayed) {
		return err
	}
	p, perr := s.st.Person(ctx, id)
	if perr != nil {
		return perr
	}
	err = s.countFailure(ctx, p)
	if r, ok := err.(*Refused); ok {
		r.Code = true
	}
	return err
}
