package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/auth/password"
)

// Session lengths and sign-in throttling.
const (
	// DefaultIdle is how long a person's session lasts without use.
	DefaultIdle = 3 * time.Minute
	// DefaultLifetime is a session's absolute lifetime.
	DefaultLifetime = 12 * time.Hour
	// backoffAfter failures in a row lock the account for a second,
	// doubling with each further failure; lockAfter lock it for lockFor.
	backoffAfter = 5
	lockAfter    = 10
	lockFor      = 30 * time.Minute
	// touchEvery is how stale a session's last use may get before a
	// request records it: the idle timeout is exact to within this.
	touchEvery = 5 * time.Second
	// ResumeWindow is how long after its idle timeout a locked session
	// may be resumed (Resume); after that it is over.
	ResumeWindow = 15 * time.Minute
	// resumeTries wrong PINs or passwords end a locked session.
	resumeTries = 5
	// StepUpTTL is how long a step-up (StepUp) keeps a session fresh for
	// sensitive operations.
	StepUpTTL = 5 * time.Minute
)

// SessionTokenPrefix starts every session token, so the API can tell
// them from service tokens and secret scanners can recognise a leaked one.
const SessionTokenPrefix = "ward_ses_"

// Session is a person's signed-in session. It is kept by the SHA-256 of
// its token, never the token.
type Session struct {
	Hash     []byte
	PersonID string
	Tenant   string
	Role     string
	Created  time.Time
	Seen     time.Time // last use
	Expires  time.Time // absolute end
	Idle     time.Duration
	// Locked is when the idle timeout locked the session (zero while it
	// is active); ResumeFailures counts wrong PINs and passwords since.
	Locked         time.Time
	ResumeFailures int
	// SteppedUp is the last step-up (zero if none): see Fresh.
	SteppedUp time.Time
	// FHIRUser and AccountDisabled are the account's (Person.FHIRUser,
	// Person.Disabled), read with the session, not stored with it: a new
	// link or a disabled account takes effect at the next request.
	FHIRUser        string
	AccountDisabled bool
}

// Ref names the session in the audit trail and in session lists without
// revealing its token: the first 8 bytes of its hash, in hex.
func (s Session) Ref() string { return hex.EncodeToString(s.Hash[:8]) }

// Fresh reports whether the session stepped up within StepUpTTL of now,
// as sensitive operations require.
func (s Session) Fresh(now time.Time) bool {
	return !s.SteppedUp.IsZero() && now.Sub(s.SteppedUp) < StepUpTTL && !now.Before(s.SteppedUp)
}

// ErrSessionEnded means a session token is unknown, expired, idle past
// its timeout, or its account is disabled: the person must sign in again.
var ErrSessionEnded = errors.New("identity: session ended; sign in again")

// Expired is ErrSessionEnded for a session that existed and timed out
// (idle or at its absolute end), for the audit trail: it names the
// account. Never show it to the caller.
type Expired struct {
	PersonID string
	Idle     bool // ended by the idle timeout, not the lifetime
}

func (e *Expired) Error() string        { return ErrSessionEnded.Error() }
func (e *Expired) Is(target error) bool { return target == ErrSessionEnded }

// ErrSessionLocked means the session passed its idle timeout and is
// locked: within ResumeWindow the person may Resume it with their
// password or PIN; after that it ends.
var ErrSessionLocked = errors.New("identity: session locked after inactivity; resume it with the password or PIN")

// Locked is ErrSessionLocked naming the account, for the audit trail;
// Now is true for the request that found the session idle and locked
// it. Never show it to the caller.
type Locked struct {
	PersonID string
	Now      bool
}

func (e *Locked) Error() string        { return ErrSessionLocked.Error() }
func (e *Locked) Is(target error) bool { return target == ErrSessionLocked }

// StartSession opens a session for p, who has passed every sign-in step,
// and clears its failed sign-ins.
func (s *Service) StartSession(ctx context.Context, p Person) (Token, Session, error) {
	if p.Disabled {
		return "", Session{}, ErrSessionEnded
	}
	tok, err := s.newToken(SessionTokenPrefix)
	if err != nil {
		return "", Session{}, err
	}
	now := s.now().UTC()
	ses := Session{Hash: hashToken(tok.Reveal()), PersonID: p.ID, Tenant: p.Tenant, Role: p.Role,
		Created: now, Seen: now, Expires: now.Add(s.lifetime), Idle: s.idleFor(p.Tenant)}
	if err := s.st.CreateSession(ctx, ses); err != nil {
		return "", Session{}, err
	}
	if _, err := s.st.RecordLogin(ctx, p.ID, true, lockAfter, time.Time{}); err != nil {
		return "", Session{}, err
	}
	return tok, ses, nil
}

// idleFor is the idle timeout of a tenant's people.
func (s *Service) idleFor(tenant string) time.Duration {
	if d, ok := s.tenantIdle[tenant]; ok {
		return d
	}
	return s.idle
}

// Authenticate returns the session of a token and records its use (to
// within 5 seconds), so the idle timeout starts again. A session idle
// longer than its timeout is locked (a *Locked error) until Resume; one
// past its absolute lifetime, or idle for ResumeWindow more, is deleted
// (an *Expired error). Every other failure is ErrSessionEnded.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	ses, now, err := s.liveSession(ctx, token)
	if err != nil {
		return Session{}, err
	}
	if !ses.Locked.IsZero() {
		return Session{}, &Locked{PersonID: ses.PersonID}
	}
	if now.Sub(ses.Seen) >= ses.Idle {
		err := s.st.LockSession(ctx, ses.Hash, ses.Seen.Add(ses.Idle))
		if errors.Is(err, ErrNotFound) { // locked (or ended) by a concurrent request
			return Session{}, &Locked{PersonID: ses.PersonID}
		}
		if err != nil {
			return Session{}, err
		}
		return Session{}, &Locked{PersonID: ses.PersonID, Now: true}
	}
	if ses.AccountDisabled {
		return Session{}, ErrSessionEnded
	}
	// Record the use, at most every touchEvery: a write per request would
	// cost a durable commit each, and the idle timeout does not need
	// finer steps.
	if now.Sub(ses.Seen) >= touchEvery {
		if err := s.st.TouchSession(ctx, ses.Hash, now); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Session{}, ErrSessionEnded // signed out meanwhile
			}
			return Session{}, err
		}
		ses.Seen = now
	}
	return ses, nil
}

// liveSession returns the session of a token unless it is over: past its
// lifetime, or idle past its timeout and the resume window. An ended
// session is deleted.
func (s *Service) liveSession(ctx context.Context, token string) (Session, time.Time, error) {
	if !strings.HasPrefix(token, SessionTokenPrefix) || len(token) > 128 {
		return Session{}, time.Time{}, ErrSessionEnded
	}
	h := hashToken(token)
	ses, err := s.st.Session(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Session{}, time.Time{}, ErrSessionEnded
	}
	if err != nil {
		return Session{}, time.Time{}, err
	}
	now := s.now().UTC()
	if !now.Before(ses.Expires) || now.Sub(ses.Seen) >= ses.Idle+ResumeWindow {
		if err := s.endSession(ctx, ses); err != nil {
			return Session{}, time.Time{}, err
		}
		return Session{}, time.Time{}, &Expired{PersonID: ses.PersonID, Idle: now.Before(ses.Expires)}
	}
	return ses, now, nil
}

func (s *Service) endSession(ctx context.Context, ses Session) error {
	_, err := s.st.DeleteSessions(ctx, ses.PersonID, ses.Hash, false)
	return err
}

// activePerson returns the account of a session, which must be enabled.
func (s *Service) activePerson(ctx context.Context, ses Session) (Person, error) {
	p, err := s.st.Person(ctx, ses.PersonID)
	if errors.Is(err, ErrNotFound) || err == nil && p.Disabled {
		return Person{}, ErrSessionEnded
	}
	return p, err
}

// Proof is what re-authenticates a person within a session: the
// password or the PIN (one of them).
type Proof struct {
	Password string
	PIN      string
}

// Resume unlocks an idle-locked session (or refreshes an active one)
// with the person's password or PIN, within ResumeWindow of its idle
// timeout. A wrong password counts towards the account's lockout, as at
// sign-in; after 5 wrong answers the session ends (a *Refused with
// Ended set). A session already over is ErrSessionEnded.
func (s *Service) Resume(ctx context.Context, token string, proof Proof) (Session, error) {
	ses, now, err := s.liveSession(ctx, token)
	if err != nil {
		return Session{}, err
	}
	p, err := s.activePerson(ctx, ses)
	if err != nil {
		return Session{}, err
	}
	if err := s.prove(ctx, p, proof); err != nil {
		var r *Refused
		if !errors.As(err, &r) {
			return Session{}, err
		}
		n, ferr := s.st.ResumeFailed(ctx, ses.Hash)
		if ferr != nil {
			return Session{}, ferr
		}
		if n >= resumeTries {
			if err := s.endSession(ctx, ses); err != nil {
				return Session{}, err
			}
			r.Ended = true
		}
		return Session{}, r
	}
	if err := s.st.ResumeSession(ctx, ses.Hash, now); err != nil {
		return Session{}, err
	}
	ses.Seen, ses.Locked, ses.ResumeFailures = now, time.Time{}, 0
	return ses, nil
}

// StepUp re-authenticates the person of an active session with their
// password, so that for StepUpTTL the session may do sensitive
// operations (Session.Fresh). A wrong password counts towards the
// account's lockout.
func (s *Service) StepUp(ctx context.Context, token, pw string) (Session, error) {
	ses, err := s.Authenticate(ctx, token)
	if err != nil {
		return Session{}, err
	}
	p, err := s.activePerson(ctx, ses)
	if err != nil {
		return Session{}, err
	}
	if err := s.prove(ctx, p, Proof{Password: pw}); err != nil {
		return Session{}, err
	}
	now := s.now().UTC()
	if err := s.st.StepUpSession(ctx, ses.Hash, now); err != nil {
		return Session{}, err
	}
	ses.SteppedUp = now
	return ses, nil
}

// prove checks a password or PIN of p; a wrong one is a *Refused (and a
// wrong password counts towards the lockout).
func (s *Service) prove(ctx context.Context, p Person, proof Proof) error {
	if (proof.Password == "") == (proof.PIN == "") {
		return fmt.Errorf("%w: give either the password or the PIN", ErrInvalid)
	}
	if proof.PIN != "" {
		if p.PINHash == "" || len(proof.PIN) > maxPIN {
			return &Refused{PersonID: p.ID, Code: true}
		}
		if ok, _, err := password.Verify(proof.PIN, p.PINHash); err != nil || !ok {
			return &Refused{PersonID: p.ID, Code: true}
		}
		return nil
	}
	if len(proof.Password) > password.MaxBytes || s.now().Before(p.LockedUntil) {
		return &Refused{PersonID: p.ID}
	}
	if ok, _, err := password.Verify(proof.Password, p.PasswordHash); err != nil || !ok {
		return s.countFailure(ctx, p)
	}
	return nil
}

// Logout ends the session of a token. Ending an ended session is not an
// error.
func (s *Service) Logout(ctx context.Context, token string) error {
	ses, err := s.st.Session(ctx, hashToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.endSession(ctx, ses)
}

// Sessions lists the sessions of account personID: people their own,
// administrators those of the accounts they manage (the rules of Create).
func (s *Service) Sessions(ctx context.Context, by Actor, personID string) ([]Session, error) {
	if err := s.mayManageSessions(ctx, by, personID); err != nil {
		return nil, err
	}
	return s.st.Sessions(ctx, personID)
}

func (s *Service) mayManageSessions(ctx context.Context, by Actor, personID string) error {
	if by.ID == personID && !by.Operator {
		return nil
	}
	_, err := s.managed(ctx, by, personID)
	return err
}

// EndSessions ends sessions of account personID: the one named ref, or
// (ref "") all but the one of token keep ("": all). People end their
// own; administrators those of the accounts they manage (the rules of
// Create). It returns how many ended; ErrNotFound if ref names none.
func (s *Service) EndSessions(ctx context.Context, by Actor, personID, ref, keep string) (int, error) {
	if err := s.mayManageSessions(ctx, by, personID); err != nil {
		return 0, err
	}
	if ref == "" && keep == "" {
		return s.st.DeleteSessions(ctx, personID, nil, false)
	}
	if ref == "" {
		return s.st.DeleteSessions(ctx, personID, hashToken(keep), true)
	}
	ss, err := s.st.Sessions(ctx, personID)
	if err != nil {
		return 0, err
	}
	for _, x := range ss {
		if x.Ref() == ref {
			return s.st.DeleteSessions(ctx, personID, x.Hash, false)
		}
	}
	return 0, ErrNotFound
}

// lockUntil is when an account with failures failed sign-ins in a row
// may try again: at once below backoffAfter, then after 1 s, 2 s, 4 s, …
// and after lockFor from lockAfter on.
func lockUntil(now time.Time, failures int) time.Time {
	switch {
	case failures < backoffAfter:
		return time.Time{}
	case failures >= lockAfter:
		return now.Add(lockFor)
	}
	return now.Add(time.Second << (failures - backoffAfter))
}
