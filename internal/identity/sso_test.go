package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

const (
	issuer      = "https://clinic.okta.example"
	otherIssuer = "https://login.microsoftonline.example/tid/v2.0"
)

// person creates an account of role in tenant with e-mail address email.
func person(t *testing.T, s *identity.Service, tenant, username, role, email string) identity.Person {
	t.Helper()
	p, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: tenant, Username: username, Role: role, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLinkSSORules(t *testing.T) {
	s, _, _ := newService(t)
	doc := person(t, s, "clinic", "doc", identity.RolePhysician, "")
	admin := person(t, s, "clinic", "kim", identity.RoleTenantAdmin, "")
	pat := person(t, s, "clinic", "pat", identity.RolePatient, "")
	rep := person(t, s, "clinic", "rep", identity.RolePersonalRepresentative, "")
	root := person(t, s, "", "root", identity.RoleSuperAdmin, "")
	tenantAdmin := identity.Actor{ID: admin.ID, Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	otherAdmin := identity.Actor{ID: "u-other", Role: identity.RoleTenantAdmin, Tenant: "elsewhere"}
	nurse := identity.Actor{ID: "u-nurse", Role: identity.RoleNurse, Tenant: "clinic"}

	cases := []struct {
		name    string
		by      identity.Actor
		id      string
		issuer  string
		subject string
		want    error
	}{
		{"tenant admin links staff of their tenant", tenantAdmin, doc.ID, issuer, "00u-doc", nil},
		{"the same subject again", operator, doc.ID, issuer, "00u-doc", identity.ErrLinked},
		{"the subject for another account", operator, admin.ID, issuer, "00u-doc", identity.ErrLinked},
		{"a second subject at the same issuer", operator, doc.ID, issuer, "00u-doc-2", identity.ErrLinked},
		{"the same account at another issuer", operator, doc.ID, otherIssuer, "oid-doc", nil},
		{"tenant admin may not link an admin", tenantAdmin, admin.ID, issuer, "00u-kim", identity.ErrForbidden},
		{"operator links an admin", operator, admin.ID, issuer, "00u-kim", nil},
		{"admin of another tenant", otherAdmin, doc.ID, otherIssuer + "/x", "x", identity.ErrForbidden},
		{"a nurse may not link", nurse, doc.ID, otherIssuer + "/x", "x", identity.ErrForbidden},
		{"patient", operator, pat.ID, issuer, "00u-pat", identity.ErrInvalid},
		{"personal representative", operator, rep.ID, issuer, "00u-rep", identity.ErrInvalid},
		{"super-admin", operator, root.ID, issuer, "00u-root", identity.ErrInvalid},
		{"empty subject", operator, doc.ID, issuer + "/y", "", identity.ErrInvalid},
		{"subject with a space", operator, doc.ID, issuer + "/y", "a b", identity.ErrInvalid},
		{"empty issuer", operator, doc.ID, "", "00u-doc", identity.ErrInvalid},
		{"unknown account", operator, "u-nobody", issuer, "00u-x", identity.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.LinkSSO(ctx, tc.by, tc.id, tc.issuer, tc.subject)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("LinkSSO = %v, want %v", err, tc.want)
			}
		})
	}

	// Unlinking, under the same rules; without a subject, every link of
	// the account at the issuer.
	if _, err := s.UnlinkSSO(ctx, nurse, doc.ID, issuer, ""); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("a nurse unlinks: %v", err)
	}
	if n, err := s.UnlinkSSO(ctx, tenantAdmin, doc.ID, issuer, "00u-other"); !errors.Is(err, identity.ErrNotFound) || n != 0 {
		t.Errorf("unlink another subject: %d, %v", n, err)
	}
	if n, err := s.UnlinkSSO(ctx, tenantAdmin, doc.ID, issuer, ""); err != nil || n != 1 {
		t.Errorf("unlink: %d, %v", n, err)
	}
	if _, _, err := s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, true, false); !errors.Is(err, identity.ErrSSO) {
		t.Errorf("sign-in after unlinking: %v", err)
	}
	if _, _, err := s.SignInExternal(ctx, "clinic", otherIssuer, "oid-doc", "", false, true, false); err != nil {
		t.Errorf("the other issuer's link was removed too: %v", err)
	}
	// The subject is free again.
	if err := s.LinkSSO(ctx, operator, admin.ID, issuer, "00u-doc"); !errors.Is(err, identity.ErrLinked) {
		t.Errorf("the admin has a subject at the issuer already: %v", err)
	}
	if err := s.LinkSSO(ctx, operator, doc.ID, issuer, "00u-doc"); err != nil {
		t.Errorf("link again: %v", err)
	}
}

func TestSignInExternal(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	// A one-time password is still pending: the provider's sign-in must
	// not lead to the password step.
	doc := person(t, s, "clinic", "doc", identity.RolePhysician, "doc@clinic.example")
	if !doc.MustChangePassword {
		t.Fatal("a new account should have a one-time password")
	}
	if err := s.LinkSSO(ctx, operator, doc.ID, issuer, "00u-doc"); err != nil {
		t.Fatal(err)
	}

	// No factor yet: enrol. Not the password step.
	in, o, err := s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, false, false)
	if err != nil || in.Step != identity.StepEnroll || in.PersonID != doc.ID || o.Token != "" || in.Linked {
		t.Fatalf("first sign-in: %+v %+v %v", in, o, err)
	}
	e, err := s.BeginEnrolment(ctx, in.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishTOTP(ctx, in.Token.Reveal(), code(t, e.Secret, c.now())); err != nil {
		t.Fatalf("enrol: %v", err)
	}

	// With a factor: ward's code, then a session.
	c.add(time.Minute)
	in, o, err = s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, false, false)
	if err != nil || in.Step != identity.StepTOTP || o.Token != "" {
		t.Fatalf("later sign-in: %+v %v", in, err)
	}
	o, err = s.FinishTOTP(ctx, in.Token.Reveal(), code(t, e.Secret, c.now()))
	if err != nil {
		t.Fatalf("code: %v", err)
	}
	if _, err := s.Authenticate(ctx, o.Token.Reveal()); err != nil {
		t.Errorf("session: %v", err)
	}

	// The provider asserted MFA (and the tenant trusts it): a session at once.
	in, o, err = s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, true, false)
	if err != nil || o.Token == "" || in.Token != "" || in.PersonID != doc.ID || o.Session.PersonID != doc.ID || o.Session.Role != identity.RolePhysician {
		t.Fatalf("sign-in with the provider's MFA: %+v %+v %v", in, o, err)
	}
	if _, err := s.Authenticate(ctx, o.Token.Reveal()); err != nil {
		t.Errorf("session: %v", err)
	}

	// The link is per issuer, and per tenant.
	refusedAnonymously := func(name string, err error) {
		t.Helper()
		var r *identity.SSORefused
		if !errors.Is(err, identity.ErrSSO) || errors.As(err, &r) {
			t.Errorf("%s: %v, want ErrSSO naming no account", name, err)
		}
	}
	_, _, err = s.SignInExternal(ctx, "clinic", otherIssuer, "00u-doc", "", false, true, false)
	refusedAnonymously("another issuer", err)
	_, _, err = s.SignInExternal(ctx, "elsewhere", issuer, "00u-doc", "", false, true, false)
	refusedAnonymously("another tenant's provider", err)
	_, _, err = s.SignInExternal(ctx, "clinic", issuer, "00u-nobody", "doc@clinic.example", true, true, false)
	refusedAnonymously("unlinked, link_by_email off", err)
	_, _, err = s.SignInExternal(ctx, "clinic", issuer, "", "", false, true, false)
	refusedAnonymously("no subject", err)

	// A locked or disabled account is refused, naming it for the trail.
	refused := func(name string, err error, id string) {
		t.Helper()
		var r *identity.SSORefused
		if !errors.Is(err, identity.ErrSSO) || !errors.As(err, &r) || r.PersonID != id || err.Error() != identity.ErrSSO.Error() {
			t.Errorf("%s: %v, want ErrSSO naming %s", name, err, id)
		}
	}
	for range 5 {
		if _, err := s.CheckPassword(ctx, "clinic", "doc", "wrong"); !errors.Is(err, identity.ErrBadPassword) {
			t.Fatal(err)
		}
	}
	_, _, err = s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, true, false)
	refused("locked", err, doc.ID)
	if err := s.Unlock(ctx, operator, doc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, operator, doc.ID, true); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, true, false)
	refused("disabled", err, doc.ID)
	_, _, err = s.SignInExternal(ctx, "clinic", issuer, "00u-doc", "", false, false, false)
	refused("disabled, without MFA", err, doc.ID)
}

func TestSignInExternalLinkByEmail(t *testing.T) {
	s, _, _ := newService(t)
	one := person(t, s, "clinic", "one", identity.RoleNurse, "one@clinic.example")
	two := person(t, s, "clinic", "two-a", identity.RoleNurse, "two@clinic.example")
	person(t, s, "clinic", "two-b", identity.RoleBilling, "TWO@clinic.example")
	gone := person(t, s, "clinic", "gone", identity.RoleNurse, "back@clinic.example")
	back := person(t, s, "clinic", "back", identity.RoleNurse, "back@clinic.example")
	person(t, s, "clinic", "pat", identity.RolePatient, "pat@clinic.example")
	person(t, s, "clinic", "rep", identity.RolePersonalRepresentative, "rep@clinic.example")
	person(t, s, "elsewhere", "far", identity.RoleNurse, "far@clinic.example")
	linkedElsewhere := person(t, s, "clinic", "linked", identity.RoleNurse, "linked@clinic.example")
	if _, err := s.SetDisabled(ctx, operator, gone.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkSSO(ctx, operator, linkedElsewhere.ID, issuer, "00u-linked-first"); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name     string
		subject  string
		email    string
		verified bool
		byEmail  bool
		want     string // the account signed in and linked; "" refused
	}{
		{"one match", "00u-one", "one@clinic.example", true, true, one.ID},
		{"address in another case", "00u-one-b", "ONE@Clinic.Example", true, true, ""}, // one is linked at this issuer now
		{"e-mail not verified", "00u-two", "one@clinic.example", false, true, ""},
		{"link_by_email off", "00u-three", "one@clinic.example", true, false, ""},
		{"no match", "00u-none", "nobody@clinic.example", true, true, ""},
		{"no address", "00u-empty", "", true, true, ""},
		{"two matches", "00u-two", "two@clinic.example", true, true, ""},
		{"one enabled of two", "00u-back", "back@clinic.example", true, true, back.ID},
		{"patients are never linked", "00u-pat", "pat@clinic.example", true, true, ""},
		{"representatives are never linked", "00u-rep", "rep@clinic.example", true, true, ""},
		{"another tenant's account", "00u-far", "far@clinic.example", true, true, ""},
		{"account with another subject at the issuer", "00u-linked-second", "linked@clinic.example", true, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, o, err := s.SignInExternal(ctx, "clinic", issuer, tc.subject, tc.email, tc.verified, true, tc.byEmail)
			if tc.want == "" {
				if !errors.Is(err, identity.ErrSSO) || o.Token != "" {
					t.Fatalf("SignInExternal = %+v, %v; want ErrSSO", in, err)
				}
				return
			}
			if err != nil || in.PersonID != tc.want || !in.Linked || o.Session.PersonID != tc.want {
				t.Fatalf("SignInExternal = %+v %+v, %v; want %s linked", in, o, err, tc.want)
			}
			// The link holds from now on, whatever the provider says of the address.
			in, _, err = s.SignInExternal(ctx, "clinic", issuer, tc.subject, "", false, true, false)
			if err != nil || in.PersonID != tc.want || in.Linked {
				t.Errorf("next sign-in: %+v, %v", in, err)
			}
		})
	}
	// Nobody was linked by a refused sign-in.
	if err := s.LinkSSO(ctx, operator, two.ID, issuer, "00u-two"); err != nil {
		t.Errorf("the ambiguous subject was linked: %v", err)
	}
}

func TestSSOSignInsInProgress(t *testing.T) {
	s, _, _, c := newServiceClock(t)
	b, err := s.BeginSSO(ctx, "clinic", "okta", "state-1", "nonce-1", "verifier-1")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != "[redacted]" || len(b.Reveal()) < 40 {
		t.Errorf("binding %q", b.Reveal())
	}
	nonce, verifier, err := s.TakeSSO(ctx, "clinic", "okta", "state-1", b.Reveal())
	if err != nil || nonce != "nonce-1" || verifier != "verifier-1" {
		t.Fatalf("TakeSSO = %q %q %v", nonce, verifier, err)
	}
	if _, _, err := s.TakeSSO(ctx, "clinic", "okta", "state-1", b.Reveal()); !errors.Is(err, identity.ErrSSO) {
		t.Errorf("taken twice: %v", err)
	}

	// A wrong binding, provider or tenant, or an expired sign-in, fails,
	// and the sign-in is gone: the right browser cannot finish it after.
	wrong := []struct {
		name, tenant, provider, binding string
		wait                            time.Duration
	}{
		{"another browser", "clinic", "okta", "ward_sso_forged", 0},
		{"no binding", "clinic", "okta", "", 0},
		{"another provider", "clinic", "keycloak", "", 0},
		{"another tenant", "elsewhere", "okta", "", 0},
		{"expired", "clinic", "okta", "", identity.SSOTTL},
	}
	for i, w := range wrong {
		state := "state-wrong-" + string(rune('a'+i))
		b, err := s.BeginSSO(ctx, "clinic", "okta", state, "n", "v")
		if err != nil {
			t.Fatal(err)
		}
		binding := w.binding
		if binding == "" && w.name != "no binding" {
			binding = b.Reveal()
		}
		c.add(w.wait)
		if _, _, err := s.TakeSSO(ctx, w.tenant, w.provider, state, binding); !errors.Is(err, identity.ErrSSO) {
			t.Errorf("%s: %v", w.name, err)
		}
		if _, _, err := s.TakeSSO(ctx, "clinic", "okta", state, b.Reveal()); !errors.Is(err, identity.ErrSSO) {
			t.Errorf("%s, then the right browser: %v", w.name, err)
		}
	}
	if _, _, err := s.TakeSSO(ctx, "clinic", "okta", "", ""); !errors.Is(err, identity.ErrSSO) {
		t.Errorf("no state: %v", err)
	}
	if _, err := s.BeginSSO(ctx, "clinic", "okta", "state-2", "", "v"); !errors.Is(err, identity.ErrInvalid) {
		t.Errorf("no nonce: %v", err)
	}
}
