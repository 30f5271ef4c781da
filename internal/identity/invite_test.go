package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/auth/password"
	"github.com/wardhealth/ward/internal/identity"
)

func TestInvitation(t *testing.T) {
	s, db, _, c := newServiceClock(t)
	admin := identity.Actor{ID: "u-admin", Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	inv, tok, err := s.Invite(ctx, admin, identity.NewInvitation{Tenant: "clinic", Role: identity.RolePhysician,
		Email: "maria.lopez@example.org", Name: "Maria Lopez"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Reveal(), "ward_inv_") || fmt.Sprint(tok) != "[redacted]" || inv.CreatedBy != "u-admin" ||
		inv.Expires.Sub(inv.Created) != identity.DefaultInvitationTTL {
		t.Fatalf("invitation %+v, token %q", inv, tok.Reveal())
	}

	// The password policy applies, with the invitee's name and username;
	// a rejected password keeps the invitation.
	for _, bad := range []string{"Password1!", "qwerty123!", "Mlopez2024!", "Maria-Lopez-9"} {
		_, _, err := s.Accept(ctx, tok.Reveal(), "mlopez", bad)
		var v *password.Violation
		if !errors.As(err, &v) {
			t.Errorf("password %q: %v", bad, err)
		}
	}
	if _, _, err := s.Accept(ctx, tok.Reveal(), "no spaces", "Tangerine-Orbit-47!"); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("bad username: %v", err)
	}
	// A taken username keeps it too.
	if _, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "taken", Role: identity.RoleNurse}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Accept(ctx, tok.Reveal(), "Taken", "Tangerine-Orbit-47!"); !errors.Is(err, identity.ErrExists) {
		t.Errorf("taken username: %v", err)
	}

	p, in, err := s.Accept(ctx, tok.Reveal(), "MLopez", "Tangerine-Orbit-47!")
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "mlopez" || p.Tenant != "clinic" || p.Role != identity.RolePhysician || p.Name != "Maria Lopez" || p.MustChangePassword {
		t.Errorf("account %+v", p)
	}
	if in.Step != identity.StepEnroll || in.PersonID != p.ID {
		t.Errorf("first step %+v, want MFA enrolment", in)
	}
	stored, err := db.Invitation(ctx, inv.Hash)
	if err != nil || stored.PersonID != p.ID || stored.Used.IsZero() {
		t.Errorf("stored invitation %+v, %v", stored, err)
	}
	// Single use.
	if _, _, err := s.Accept(ctx, tok.Reveal(), "other", "Tangerine-Orbit-47!"); !errors.Is(err, identity.ErrInvitation) {
		t.Errorf("second use: %v", err)
	}
	// Forged tokens look alike.
	for _, forged := range []string{"", "ward_inv_", tok.Reveal() + "x", "ward_ses_abc", strings.Repeat("a", 4096)} {
		if _, _, err := s.Accept(ctx, forged, "other", "Tangerine-Orbit-47!"); !errors.Is(err, identity.ErrInvitation) {
			t.Errorf("forged %.20q: %v", forged, err)
		}
	}
	// Expiry.
	_, tok2, err := s.Invite(ctx, admin, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleNurse, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c.add(time.Hour)
	if _, _, err := s.Accept(ctx, tok2.Reveal(), "latecomer", "Tangerine-Orbit-47!"); !errors.Is(err, identity.ErrInvitation) {
		t.Errorf("expired: %v", err)
	}
}

func TestInvitationRules(t *testing.T) {
	s, _, _, _ := newServiceClock(t)
	tenantAdmin := identity.Actor{ID: "u-a", Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	for _, tc := range []struct {
		name string
		by   identity.Actor
		in   identity.NewInvitation
		want error
	}{
		{"tenant admin invites staff", tenantAdmin, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleNurse}, nil},
		{"tenant admin invites a patient", tenantAdmin, identity.NewInvitation{Tenant: "clinic", Role: identity.RolePatient}, nil},
		{"tenant admin invites an admin", tenantAdmin, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleTenantAdmin}, identity.ErrForbidden},
		{"tenant admin invites to another tenant", tenantAdmin, identity.NewInvitation{Tenant: "other", Role: identity.RoleNurse}, identity.ErrForbidden},
		{"nurse invites", identity.Actor{ID: "u-n", Role: identity.RoleNurse, Tenant: "clinic"}, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleNurse}, identity.ErrForbidden},
		{"super-admin invites an admin", identity.Actor{ID: "u-s", Role: identity.RoleSuperAdmin}, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleTenantAdmin}, nil},
		{"a super-admin is not invited", operator, identity.NewInvitation{Role: identity.RoleSuperAdmin}, identity.ErrInvalid},
		{"unknown role", operator, identity.NewInvitation{Tenant: "clinic", Role: "wizard"}, identity.ErrInvalid},
		{"bad email", operator, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleNurse, Email: "not an address"}, identity.ErrInvalid},
		{"too long", operator, identity.NewInvitation{Tenant: "clinic", Role: identity.RoleNurse, TTL: 31 * 24 * time.Hour}, identity.ErrInvalid},
	} {
		_, tok, err := s.Invite(ctx, tc.by, tc.in)
		if !errors.Is(err, tc.want) || (err == nil) != (tok != "") {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
