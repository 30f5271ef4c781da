package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/auth/password"
	"github.com/wardhealth/ward/internal/identity"
)

func TestSignInFlow(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	admin := identity.Actor{ID: "u-admin", Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	p, otp, err := s.Create(ctx, admin, identity.NewPerson{Tenant: "clinic", Username: "jsmith", Email: "jane.smith@example.org", Name: "Jane Smith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}

	// First sign-in: the one-time password leads to a new password.
	in, err := s.Login(ctx, "clinic", "jsmith", otp.Reveal())
	if err != nil || in.Step != identity.StepPassword || in.PersonID != p.ID {
		t.Fatalf("Login: %+v, %v", in, err)
	}
	for _, bad := range []string{"Password1!", "qwerty123!", "Jsmith2026!"} {
		if _, err := s.NewPassword(ctx, in.Token.Reveal(), bad); !errors.Is(err, password.ErrRejected) {
			t.Errorf("new password %q: %v", bad, err)
		}
	}
	// A refused password keeps the challenge; skipping ahead does not work.
	if _, err := s.BeginEnrolment(ctx, in.Token.Reveal()); !errors.Is(err, identity.ErrChallenge) {
		t.Errorf("enrolment before the new password: %v", err)
	}
	in2, err := s.NewPassword(ctx, in.Token.Reveal(), "Tangerine-Orbit-47!")
	if err != nil || in2.Step != identity.StepEnroll {
		t.Fatalf("new password: %+v, %v", in2, err)
	}
	if _, err := s.NewPassword(ctx, in.Token.Reveal(), "Velvet-Quasar-83#"); !errors.Is(err, identity.ErrChallenge) {
		t.Errorf("a used challenge: %v", err)
	}

	// Enrolment is forced: the code comes from the enrolled secret.
	e, err := s.BeginEnrolment(ctx, in2.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishTOTP(ctx, in2.Token.Reveal(), "12345"); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("malformed code: %v", err)
	}
	opened, err := s.FinishTOTP(ctx, in2.Token.Reveal(), code(t, e.Secret, c.now()))
	if err != nil || len(opened.RecoveryCodes) != 10 {
		t.Fatalf("finish enrolment: %d recovery codes, %v", len(opened.RecoveryCodes), err)
	}
	if _, err := s.Authenticate(ctx, opened.Token.Reveal()); err != nil {
		t.Fatalf("new session: %v", err)
	}
	c.add(identity.DefaultIdle)
	if _, err := s.Authenticate(ctx, opened.Token.Reveal()); !errors.Is(err, identity.ErrSessionLocked) {
		t.Fatalf("after 3 idle minutes: %v", err)
	}

	// Later sign-ins: password, then a code, which works once.
	in3, err := s.Login(ctx, "clinic", "JSMITH", "Tangerine-Orbit-47!")
	if err != nil || in3.Step != identity.StepTOTP {
		t.Fatalf("second Login: %+v, %v", in3, err)
	}
	if _, err := s.BeginEnrolment(ctx, in3.Token.Reveal()); !errors.Is(err, identity.ErrChallenge) {
		t.Errorf("enrolling again from a code step: %v", err)
	}
	totp := code(t, e.Secret, c.now())
	if _, err := s.FinishTOTP(ctx, in3.Token.Reveal(), totp); err != nil {
		t.Fatalf("code: %v", err)
	}
	in4, err := s.Login(ctx, "clinic", "jsmith", "Tangerine-Orbit-47!")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishTOTP(ctx, in4.Token.Reveal(), totp); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("replayed code: %v", err)
	}
	// A recovery code instead, once.
	o, err := s.FinishRecovery(ctx, in4.Token.Reveal(), opened.RecoveryCodes[0])
	if err != nil || o.RecoveryLeft != 9 {
		t.Fatalf("recovery code: %+v, %v", o, err)
	}

	// Challenges expire after five minutes, and forged ones fail.
	in5, err := s.Login(ctx, "clinic", "jsmith", "Tangerine-Orbit-47!")
	if err != nil {
		t.Fatal(err)
	}
	c.add(identity.ChallengeTTL)
	if _, err := s.FinishTOTP(ctx, in5.Token.Reveal(), code(t, e.Secret, c.now())); !errors.Is(err, identity.ErrChallenge) {
		t.Errorf("expired challenge: %v", err)
	}
	for _, forged := range []string{"", "ward_chl_x", "ward_ses_" + in5.Token.Reveal()[9:]} {
		if _, err := s.FinishTOTP(ctx, forged, "123456"); !errors.Is(err, identity.ErrChallenge) {
			t.Errorf("forged challenge %q: %v", forged, err)
		}
	}
	if in5.Token.String() != "[redacted]" {
		t.Error("challenge token prints")
	}
	// A wrong password starts nothing.
	if _, err := s.Login(ctx, "clinic", "jsmith", "Tangerine-Orbit-48!"); !errors.Is(err, identity.ErrBadPassword) {
		t.Errorf("wrong password: %v", err)
	}
}

func TestPasswordMaxAge(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	p, otp, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "aging", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Tangerine-Orbit-47!"
	if err := s.ChangePassword(ctx, p.ID, otp.Reveal(), pw); err != nil {
		t.Fatal(err)
	}
	login := func() identity.SignIn {
		t.Helper()
		in, err := s.Login(ctx, "clinic", "aging", pw)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	// Fresh: no warning. Within 14 days of the 180: a warning with the date.
	if in := login(); !in.PasswordExpires.IsZero() || in.Step != identity.StepEnroll {
		t.Errorf("fresh password: %+v", in)
	}
	c.add(170 * 24 * time.Hour)
	if in := login(); !in.PasswordExpires.Equal(c.now().Add(10*24*time.Hour)) || in.Step != identity.StepEnroll {
		t.Errorf("10 days before expiry: expires %v, step %s", in.PasswordExpires, in.Step)
	}
	// Past 180 days the sign-in must set a new password first.
	c.add(10 * 24 * time.Hour)
	in := login()
	if in.Step != identity.StepPassword {
		t.Fatalf("expired password: step %s", in.Step)
	}
	next, err := s.NewPassword(ctx, in.Token.Reveal(), "Copper-Lantern-83%")
	if err != nil || next.Step != identity.StepEnroll {
		t.Fatalf("after the new password: %+v %v", next, err)
	}
}
