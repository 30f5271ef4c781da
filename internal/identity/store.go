package identity

import (
	"context"
	"time"
)

// Store keeps accounts; the database backends implement it. It returns
// ErrNotFound and ErrExists (wrapped) as documented.
type Store interface {
	// CreatePerson stores a new account; ErrExists if its id, or its
	// username in its tenant, is taken.
	CreatePerson(ctx context.Context, p Person) error
	// Person returns the account with that id, or ErrNotFound.
	Person(ctx context.Context, id string) (Person, error)
	// PersonByUsername returns the account with that (normalised)
	// username in tenant ("" for super-admins), or ErrNotFound.
	PersonByUsername(ctx context.Context, tenant, username string) (Person, error)
	// People lists a tenant's accounts ("" for super-admins), oldest first.
	People(ctx context.Context, tenant string) ([]Person, error)
	// SetPersonDisabled disables or enables an account; ErrNotFound if
	// absent.
	SetPersonDisabled(ctx context.Context, id string, disabled bool) error
	// SetPassword replaces an account's password hash and history;
	// ErrNotFound if absent.
	SetPassword(ctx context.Context, id, hash string, history []string, changed time.Time, mustChange bool) error
	// SetRole changes an account's role; ErrNotFound if absent.
	SetRole(ctx context.Context, id, role string) error
	// SetFHIRUser sets the FHIR resource an account stands for ("" to
	// unlink); ErrNotFound if absent, ErrExists if another account of the
	// tenant stands for it.
	SetFHIRUser(ctx context.Context, id, ref string) error
	// SetPIN replaces an account's PIN hash ("" removes it); ErrNotFound
	// if absent.
	SetPIN(ctx context.Context, id, hash string) error
	// RecordLogin counts a failed sign-in (ok false), locking the account
	// until lockUntil once the failures in a row reach lockAt, or clears
	// the count and the lock (ok true). It returns the failures in a row;
	// ErrNotFound if the account is absent.
	RecordLogin(ctx context.Context, personID string, ok bool, lockAt int, lockUntil time.Time) (int, error)
	// UnlockPerson clears an account's failures and lock.
	UnlockPerson(ctx context.Context, personID string) error

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with that token hash, or ErrNotFound.
	Session(ctx context.Context, hash []byte) (Session, error)
	// Sessions lists a person's sessions, oldest first.
	Sessions(ctx context.Context, personID string) ([]Session, error)
	// TouchSession records a use of the session at seen (never moving
	// back); ErrNotFound if it is gone.
	TouchSession(ctx context.Context, hash []byte, seen time.Time) error
	// LockSession marks an active session locked by its idle timeout at
	// at; ErrNotFound if it is gone.
	LockSession(ctx context.Context, hash []byte, at time.Time) error
	// ResumeFailed counts a wrong answer to resume the session and
	// returns the count; ErrNotFound if it is gone.
	ResumeFailed(ctx context.Context, hash []byte) (int, error)
	// ResumeSession unlocks the session, clears its failures and records
	// a use at seen; ErrNotFound if it is gone.
	ResumeSession(ctx context.Context, hash []byte, seen time.Time) error
	// StepUpSession records a step-up of the session at at; ErrNotFound
	// if it is gone.
	StepUpSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteSessions deletes a person's sessions: all of them (hash nil),
	// the one with hash, or all but it (except). It returns how many.
	DeleteSessions(ctx context.Context, personID string, hash []byte, except bool) (int, error)

	// MFA returns a person's second factors, or ErrNotFound.
	MFA(ctx context.Context, personID string) (MFA, error)
	// PutMFA replaces a person's second factors.
	PutMFA(ctx context.Context, m MFA) error
	// UpdateMFA replaces the step, confirmation and recovery hashes only
	// if the stored record still equals old; ErrConflict otherwise.
	UpdateMFA(ctx context.Context, old, next MFA) error
	// DeleteMFA removes a person's second factors, passkeys included.
	DeleteMFA(ctx context.Context, personID string) error

	// CreateChallenge stores a sign-in challenge.
	CreateChallenge(ctx context.Context, c Challenge) error
	// Challenge returns the challenge with that token hash, or
	// ErrNotFound.
	Challenge(ctx context.Context, hash []byte) (Challenge, error)
	// DeleteChallenge deletes it and reports whether it was there.
	DeleteChallenge(ctx context.Context, hash []byte) (bool, error)

	// CreateInvitation stores an invitation.
	CreateInvitation(ctx context.Context, inv Invitation) error
	// Invitation returns the invitation with that token hash, or
	// ErrNotFound.
	Invitation(ctx context.Context, hash []byte) (Invitation, error)
	// RedeemInvitation creates account p and marks the invitation used
	// by it at at, in one transaction: ErrNotFound if the invitation is
	// gone, used or expired by at; ErrExists if the username is taken.
	RedeemInvitation(ctx context.Context, hash []byte, at time.Time, p Person) error

	// AddPasskey registers a passkey; ErrExists if its credential id is
	// registered already (to anyone).
	AddPasskey(ctx context.Context, k Passkey) error
	// Passkeys lists a person's passkeys, oldest first.
	Passkeys(ctx context.Context, personID string) ([]Passkey, error)
	// UpdatePasskey stores a passkey's data after a use; ErrNotFound if
	// it is gone.
	UpdatePasskey(ctx context.Context, credentialID, data []byte, used time.Time) error
	// PutCeremony stores a WebAuthn ceremony, replacing one of the same
	// owner and purpose.
	PutCeremony(ctx context.Context, c Ceremony) error
	// TakeCeremony deletes and returns the ceremony of owner and
	// purpose, or ErrNotFound; only one caller gets it.
	TakeCeremony(ctx context.Context, owner []byte, purpose Purpose) (Ceremony, error)

	// PeopleByEmail lists a tenant's accounts whose e-mail address is
	// email, compared without regard to ASCII case.
	PeopleByEmail(ctx context.Context, tenant, email string) ([]Person, error)
	// SSOLink returns the link of subject at issuer, or ErrNotFound.
	SSOLink(ctx context.Context, issuer, subject string) (SSOLink, error)
	// CreateSSOLink stores a link; ErrExists if the subject is linked
	// already, or the account has a link at that issuer.
	CreateSSOLink(ctx context.Context, l SSOLink) error
	// DeleteSSOLinks deletes the account's link to subject at issuer
	// (subject "": all its links at issuer) and returns how many.
	DeleteSSOLinks(ctx context.Context, personID, issuer, subject string) (int, error)
	// PutSSOStart stores a sign-in at a provider in progress and deletes
	// those expired by now.
	PutSSOStart(ctx context.Context, st SSOStart, now time.Time) error
	// TakeSSOStart deletes and returns the sign-in with that state hash,
	// or ErrNotFound; only one caller gets it.
	TakeSSOStart(ctx context.Context, stateHash []byte) (SSOStart, error)
}
