package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Single sign-on: staff may sign in through their tenant's OpenID Connect
// provider (internal/auth/sso runs the protocol, the API the browser
// flow). The provider's person is linked to a ward account by issuer and
// subject, which the provider never reassigns; an e-mail address can
// change hands, so it links an account only when a provider is configured
// to allow it, the provider says it verified the address, and exactly one
// staff account of the tenant has it. Accounts are never created from a
// provider's claims: an administrator creates (or invites) them first.

// SSOTTL is how long a sign-in at a provider may take, from the redirect
// to the provider to its callback.
const SSOTTL = 10 * time.Minute

// ssoBindingPrefix makes a leaked binding value recognisable.
const ssoBindingPrefix = "ward_sso_"

// Bounds on what a provider or a browser sends: OpenID Connect limits a
// subject to 255 ASCII characters; an issuer is a URL.
const (
	maxIssuer  = 512
	maxSubject = 255
	maxState   = 256
)

// ErrSSO means a sign-in through an identity provider failed. It never
// says why: an unlinked subject, a disabled, locked or patient account,
// several accounts with the e-mail address, or a sign-in that is
// unknown, expired, already finished or begun in another browser look
// alike.
var ErrSSO = errors.New("identity: sign-in with the identity provider failed")

// ErrLinked means a link cannot be made: the subject is linked to an
// account already, or the account has another subject at that issuer.
var ErrLinked = errors.New("identity: already linked: the subject is linked to an account, or the account has another subject at that issuer; unlink it first")

// SSORefused is ErrSSO naming the account it concerned, for the audit
// trail. Never show it to the person signing in.
type SSORefused struct{ PersonID string }

func (e *SSORefused) Error() string        { return ErrSSO.Error() }
func (e *SSORefused) Is(target error) bool { return target == ErrSSO }

// SSOLink ties an account to a person at an identity provider.
type SSOLink struct {
	Issuer   string
	Subject  string
	PersonID string
	Created  time.Time
}

// SSOStart is a sign-in at an identity provider in progress, kept by the
// SHA-256 of its OpenID Connect state until the provider sends the
// browser back. String and GoString redact its secrets.
type SSOStart struct {
	StateHash []byte
	// BindingHash is the SHA-256 of the binding value given to the
	// browser that began the sign-in (see BeginSSO).
	BindingHash []byte
	Tenant      string
	Provider    string // the provider's name in the tenant's configuration
	Nonce       string
	Verifier    string // the PKCE code verifier
	Expires     time.Time
}

func (SSOStart) String() string   { return "identity.SSOStart{[redacted]}" }
func (SSOStart) GoString() string { return "identity.SSOStart{[redacted]}" }

// BeginSSO keeps the secrets of a sign-in at provider of tenant (state,
// nonce and PKCE verifier, from internal/auth/sso) for SSOTTL and
// returns the binding value for the browser that began it (the API
// keeps it in a cookie; BeginSSO keeps only its hash). Only the state's
// hash is kept as the key.
func (s *Service) BeginSSO(ctx context.Context, tenant, provider, state, nonce, verifier string) (Token, error) {
	if tenant == "" || provider == "" || state == "" || len(state) > maxState || nonce == "" || verifier == "" {
		return "", fmt.Errorf("%w: incomplete sign-in", ErrInvalid)
	}
	b, err := s.newToken(ssoBindingPrefix)
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	st := SSOStart{StateHash: hashToken(state), BindingHash: hashToken(b.Reveal()), Tenant: tenant, Provider: provider,
		Nonce: nonce, Verifier: verifier, Expires: now.Add(SSOTTL)}
	if err := s.st.PutSSOStart(ctx, st, now); err != nil {
		return "", err
	}
	return b, nil
}

// TakeSSO ends the sign-in with that state, begun at provider of tenant
// by the browser holding binding, and returns its nonce and verifier.
// The sign-in is gone whatever the outcome, so a state works once. Every
// failure is ErrSSO.
func (s *Service) TakeSSO(ctx context.Context, tenant, provider, state, binding string) (nonce, verifier string, err error) {
	if state == "" || len(state) > maxState {
		return "", "", ErrSSO
	}
	st, err := s.st.TakeSSOStart(ctx, hashToken(state))
	if errors.Is(err, ErrNotFound) {
		return "", "", ErrSSO
	}
	if err != nil {
		return "", "", err
	}
	bound := strings.HasPrefix(binding, ssoBindingPrefix) && len(binding) <= 128 &&
		subtle.ConstantTimeCompare(hashToken(binding), st.BindingHash) == 1
	if !bound || st.Tenant != tenant || st.Provider != provider || !s.now().Before(st.Expires) {
		return "", "", ErrSSO
	}
	return st.Nonce, st.Verifier, nil
}

// LinkSSO links account personID to the person with subject at the
// provider issuer, under the rules of Create. Only staff accounts of a
// tenant can be linked: not patients, personal representatives or
// super-admins. ErrLinked if the subject is linked already, or the
// account has another subject at that issuer.
func (s *Service) LinkSSO(ctx context.Context, by Actor, personID, issuer, subject string) error {
	p, err := s.managed(ctx, by, personID)
	if err != nil {
		return err
	}
	if !linkable(p) {
		return fmt.Errorf("%w: only staff accounts of a tenant sign in through an identity provider (not patients, personal representatives or super-admins)", ErrInvalid)
	}
	if err := validSSOName("issuer", issuer, maxIssuer); err != nil {
		return err
	}
	if err := validSSOName("subject", subject, maxSubject); err != nil {
		return err
	}
	err = s.st.CreateSSOLink(ctx, SSOLink{Issuer: issuer, Subject: subject, PersonID: p.ID, Created: s.now().UTC()})
	if errors.Is(err, ErrExists) {
		return ErrLinked
	}
	return err
}

// UnlinkSSO removes account personID's link to subject at issuer (subject
// "": every link of the account at issuer), under the rules of Create,
// and returns how many it removed; ErrNotFound if none.
func (s *Service) UnlinkSSO(ctx context.Context, by Actor, personID, issuer, subject string) (int, error) {
	if _, err := s.managed(ctx, by, personID); err != nil {
		return 0, err
	}
	n, err := s.st.DeleteSSOLinks(ctx, personID, issuer, subject)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("unlink: %w", ErrNotFound)
	}
	return n, nil
}

// SignInExternal signs in the person a provider of tenant authenticated
// as subject at issuer. The account is the one linked to them; failing
// that, with linkByEmail, and when the provider verified email, the only
// enabled staff account of the tenant with that address, which is then
// linked (SignIn.Linked). The account must be enabled, of tenant, staff
// and not locked.
//
// With mfa (the provider asserted multi-factor authentication and the
// tenant trusts it) the session opens at once (Opened.Token is set);
// otherwise the sign-in continues with ward's own second factor
// (StepTOTP, or StepEnroll without one; never StepPassword, since the
// provider checked the password). Every failure is ErrSSO (an
// *SSORefused when an account was found).
func (s *Service) SignInExternal(ctx context.Context, tenant, issuer, subject, email string, emailVerified, mfa, linkByEmail bool) (SignIn, Opened, error) {
	if tenant == "" || issuer == "" || subject == "" || len(issuer) > maxIssuer || len(subject) > maxSubject {
		return SignIn{}, Opened{}, ErrSSO
	}
	p, linked, err := s.externalPerson(ctx, tenant, issuer, subject, email, emailVerified && linkByEmail)
	if err != nil {
		return SignIn{}, Opened{}, err
	}
	if mfa {
		tok, ses, err := s.StartSession(ctx, p)
		if err != nil {
			return SignIn{}, Opened{}, err
		}
		return SignIn{PersonID: p.ID, Linked: linked}, Opened{Token: tok, Session: ses}, nil
	}
	// The provider checked the password: a one-time password still
	// pending in ward is for password sign-ins only.
	p.MustChangePassword = false
	in, err := s.nextStep(ctx, p)
	if err != nil {
		return SignIn{}, Opened{}, err
	}
	in.Linked = linked
	return in, Opened{}, nil
}

// externalPerson finds the account of subject at issuer for a sign-in at
// tenant, linking it by email when byEmail; linked reports that it did.
func (s *Service) externalPerson(ctx context.Context, tenant, issuer, subject, email string, byEmail bool) (p Person, linked bool, err error) {
	l, err := s.st.SSOLink(ctx, issuer, subject)
	switch {
	case err == nil:
		p, err = s.st.Person(ctx, l.PersonID)
		if errors.Is(err, ErrNotFound) {
			return Person{}, false, ErrSSO
		}
		if err != nil {
			return Person{}, false, err
		}
	case !errors.Is(err, ErrNotFound):
		return Person{}, false, err
	case !byEmail:
		return Person{}, false, ErrSSO
	default:
		if p, err = s.soleByEmail(ctx, tenant, email); err != nil {
			return Person{}, false, err
		}
		linked = true
	}
	// Another tenant's account is not named, even in this tenant's trail.
	if p.Tenant != tenant {
		return Person{}, false, ErrSSO
	}
	if p.Disabled || !linkable(p) || s.now().Before(p.LockedUntil) {
		return Person{}, false, &SSORefused{PersonID: p.ID}
	}
	if linked {
		err := s.st.CreateSSOLink(ctx, SSOLink{Issuer: issuer, Subject: subject, PersonID: p.ID, Created: s.now().UTC()})
		if errors.Is(err, ErrExists) {
			// The account has another subject at this issuer, or this
			// subject was linked meanwhile: either way not this one.
			return Person{}, false, &SSORefused{PersonID: p.ID}
		}
		if err != nil {
			return Person{}, false, err
		}
	}
	return p, linked, nil
}

// soleByEmail returns the only enabled staff account of tenant with
// e-mail address email; ErrSSO when there is none or several.
func (s *Service) soleByEmail(ctx context.Context, tenant, email string) (Person, error) {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > maxEmail {
		return Person{}, ErrSSO
	}
	ps, err := s.st.PeopleByEmail(ctx, tenant, email)
	if err != nil {
		return Person{}, err
	}
	var match []Person
	for _, p := range ps {
		if !p.Disabled && linkable(p) {
			match = append(match, p)
		}
	}
	if len(match) != 1 {
		return Person{}, ErrSSO
	}
	return match[0], nil
}

// linkable reports whether p may sign in through a tenant's provider:
// staff of a tenant, not a patient, a representative or a super-admin.
func linkable(p Person) bool {
	return p.Tenant != "" && p.Role != RolePatient && p.Role != RolePersonalRepresentative && p.Role != RoleSuperAdmin
}

// validSSOName checks an issuer or subject given to LinkSSO.
func validSSOName(what, v string, limit int) error {
	if v == "" || len(v) > limit || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%w: %s must be 1 to %d printable characters without spaces", ErrInvalid, what, limit)
	}
	return nil
}
