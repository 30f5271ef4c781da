package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
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

// SessionToken is a bearer credential. String, GoString and MarshalText
// redact it; Reveal returns it once, to its owner.
type SessionToken string

func (SessionToken) String() string               { return "[redacted]" }
func (SessionToken) GoString() string             { return "[redacted]" }
func (SessionToken) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the token itself.
func (t SessionToken) Reveal() string { return string(t) }

// StartSession opens a session for p, who has passed every sign-in step,
// and clears its failed sign-ins.
func (s *Service) StartSession(ctx context.Context, p Person) (SessionToken, Session, error) {
	if p.Disabled {
		return "", Session{}, ErrSessionEnded
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return "", Session{}, fmt.Errorf("identity: random: %w", err)
	}
	tok := SessionTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	now := s.now().UTC()
	ses := Session{Hash: hashToken(tok), PersonID: p.ID, Tenant: p.Tenant, Role: p.Role,
		Created: now, Seen: now, Expires: now.Add(s.lifetime), Idle: s.idle}
	if err := s.st.CreateSession(ctx, ses); err != nil {
		return "", Session{}, err
	}
	if _, err := s.st.RecordLogin(ctx, p.ID, true, lockAfter, time.Time{}); err != nil {
		return "", Session{}, err
	}
	return SessionToken(tok), ses, nil
}

// Authenticate returns the session of a token and records its use (to
// within 5 seconds), so the idle timeout starts again. A session past its absolute lifetime or
// idle longer than its timeout is deleted; every failure is
// ErrSessionEnded.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if !strings.HasPrefix(token, SessionTokenPrefix) || len(token) > 128 {
		return Session{}, ErrSessionEnded
	}
	h := hashToken(token)
	ses, err := s.st.Session(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Session{}, ErrSessionEnded
	}
	if err != nil {
		return Session{}, err
	}
	now := s.now().UTC()
	if !now.Before(ses.Expires) || now.Sub(ses.Seen) >= ses.Idle {
		if _, err := s.st.DeleteSessions(ctx, ses.PersonID, h, false); err != nil {
			return Session{}, err
		}
		return Session{}, &Expired{PersonID: ses.PersonID, Idle: now.Before(ses.Expires)}
	}
	p, err := s.st.Person(ctx, ses.PersonID)
	if err != nil || p.Disabled {
		return Session{}, ErrSessionEnded
	}
	// Record the use, at most every touchEvery: a write per request would
	// cost a durable commit each, and the idle timeout does not need
	// finer steps.
	if now.Sub(ses.Seen) >= touchEvery {
		if err := s.st.TouchSession(ctx, h, now); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Session{}, ErrSessionEnded // signed out meanwhile
			}
			return Session{}, err
		}
		ses.Seen = now
	}
	return ses, nil
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
	_, err = s.st.DeleteSessions(ctx, ses.PersonID, ses.Hash, false)
	return err
}

// Sessions lists a person's sessions.
func (s *Service) Sessions(ctx context.Context, personID string) ([]Session, error) {
	return s.st.Sessions(ctx, personID)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
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
