package identity_test

import (
	"bytes"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wardhealth/ward/internal/identity"
)

// code computes the authenticator's code for secret at t, as an app
// would.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPEnrolment(t *testing.T) {
	s, db, _, c := newServiceClock(t)
	p, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "jsmith", Name: "Jane Smith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	if has, err := s.HasMFA(ctx, p.ID); has || err != nil {
		t.Fatalf("HasMFA before enrolment: %v %v", has, err)
	}
	if err := s.VerifyTOTP(ctx, p, "123456"); !errors.Is(err, identity.ErrNoMFA) {
		t.Errorf("verify before enrolment: %v", err)
	}
	e, err := s.EnrollTOTP(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.URI)
	if err != nil || u.Query().Get("secret") != e.Secret || !bytes.Contains([]byte(e.URI), []byte(p.ID)) || bytes.Contains([]byte(e.URI), []byte("Smith")) {
		t.Errorf("otpauth URI %q: %v", e.URI, err)
	}
	// The secret is stored sealed, not in the clear.
	m, err := db.MFA(ctx, p.ID)
	if err != nil || m.Confirmed || bytes.Contains(m.SealedSecret, []byte(e.Secret)) {
		t.Fatalf("stored factor %+v, %v", m, err)
	}
	// A pending enrolment signs nobody in.
	if err := s.VerifyTOTP(ctx, p, code(t, e.Secret, c.now())); !errors.Is(err, identity.ErrNoMFA) {
		t.Errorf("verify while pending: %v", err)
	}
	if _, err := s.ConfirmTOTP(ctx, p, "000000"); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("confirm with a wrong code: %v", err)
	}
	codes, err := s.ConfirmTOTP(ctx, p, code(t, e.Secret, c.now()))
	if err != nil || len(codes) != 10 {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	if has, _ := s.HasMFA(ctx, p.ID); !has {
		t.Fatal("not enrolled after confirmation")
	}
	if _, err := s.EnrollTOTP(ctx, p); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("re-enrolment over a confirmed factor: %v", err)
	}

	// Sign-in codes: the confirming code cannot be replayed; the next
	// step's code works once; an older one is refused after it.
	if err := s.VerifyTOTP(ctx, p, code(t, e.Secret, c.now())); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("replayed confirmation code: %v", err)
	}
	c.add(30 * time.Second)
	now := code(t, e.Secret, c.now())
	if err := s.VerifyTOTP(ctx, p, now); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
	if err := s.VerifyTOTP(ctx, p, now); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("the same code twice: %v", err)
	}
	c.add(30 * time.Second)
	if err := s.VerifyTOTP(ctx, p, code(t, e.Secret, c.now().Add(30*time.Second))); err != nil {
		t.Errorf("code of the next step (clock skew): %v", err)
	}
	if err := s.VerifyTOTP(ctx, p, code(t, e.Secret, c.now())); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("older code after a newer one: %v", err)
	}

	// Recovery codes work once each.
	if left, err := s.UseRecoveryCode(ctx, p, codes[3]); err != nil || left != 9 {
		t.Fatalf("recovery code: %d left, %v", left, err)
	}
	if _, err := s.UseRecoveryCode(ctx, p, codes[3]); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("recovery code reused: %v", err)
	}

	// An administrator's reset ends the sessions and forces enrolment.
	tok, _, err := s.StartSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ResetMFA(ctx, identity.Actor{Role: identity.RoleNurse, Tenant: "clinic"}, p.ID); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("nurse resets MFA: %v", err)
	}
	if err := s.ResetMFA(ctx, identity.Actor{Role: identity.RoleTenantAdmin, Tenant: "clinic"}, p.ID); err != nil {
		t.Fatal(err)
	}
	if has, _ := s.HasMFA(ctx, p.ID); has {
		t.Error("factor left after reset")
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, identity.ErrSessionEnded) {
		t.Errorf("session after MFA reset: %v", err)
	}
}

func TestTOTPGuessingLocks(t *testing.T) {
	// Wrong codes count like wrong passwords: guessing six digits locks
	// the account, and then even the right code fails.
	s, _, _, c := newServiceClock(t)
	p, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "jsmith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.EnrollTOTP(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmTOTP(ctx, p, code(t, e.Secret, c.now())); err != nil {
		t.Fatal(err)
	}
	c.add(time.Minute)
	for range 5 {
		if err := s.VerifyTOTP(ctx, p, "000001"); !errors.Is(err, identity.ErrBadCode) {
			t.Fatal(err)
		}
	}
	if err := s.VerifyTOTP(ctx, p, code(t, e.Secret, c.now())); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("right code while locked: %v", err)
	}
	c.add(time.Second)
	if err := s.VerifyTOTP(ctx, p, code(t, e.Secret, c.now())); err != nil {
		t.Errorf("right code after the backoff: %v", err)
	}
}

func TestSuperAdminFactorSealedWithSystemKey(t *testing.T) {
	// Super-admins belong to no tenant; their secret is sealed with the
	// deployment's own key and still works.
	s, _, _, c := newServiceClock(t)
	p, _, _, err := s.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.EnrollTOTP(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmTOTP(ctx, p, code(t, e.Secret, c.now())); err != nil {
		t.Fatal(err)
	}
}
