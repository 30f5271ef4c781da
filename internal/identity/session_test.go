package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

// signedIn creates a physician in tenant clinic and opens a session.
func signedIn(t *testing.T, s *identity.Service) (identity.Person, identity.OneTimePassword, identity.SessionToken) {
	t.Helper()
	p, otp, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "jsmith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	tok, ses, err := s.StartSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if ses.Idle != identity.DefaultIdle || ses.Expires.Sub(ses.Created) != identity.DefaultLifetime || ses.PersonID != p.ID {
		t.Fatalf("session %+v", ses)
	}
	return p, otp, tok
}

func TestSessionIdleTimeout(t *testing.T) {
	s, db, _, c := newServiceClock(t)
	p, _, tok := signedIn(t, s)
	if !strings.HasPrefix(tok.Reveal(), "ward_ses_") || tok.String() != "[redacted]" || fmt.Sprint(tok) != "[redacted]" {
		t.Errorf("token %q prints as %v", tok.Reveal(), tok)
	}
	// Each use restarts the 3-minute idle timeout.
	for range 3 {
		c.add(identity.DefaultIdle - time.Second)
		if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
			t.Fatalf("used within the idle timeout: %v", err)
		}
	}
	// Uses closer together than 5 s are recorded at most once; the
	// timeout still runs from (nearly) the last one.
	c.add(4 * time.Second)
	if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	c.add(identity.DefaultIdle - 5*time.Second)
	if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Fatalf("within the timeout of the recorded use: %v", err)
	}
	c.add(identity.DefaultIdle)
	_, err := s.Authenticate(ctx, tok.Reveal())
	var exp *identity.Expired
	if !errors.Is(err, identity.ErrSessionEnded) || !errors.As(err, &exp) || exp.PersonID != p.ID || !exp.Idle {
		t.Fatalf("idle for 3 minutes: %v (%+v)", err, exp)
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); errors.As(err, &exp) || !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("the ended session again: %v, want a plain ErrSessionEnded", err)
	}
	if ss, _ := db.Sessions(ctx, p.ID); len(ss) != 0 {
		t.Errorf("%d sessions left after the timeout", len(ss))
	}
}

func TestSessionLifetime(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	_, _, tok := signedIn(t, s)
	start := c.now()
	for c.now().Sub(start) < identity.DefaultLifetime-2*time.Minute {
		c.add(2 * time.Minute)
		if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
			t.Fatalf("in use after %v: %v", c.now().Sub(start), err)
		}
	}
	c.add(2 * time.Minute)
	_, err := s.Authenticate(ctx, tok.Reveal())
	var exp *identity.Expired
	if !errors.As(err, &exp) || exp.Idle {
		t.Fatalf("after 12 hours: %v (%+v), want the lifetime's end", err, exp)
	}
}

func TestSessionEnds(t *testing.T) {
	s, db, _, _ := newServiceClock(t)
	p, otp, tok := signedIn(t, s)
	tok2, _, err := s.StartSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, forged := range []string{"", "ward_ses_", "ward_ses_AAAA", tok.Reveal() + "x", strings.Repeat("a", 1<<20), "Bearer " + tok.Reveal()} {
		if _, err := s.Authenticate(ctx, forged); !errors.Is(err, identity.ErrSessionEnded) {
			t.Errorf("forged token %.20q: %v", forged, err)
		}
	}
	// Logout ends one session, twice without error.
	if err := s.Logout(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	if err := s.Logout(ctx, tok.Reveal()); err != nil {
		t.Errorf("second logout: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("after logout: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok2.Reveal()); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	// Disabling the account ends its sessions at once.
	if _, err := s.SetDisabled(ctx, operator, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok2.Reveal()); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("disabled account: %v", err)
	}
	if _, _, err := s.StartSession(ctx, identity.Person{ID: p.ID, Disabled: true}); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("session for a disabled account: %v", err)
	}
	if _, err := s.SetDisabled(ctx, operator, p.ID, false); err != nil {
		t.Fatal(err)
	}
	// A password change ends every session.
	if _, err := s.Authenticate(ctx, tok2.Reveal()); err != nil {
		t.Fatalf("re-enabled: %v", err)
	}
	if err := s.ChangePassword(ctx, p.ID, otp.Reveal(), "Tangerine-Orbit-47!"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok2.Reveal()); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("after a password change: %v", err)
	}
	if ss, _ := db.Sessions(ctx, p.ID); len(ss) != 0 {
		t.Errorf("%d sessions after the password change", len(ss))
	}
}

func TestLockout(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	p, otp, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "jsmith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	fail := func(n int) {
		t.Helper()
		for range n {
			if _, err := s.CheckPassword(ctx, "clinic", "jsmith", "wrong"); !errors.Is(err, identity.ErrBadPassword) {
				t.Fatalf("wrong password: %v", err)
			}
		}
	}
	right := func() error {
		_, err := s.CheckPassword(ctx, "clinic", "jsmith", otp.Reveal())
		return err
	}
	// Four failures in a row change nothing, and a success clears them.
	fail(4)
	if err := right(); err != nil {
		t.Fatalf("after 4 failures: %v", err)
	}
	if _, _, err := s.StartSession(ctx, p); err != nil {
		t.Fatal(err)
	}
	// The fifth in a row locks for a second: even the right password
	// fails, alike.
	fail(5)
	if err := right(); !errors.Is(err, identity.ErrBadPassword) {
		t.Fatalf("right password while locked: %v", err)
	}
	c.add(time.Second)
	if err := right(); err != nil {
		t.Fatalf("after the 1 s backoff: %v", err)
	}
	// Without a full sign-in (StartSession) the failures keep counting,
	// each waiting out the doubling backoff (attempts during a lock do not
	// count): the tenth locks for 30 minutes.
	for i := range 5 {
		fail(1)
		c.add(time.Second << (i + 1))
	}
	c.add(29 * time.Minute)
	if err := right(); !errors.Is(err, identity.ErrBadPassword) {
		t.Fatalf("29 minutes into the lock: %v", err)
	}
	c.add(time.Minute)
	if err := right(); err != nil {
		t.Fatalf("after 30 minutes: %v", err)
	}
	// An administrator can unlock sooner; a nurse cannot.
	fail(1)
	if err := right(); !errors.Is(err, identity.ErrBadPassword) {
		t.Fatalf("locked again: %v", err)
	}
	if err := s.Unlock(ctx, identity.Actor{Role: identity.RoleNurse, Tenant: "clinic"}, p.ID); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("nurse unlocks: %v", err)
	}
	if err := s.Unlock(ctx, identity.Actor{Role: identity.RoleTenantAdmin, Tenant: "clinic"}, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := right(); err != nil {
		t.Errorf("after unlock: %v", err)
	}
	// Unknown usernames fail the same way and lock nothing.
	for range 12 {
		if _, err := s.CheckPassword(ctx, "clinic", "nobody", "x"); !errors.Is(err, identity.ErrBadPassword) {
			t.Fatal(err)
		}
	}
}
