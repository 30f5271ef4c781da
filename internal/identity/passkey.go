package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/auth/mfa"
	"github.com/wardhealth/ward/internal/auth/passkey"
)

// WebAuthn passkeys (platform authenticators such as Touch ID, Face ID
// or Windows Hello, and security keys) are a second factor, like TOTP:
// they enrol at first sign-in, sign in after the password, and also
// step a session up or resume a locked one. Every ceremony requires user
// verification (biometrics or the authenticator's PIN).

// Passkey is one registered authenticator of a person.
type Passkey struct {
	CredentialID []byte // unique across accounts
	PersonID     string
	Data         []byte // passkey.Credential.Data: public key and sign counter
	Created      time.Time
	LastUsed     time.Time
}

// Ceremony is a WebAuthn ceremony in progress, owned by a sign-in
// challenge or a session (the hash of its token) and single-use.
type Ceremony struct {
	Owner    []byte
	Purpose  Purpose
	PersonID string
	Data     []byte
	Expires  time.Time
}

// Purpose says what a WebAuthn ceremony is for.
type Purpose string

// Purposes.
const (
	// PurposeEnroll registers a passkey as the first second factor, at
	// the sign-in step StepEnroll (with its challenge token).
	PurposeEnroll Purpose = "enroll"
	// PurposeSignIn signs in with a passkey at StepTOTP (challenge token).
	PurposeSignIn Purpose = "sign-in"
	// PurposeAdd registers another passkey from a session that stepped
	// up within 5 minutes (session token).
	PurposeAdd Purpose = "add"
	// PurposeStepUp steps an active session up (session token).
	PurposeStepUp Purpose = "step-up"
	// PurposeResume resumes an idle-locked session (session token).
	PurposeResume Purpose = "resume"
)

// ErrNoWebAuthn means passkeys are not configured (base_url needs a
// domain name) or the person has none to sign in with.
var ErrNoWebAuthn = errors.New("identity: passkeys are unavailable for this account or deployment")

// ErrCloned means a passkey's signature counter went backwards: the
// authenticator may have been copied. The sign-in is refused; the API
// audits it.
var ErrCloned = errors.New("identity: passkey refused: its counter went backwards, the authenticator may be cloned")

// ceremonyTTL bounds a stored ceremony; the passkey package enforces its
// own (shorter or equal) timeout.
const ceremonyTTL = 10 * time.Minute

// owner is who a ceremony is for: the person, and the sign-in challenge
// or the session whose hash owns the ceremony.
type owner struct {
	p    Person
	hash []byte
	ch   Challenge // PurposeEnroll, PurposeSignIn
	ses  Session   // the others
}

func (s *Service) webauthnOwner(ctx context.Context, purpose Purpose, token string) (owner, error) {
	var o owner
	var err error
	switch purpose {
	case PurposeEnroll, PurposeSignIn:
		step := StepEnroll
		if purpose == PurposeSignIn {
			step = StepTOTP
		}
		o.ch, o.p, err = s.challenge(ctx, token, step)
		o.hash = o.ch.Hash
		return o, err
	case PurposeAdd, PurposeStepUp:
		o.ses, err = s.Authenticate(ctx, token)
		if err == nil && purpose == PurposeAdd && !o.ses.Fresh(s.now()) {
			err = fmt.Errorf("%w: adding a passkey needs a step-up first", ErrForbidden)
		}
	case PurposeResume:
		o.ses, _, err = s.liveSession(ctx, token)
	default:
		return o, fmt.Errorf("%w: unknown WebAuthn purpose", ErrInvalid)
	}
	if err != nil {
		return o, err
	}
	o.hash = o.ses.Hash
	o.p, err = s.activePerson(ctx, o.ses)
	return o, err
}

// webauthnUser is p for the passkey package: the handle is the account
// id (random, never a name or e-mail), the name its username.
func (s *Service) webauthnUser(ctx context.Context, p Person) (passkey.User, error) {
	keys, err := s.st.Passkeys(ctx, p.ID)
	if err != nil {
		return passkey.User{}, err
	}
	u := passkey.User{Handle: []byte(p.ID), Name: p.Username, DisplayName: p.Username}
	for _, k := range keys {
		u.Credentials = append(u.Credentials, passkey.Credential{ID: k.CredentialID, Data: k.Data})
	}
	return u, nil
}

// BeginWebAuthn starts a ceremony for purpose with token (a sign-in
// challenge's or a session's) and returns the options for the browser's
// navigator.credentials.create (registration) or .get (login).
func (s *Service) BeginWebAuthn(ctx context.Context, purpose Purpose, token string) ([]byte, error) {
	if s.passkeys == nil {
		return nil, ErrNoWebAuthn
	}
	o, err := s.webauthnOwner(ctx, purpose, token)
	if err != nil {
		return nil, err
	}
	u, err := s.webauthnUser(ctx, o.p)
	if err != nil {
		return nil, err
	}
	var opts []byte
	var cer passkey.Ceremony
	if purpose == PurposeEnroll || purpose == PurposeAdd {
		opts, cer, err = s.passkeys.BeginRegistration(u)
	} else {
		opts, cer, err = s.passkeys.BeginLogin(u)
	}
	if errors.Is(err, passkey.ErrNoCredentials) {
		return nil, ErrNoWebAuthn
	}
	if err != nil {
		return nil, err
	}
	c := Ceremony{Owner: o.hash, Purpose: purpose, PersonID: o.p.ID, Data: cer, Expires: s.now().UTC().Add(ceremonyTTL)}
	if err := s.st.PutCeremony(ctx, c); err != nil {
		return nil, err
	}
	return opts, nil
}

// WebAuthnResult is what a finished ceremony did.
type WebAuthnResult struct {
	Opened  Opened  // PurposeEnroll, PurposeSignIn: the new session
	Session Session // PurposeStepUp, PurposeResume: the session, stepped up or resumed
}

// FinishWebAuthn completes the ceremony begun for purpose with token,
// with the browser's response. A failed verification counts against the
// account like a wrong code (ErrBadCode); the ceremony is used up either
// way.
func (s *Service) FinishWebAuthn(ctx context.Context, purpose Purpose, token string, response []byte) (WebAuthnResult, error) {
	if s.passkeys == nil {
		return WebAuthnResult{}, ErrNoWebAuthn
	}
	o, err := s.webauthnOwner(ctx, purpose, token)
	if err != nil {
		return WebAuthnResult{}, err
	}
	p := o.p
	c, err := s.st.TakeCeremony(ctx, o.hash, purpose)
	if errors.Is(err, ErrNotFound) || err == nil && (c.PersonID != p.ID || !s.now().Before(c.Expires)) {
		return WebAuthnResult{}, ErrChallenge
	}
	if err != nil {
		return WebAuthnResult{}, err
	}
	if err := s.unlocked(ctx, p.ID); err != nil {
		return WebAuthnResult{}, err
	}
	u, err := s.webauthnUser(ctx, p)
	if err != nil {
		return WebAuthnResult{}, err
	}
	now := s.now().UTC()
	if purpose == PurposeEnroll || purpose == PurposeAdd {
		cred, err := s.passkeys.FinishRegistration(u, c.Data, response)
		if err != nil {
			return WebAuthnResult{}, s.webauthnFailure(ctx, p, err)
		}
		if err := s.st.AddPasskey(ctx, Passkey{CredentialID: cred.ID, PersonID: p.ID, Data: cred.Data, Created: now, LastUsed: now}); err != nil {
			return WebAuthnResult{}, err
		}
		if purpose == PurposeAdd {
			return WebAuthnResult{Session: o.ses}, nil
		}
		opened, err := s.enrolled(ctx, p)
		if err != nil {
			return WebAuthnResult{}, err
		}
		opened, err = s.open(ctx, o.ch, p, opened)
		return WebAuthnResult{Opened: opened}, err
	}
	cred, err := s.passkeys.FinishLogin(u, c.Data, response)
	if err != nil {
		return WebAuthnResult{}, s.webauthnFailure(ctx, p, err)
	}
	if err := s.st.UpdatePasskey(ctx, cred.ID, cred.Data, now); err != nil {
		return WebAuthnResult{}, err
	}
	ses := o.ses
	switch purpose {
	case PurposeSignIn:
		opened, err := s.open(ctx, o.ch, p, Opened{})
		return WebAuthnResult{Opened: opened}, err
	case PurposeStepUp:
		err = s.st.StepUpSession(ctx, ses.Hash, now)
		ses.SteppedUp = now
	default: // PurposeResume
		err = s.st.ResumeSession(ctx, ses.Hash, now)
		ses.Seen, ses.Locked, ses.ResumeFailures = now, time.Time{}, 0
	}
	return WebAuthnResult{Session: ses}, err
}

// enrolled records that p's first second factor is a passkey: a
// confirmed MFA record without a TOTP secret, and ten recovery codes to
// show once.
func (s *Service) enrolled(ctx context.Context, p Person) (Opened, error) {
	codes, hashes, err := mfa.NewRecoveryCodes(s.rand)
	if err != nil {
		return Opened{}, err
	}
	if err := s.st.PutMFA(ctx, MFA{PersonID: p.ID, Confirmed: true, Recovery: hashes, Updated: s.now().UTC()}); err != nil {
		return Opened{}, err
	}
	return Opened{RecoveryCodes: codes}, nil
}

// webauthnFailure maps a failed ceremony: the person's failures count
// towards the lockout; broken stored state is the server's.
func (s *Service) webauthnFailure(ctx context.Context, p Person, err error) error {
	switch {
	case errors.Is(err, passkey.ErrCloned):
		if ferr := s.failCode(ctx, p.ID, mfa.ErrInvalidCode); !errors.As(ferr, new(*Refused)) {
			return ferr
		}
		return fmt.Errorf("%w (%w)", ErrCloned, &Refused{PersonID: p.ID, Code: true})
	case errors.Is(err, passkey.ErrInvalid), errors.Is(err, passkey.ErrExpired):
		return s.failCode(ctx, p.ID, mfa.ErrInvalidCode)
	case errors.Is(err, passkey.ErrMalformed), errors.Is(err, passkey.ErrTooLarge):
		return fmt.Errorf("%w: the WebAuthn response is malformed or too large", ErrInvalid)
	}
	return err
}
