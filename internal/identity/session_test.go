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
func signedIn(t *testing.T, s *identity.Service) (identity.Person, identity.OneTimePassword, identity.Token) {
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
	// Idle for 3 minutes: the session locks (once), it is not over.
	c.add(identity.DefaultIdle)
	_, err := s.Authenticate(ctx, tok.Reveal())
	var locked *identity.Locked
	if !errors.Is(err, identity.ErrSessionLocked) || !errors.As(err, &locked) || locked.PersonID != p.ID || !locked.Now {
		t.Fatalf("idle for 3 minutes: %v (%+v)", err, locked)
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.As(err, &locked) || locked.Now {
		t.Fatalf("the locked session again: %v (%+v), want locked, not newly", err, locked)
	}
	// 15 minutes more and it is over: deleted, and reported once.
	c.add(identity.ResumeWindow)
	_, err = s.Authenticate(ctx, tok.Reveal())
	var exp *identity.Expired
	if !errors.Is(err, identity.ErrSessionEnded) || !errors.As(err, &exp) || exp.PersonID != p.ID || !exp.Idle {
		t.Fatalf("idle past the resume window: %v (%+v)", err, exp)
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); errors.As(err, &exp) || !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("the ended session again: %v, want a plain ErrSessionEnded", err)
	}
	if ss, _ := db.Sessions(ctx, p.ID); len(ss) != 0 {
		t.Errorf("%d sessions left after the timeout", len(ss))
	}
}

func TestResume(t *testing.T) {
	s, db, _, c := newServiceClock(t)
	p, otp, tok := signedIn(t, s)
	pw := otp.Reveal()
	lock := func() {
		t.Helper()
		c.add(identity.DefaultIdle)
		if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, identity.ErrSessionLocked) {
			t.Fatalf("idle: %v", err)
		}
	}
	// A PIN must be set with the password and follow the rules.
	for _, bad := range []string{"12345", "1234567890123", "111111", "123456", "987654", "890123", "12a456", "１２３９８７"} {
		if err := s.SetPIN(ctx, p.ID, pw, bad); !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("PIN %q: %v", bad, err)
		}
	}
	if err := s.SetPIN(ctx, p.ID, "wrong", "240913"); !errors.Is(err, identity.ErrBadPassword) {
		t.Errorf("PIN with a wrong password: %v", err)
	}
	if err := s.SetPIN(ctx, p.ID, pw, "240913"); err != nil {
		t.Fatal(err)
	}
	// Resuming needs exactly one proof.
	lock()
	if _, err := s.Resume(ctx, tok.Reveal(), identity.Proof{}); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("no proof: %v", err)
	}
	if _, err := s.Resume(ctx, tok.Reveal(), identity.Proof{PIN: "240913", Password: pw}); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("two proofs: %v", err)
	}
	// The PIN resumes within the window; the idle timeout starts again.
	c.add(identity.ResumeWindow - time.Second)
	if _, err := s.Resume(ctx, tok.Reveal(), identity.Proof{PIN: "240913"}); err != nil {
		t.Fatalf("resume with the PIN: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Fatalf("after resuming: %v", err)
	}
	// So does the password.
	lock()
	if _, err := s.Resume(ctx, tok.Reveal(), identity.Proof{Password: pw}); err != nil {
		t.Fatalf("resume with the password: %v", err)
	}
	// Four wrong PINs, then the right one: resumed, and the count starts again.
	lock()
	for range 4 {
		_, err := s.Resume(ctx, tok.Reveal(), identity.Proof{PIN: "000001"})
		var r *identity.Refused
		if !errors.Is(err, identity.ErrBadCode) || !errors.As(err, &r) || r.Ended || r.PersonID != p.ID {
			t.Fatalf("wrong PIN: %v (%+v)", err, r)
		}
	}
	if _, err := s.Resume(ctx, tok.Reveal(), identity.Proof{PIN: "240913"}); err != nil {
		t.Fatalf("right PIN after 4 wrong: %v", err)
	}
	// Five wrong answers (PINs or passwords) end the session.
	lock()
	for i := range 5 {
		proof := identity.Proof{PIN: "000001"}
		if i%2 == 1 {
			proof = identity.Proof{Password: "wrong"}
		}
		_, err := s.Resume(ctx, tok.Reveal(), proof)
		var r *identity.Refused
		if !errors.As(err, &r) || r.Ended != (i == 4) {
			t.Fatalf("wrong answer %d: %v (%+v)", i+1, err, r)
		}
	}
	if _, err := s.Resume(ctx, tok.Reveal(), identity.Proof{PIN: "240913"}); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("right PIN after the session ended: %v", err)
	}
	if ss, _ := db.Sessions(ctx, p.ID); len(ss) != 0 {
		t.Errorf("%d sessions after 5 wrong answers", len(ss))
	}
	// Past the window nothing resumes it.
	tok2, _, err := s.StartSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	c.add(identity.DefaultIdle + identity.ResumeWindow)
	if _, err := s.Resume(ctx, tok2.Reveal(), identity.Proof{PIN: "240913"}); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("resume past the window: %v", err)
	}
	// Without a PIN set, a PIN never works.
	q, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "nopin", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	tok3, _, err := s.StartSession(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resume(ctx, tok3.Reveal(), identity.Proof{PIN: "240913"}); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("PIN of an account without one: %v", err)
	}
}

func TestStepUp(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	_, otp, tok := signedIn(t, s)
	ses, err := s.Authenticate(ctx, tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if ses.Fresh(c.now()) {
		t.Fatal("a new session is fresh without a step-up")
	}
	if _, err := s.StepUp(ctx, tok.Reveal(), "wrong"); !errors.Is(err, identity.ErrBadPassword) {
		t.Errorf("step-up with a wrong password: %v", err)
	}
	if _, err := s.StepUp(ctx, tok.Reveal(), otp.Reveal()); err != nil {
		t.Fatal(err)
	}
	c.add(identity.StepUpTTL / 2)
	if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Fatal(err)
	}
	c.add(identity.StepUpTTL/2 - time.Second)
	if ses, err = s.Authenticate(ctx, tok.Reveal()); err != nil || !ses.Fresh(c.now()) {
		t.Fatalf("just under 5 minutes after the step-up: fresh=%v err=%v", ses.Fresh(c.now()), err)
	}
	c.add(time.Second)
	if ses, err = s.Authenticate(ctx, tok.Reveal()); err != nil || ses.Fresh(c.now()) {
		t.Fatalf("5 minutes after the step-up: fresh=%v err=%v", ses.Fresh(c.now()), err)
	}
	// A locked session cannot step up.
	c.add(identity.DefaultIdle)
	if _, err := s.StepUp(ctx, tok.Reveal(), otp.Reveal()); !errors.Is(err, identity.ErrSessionLocked) {
		t.Errorf("step-up of a locked session: %v", err)
	}
}

func TestTenantIdle(t *testing.T) {
	s, _, _, c := newServiceWith(t, identity.Options{TenantIdle: map[string]time.Duration{"clinic": 10 * time.Minute}})
	for tenant, want := range map[string]time.Duration{"clinic": 10 * time.Minute, "other": identity.DefaultIdle} {
		p, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: tenant, Username: "jsmith", Role: identity.RoleNurse})
		if err != nil {
			t.Fatal(err)
		}
		tok, ses, err := s.StartSession(ctx, p)
		if err != nil || ses.Idle != want {
			t.Fatalf("%s: idle %v, want %v (%v)", tenant, ses.Idle, want, err)
		}
		c.add(want - time.Second)
		if _, err := s.Authenticate(ctx, tok.Reveal()); err != nil {
			t.Errorf("%s: within its idle timeout: %v", tenant, err)
		}
		c.add(want)
		if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, identity.ErrSessionLocked) {
			t.Errorf("%s: past its idle timeout: %v", tenant, err)
		}
	}
	for _, bad := range []time.Duration{30 * time.Second, 31 * time.Minute} {
		_, err := identity.NewService(nil, nil, identity.Options{Params: cheap, TenantIdle: map[string]time.Duration{"clinic": bad}})
		if !errors.Is(err, identity.ErrInvalid) {
			t.Errorf("tenant idle timeout %v: %v", bad, err)
		}
	}
}

func TestConcurrentIdleLock(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	_, _, tok := signedIn(t, s)
	c.add(identity.DefaultIdle)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := s.Authenticate(ctx, tok.Reveal())
			errs <- err
		}()
	}
	first := 0
	for range n {
		err := <-errs
		var l *identity.Locked
		if !errors.As(err, &l) {
			t.Fatalf("concurrent use of an idle session: %v", err)
		}
		if l.Now {
			first++
		}
	}
	if first != 1 {
		t.Errorf("%d requests report locking the session, want exactly 1 (one audit event)", first)
	}
}
