package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/auth/mfa"
)

// Sign-in runs in steps. Login checks the password and returns the next
// step with a short-lived challenge token; each step consumes its
// challenge and, unless it opens the session, returns a new one:
//
//	Login ─▶ StepPassword (one-time password: set a new one)
//	      ─▶ StepEnroll   (no second factor: enrol TOTP, confirm a code)
//	      ─▶ StepTOTP     (a code, or a recovery code) ─▶ session
//
// MFA is required for everyone; nobody can skip enrolment.

// Step names what a sign-in needs next.
type Step string

// Steps.
const (
	StepPassword Step = "password_change_required"
	StepEnroll   Step = "mfa_enrollment_required"
	StepTOTP     Step = "mfa_required"
)

// ChallengeTTL is how long a step may take.
const ChallengeTTL = 5 * time.Minute

// challengePrefix makes a leaked challenge token recognisable.
const challengePrefix = "ward_chl_"

// Challenge is a sign-in in progress, kept by the SHA-256 of its token.
type Challenge struct {
	Hash     []byte
	PersonID string
	Step     Step
	Expires  time.Time
}

// SignIn is the outcome of a step that does not yet open a session.
type SignIn struct {
	Step     Step
	Token    Token  // the challenge of the next step
	PersonID string // for the audit trail
	// Factors lists what can answer the next step: "totp", "webauthn"
	// and (at StepTOTP) "recovery".
	Factors []string
	// PasswordExpires is set, at the password step of Login, when the
	// password expires soon (the policy's warning period).
	PasswordExpires time.Time
	// Linked is set when SignInExternal linked the account to the
	// provider's person by e-mail address, for the audit trail.
	Linked bool
}

// ErrChallenge means a challenge token is unknown, expired, already used
// or for another step: the sign-in must start again.
var ErrChallenge = errors.New("identity: sign-in step expired or out of order; sign in again")

// Login checks a username and password (CheckPassword) and starts the
// sign-in.
func (s *Service) Login(ctx context.Context, tenant, username, pw string) (SignIn, error) {
	p, err := s.CheckPassword(ctx, tenant, username, pw)
	if err != nil {
		return SignIn{}, err
	}
	// A password past the policy's maximum age must be replaced now; one
	// close to it is announced.
	expired, warn, at := s.check.Policy().Expiry(p.PasswordChanged, s.now())
	if expired {
		p.MustChangePassword = true
	}
	in, err := s.nextStep(ctx, p)
	if warn && !expired {
		in.PasswordExpires = at
	}
	return in, err
}

// nextStep issues the challenge for what p still needs.
func (s *Service) nextStep(ctx context.Context, p Person) (SignIn, error) {
	step := StepTOTP
	switch has, err := s.HasMFA(ctx, p.ID); {
	case err != nil:
		return SignIn{}, err
	case p.MustChangePassword:
		step = StepPassword
	case !has:
		step = StepEnroll
	}
	tok, err := s.newToken(challengePrefix)
	if err != nil {
		return SignIn{}, err
	}
	c := Challenge{Hash: hashToken(tok.Reveal()), PersonID: p.ID, Step: step, Expires: s.now().UTC().Add(ChallengeTTL)}
	if err := s.st.CreateChallenge(ctx, c); err != nil {
		return SignIn{}, err
	}
	factors, err := s.factors(ctx, p, step)
	if err != nil {
		return SignIn{}, err
	}
	return SignIn{Step: step, Token: tok, PersonID: p.ID, Factors: factors}, nil
}

// factors lists what can answer step for p.
func (s *Service) factors(ctx context.Context, p Person, step Step) ([]string, error) {
	switch step {
	case StepEnroll:
		if s.passkeys != nil {
			return []string{"totp", "webauthn"}, nil
		}
		return []string{"totp"}, nil
	case StepTOTP:
		var out []string
		m, err := s.st.MFA(ctx, p.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if len(m.SealedSecret) > 0 {
			out = append(out, "totp")
		}
		keys, err := s.st.Passkeys(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 && s.passkeys != nil {
			out = append(out, "webauthn")
		}
		return append(out, "recovery"), nil
	}
	return nil, nil
}

// challenge returns the person of a live challenge for one of steps.
func (s *Service) challenge(ctx context.Context, token string, steps ...Step) (Challenge, Person, error) {
	if !strings.HasPrefix(token, challengePrefix) || len(token) > 128 {
		return Challenge{}, Person{}, ErrChallenge
	}
	c, err := s.st.Challenge(ctx, hashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Challenge{}, Person{}, ErrChallenge
	}
	if err != nil {
		return Challenge{}, Person{}, err
	}
	ok := false
	for _, st := range steps {
		ok = ok || c.Step == st
	}
	if !ok || !s.now().Before(c.Expires) {
		return Challenge{}, Person{}, ErrChallenge
	}
	p, err := s.st.Person(ctx, c.PersonID)
	if err != nil || p.Disabled {
		return Challenge{}, Person{}, ErrChallenge
	}
	return c, p, nil
}

// consume deletes a challenge; only one request can.
func (s *Service) consume(ctx context.Context, c Challenge) error {
	ok, err := s.st.DeleteChallenge(ctx, c.Hash)
	if err != nil {
		return err
	}
	if !ok {
		return ErrChallenge
	}
	return nil
}

// PersonOf returns the account a challenge belongs to, for the audit
// trail of a failed step; ErrChallenge if it is not live.
func (s *Service) PersonOf(ctx context.Context, token string) (Person, error) {
	_, p, err := s.challenge(ctx, token, StepPassword, StepEnroll, StepTOTP)
	return p, err
}

// StepOf returns the step a live challenge is at; ErrChallenge if none.
func (s *Service) StepOf(ctx context.Context, token string) (Step, error) {
	c, _, err := s.challenge(ctx, token, StepPassword, StepEnroll, StepTOTP)
	return c.Step, err
}

// NewPassword completes StepPassword: it sets the person's own password
// under the policy (a *password.Violation error keeps the challenge, so
// they can try another) and moves on.
func (s *Service) NewPassword(ctx context.Context, token, next string) (SignIn, error) {
	c, p, err := s.challenge(ctx, token, StepPassword)
	if err != nil {
		return SignIn{}, err
	}
	if err := s.setPassword(ctx, p, next); err != nil {
		return SignIn{}, err
	}
	if err := s.consume(ctx, c); err != nil {
		return SignIn{}, err
	}
	p.MustChangePassword = false
	return s.nextStep(ctx, p)
}

// BeginEnrolment returns a new TOTP secret for a person at StepEnroll, to
// show once.
func (s *Service) BeginEnrolment(ctx context.Context, token string) (mfa.Enrolment, error) {
	_, p, err := s.challenge(ctx, token, StepEnroll)
	if err != nil {
		return mfa.Enrolment{}, err
	}
	return s.EnrollTOTP(ctx, p)
}

// Opened is a completed sign-in.
type Opened struct {
	Token         Token // the session's
	Session       Session
	RecoveryCodes []string // at enrolment only: show once
	RecoveryLeft  int      // after a recovery code (FinishRecovery): how many are left
}

// FinishTOTP completes StepEnroll (confirming the enrolment) or StepTOTP
// with a code from the authenticator and opens the session. A wrong code
// keeps the challenge and counts towards the lockout.
func (s *Service) FinishTOTP(ctx context.Context, token, code string) (Opened, error) {
	c, p, err := s.challenge(ctx, token, StepEnroll, StepTOTP)
	if err != nil {
		return Opened{}, err
	}
	var o Opened
	if c.Step == StepEnroll {
		o.RecoveryCodes, err = s.ConfirmTOTP(ctx, p, code)
	} else {
		err = s.VerifyTOTP(ctx, p, code)
	}
	if err != nil {
		return Opened{}, err
	}
	return s.open(ctx, c, p, o)
}

// FinishRecovery completes StepTOTP with a recovery code.
func (s *Service) FinishRecovery(ctx context.Context, token, code string) (Opened, error) {
	c, p, err := s.challenge(ctx, token, StepTOTP)
	if err != nil {
		return Opened{}, err
	}
	left, err := s.UseRecoveryCode(ctx, p, code)
	if err != nil {
		return Opened{}, err
	}
	return s.open(ctx, c, p, Opened{RecoveryLeft: left})
}

func (s *Service) open(ctx context.Context, c Challenge, p Person, o Opened) (Opened, error) {
	if err := s.consume(ctx, c); err != nil {
		return Opened{}, err
	}
	tok, ses, err := s.StartSession(ctx, p)
	if err != nil {
		return Opened{}, err
	}
	o.Token, o.Session = tok, ses
	return o, nil
}
