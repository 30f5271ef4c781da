package identity_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/auth/password"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// cheap are argon2id parameters fast enough for tests; production uses
// password.DefaultParams.
var cheap = password.Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

var (
	listOnce sync.Once
	list     *password.Blocklist
	listErr  error
)

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// clock is a settable clock for the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newService returns a Service over a new SQLite database, with the
// hipaa policy and the shipped blocklist, and the database.
func newService(t *testing.T) (*identity.Service, *sqlite.DB, string) {
	s, db, path, _ := newServiceClock(t)
	return s, db, path
}

// newServiceClock is newService with the clock it runs on.
func newServiceClock(t *testing.T) (*identity.Service, *sqlite.DB, string, *clock) {
	t.Helper()
	return newServiceWith(t, identity.Options{})
}

// newServiceWith is newServiceClock with some options set (the test's
// clock, randomness, hashing cost and sealer replace theirs).
func newServiceWith(t *testing.T, o identity.Options) (*identity.Service, *sqlite.DB, string, *clock) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ward.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	listOnce.Do(func() { list, listErr = password.LoadBlocklist() })
	if listErr != nil {
		t.Fatal(listErr)
	}
	pol, err := password.Preset("hipaa")
	if err != nil {
		t.Fatal(err)
	}
	chk, err := password.NewChecker(pol, list)
	if err != nil {
		t.Fatal(err)
	}
	kekPath := filepath.Join(t.TempDir(), "kek")
	if err := localkms.Create(kekPath, localkms.Development); err != nil {
		t.Fatal(err)
	}
	kek, err := localkms.Open(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	o.Params, o.Rand, o.Now = cheap, seeded{rand.NewChaCha8([32]byte{7})}, c.now
	o.Sealer = app.KeyringSealer{KR: keyring.New(kek, db, keyring.Options{})}
	s, err := identity.NewService(db, chk, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, db, path, c
}

var (
	operator = identity.Actor{Operator: true}
	ctx      = context.Background()
)

func TestBootstrap(t *testing.T) {
	s, db, _ := newService(t)
	p, otp, created, err := s.Bootstrap(ctx)
	if err != nil || !created {
		t.Fatalf("Bootstrap: %v, created %v", err, created)
	}
	if p.Role != identity.RoleSuperAdmin || p.Tenant != "" || p.Username != "admin" || !p.MustChangePassword {
		t.Errorf("bootstrap account %+v", p)
	}
	if !strings.HasPrefix(p.ID, "u-") || len(p.ID) != 28 {
		t.Errorf("id %q", p.ID)
	}
	if len(otp.Reveal()) != 23 || otp.String() != "[redacted]" {
		t.Errorf("one-time password %q / %v", otp.Reveal(), otp)
	}
	if got, err := s.CheckPassword(ctx, "", "admin", otp.Reveal()); err != nil || got.ID != p.ID {
		t.Errorf("sign-in with the one-time password: %v", err)
	}
	if _, _, created, err := s.Bootstrap(ctx); err != nil || created {
		t.Errorf("second Bootstrap: created %v, %v", created, err)
	}
	if ps, _ := db.People(ctx, ""); len(ps) != 1 {
		t.Errorf("%d super-admins", len(ps))
	}
}

func TestCreateRules(t *testing.T) {
	s, _, _ := newService(t)
	super := identity.Actor{ID: "u-super", Role: identity.RoleSuperAdmin}
	admin := identity.Actor{ID: "u-admin", Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	doctor := identity.Actor{ID: "u-doc", Role: identity.RolePhysician, Tenant: "clinic"}
	tests := []struct {
		name string
		by   identity.Actor
		in   identity.NewPerson
		want error
	}{
		{"tenant admin creates a nurse", admin, identity.NewPerson{Tenant: "clinic", Username: "nurse1", Role: identity.RoleNurse}, nil},
		{"tenant admin creates a tenant admin", admin, identity.NewPerson{Tenant: "clinic", Username: "admin2", Role: identity.RoleTenantAdmin}, identity.ErrForbidden},
		{"tenant admin creates a super-admin", admin, identity.NewPerson{Username: "root2", Role: identity.RoleSuperAdmin}, identity.ErrForbidden},
		{"tenant admin in another tenant", admin, identity.NewPerson{Tenant: "other", Username: "nurse2", Role: identity.RoleNurse}, identity.ErrForbidden},
		{"physician creates anyone", doctor, identity.NewPerson{Tenant: "clinic", Username: "nurse3", Role: identity.RoleNurse}, identity.ErrForbidden},
		{"super-admin creates a tenant admin", super, identity.NewPerson{Tenant: "clinic", Username: "admin3", Role: identity.RoleTenantAdmin}, nil},
		{"operator creates a super-admin", operator, identity.NewPerson{Username: "root", Role: identity.RoleSuperAdmin}, nil},
		{"unknown role", super, identity.NewPerson{Tenant: "clinic", Username: "x-ray", Role: "radiologist"}, identity.ErrInvalid},
		{"super-admin with a tenant", super, identity.NewPerson{Tenant: "clinic", Username: "root3", Role: identity.RoleSuperAdmin}, identity.ErrInvalid},
		{"staff without a tenant", super, identity.NewPerson{Username: "nurse4", Role: identity.RoleNurse}, identity.ErrInvalid},
		{"bad username", super, identity.NewPerson{Tenant: "clinic", Username: "a b", Role: identity.RoleNurse}, identity.ErrInvalid},
		{"short username", super, identity.NewPerson{Tenant: "clinic", Username: "ab", Role: identity.RoleNurse}, identity.ErrInvalid},
		{"not UTF-8", super, identity.NewPerson{Tenant: "clinic", Username: "nu\xffrse", Role: identity.RoleNurse}, identity.ErrInvalid},
		{"bad email", super, identity.NewPerson{Tenant: "clinic", Username: "nurse5", Email: "Nurse <n@x.org>", Role: identity.RoleNurse}, identity.ErrInvalid},
		{"control character in the name", super, identity.NewPerson{Tenant: "clinic", Username: "nurse6", Name: "A\x00B", Role: identity.RoleNurse}, identity.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, otp, err := s.Create(ctx, tc.by, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Create: %v, want %v", err, tc.want)
			}
			list, lerr := s.List(ctx, operator, tc.in.Tenant)
			if lerr != nil {
				t.Fatal(lerr)
			}
			stored := false
			for _, q := range list {
				stored = stored || q.Username == strings.ToLower(tc.in.Username)
			}
			if stored != (tc.want == nil) {
				t.Errorf("stored = %v after %v", stored, err)
			}
			if tc.want == nil && (p.ID == "" || otp.Reveal() == "") {
				t.Errorf("created %+v without an id or one-time password", p)
			}
		})
	}
}

func TestUsernamesAreUniquePerTenant(t *testing.T) {
	s, _, _ := newService(t)
	p, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "Ａｌｉｃｅ", Role: identity.RoleNurse})
	if err != nil || p.Username != "alice" {
		t.Fatalf("Create: %+v, %v", p, err)
	}
	if _, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "ALICE", Role: identity.RolePhysician}); !errors.Is(err, identity.ErrExists) {
		t.Errorf("same username again: %v", err)
	}
	if _, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "other", Username: "alice", Role: identity.RoleNurse}); err != nil {
		t.Errorf("same username in another tenant: %v", err)
	}
}

func TestPasswords(t *testing.T) {
	s, db, _ := newService(t)
	p, otp, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "jsmith", Email: "jane.smith@example.org", Name: "Jane Smith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	// Sign-in: the one-time password works; anything else fails alike.
	if _, err := s.CheckPassword(ctx, "clinic", "JSmith", otp.Reveal()); err != nil {
		t.Fatalf("one-time password: %v", err)
	}
	for _, c := range []struct{ tenant, user, pw string }{
		{"clinic", "jsmith", "wrong"},
		{"clinic", "nobody", otp.Reveal()},
		{"other", "jsmith", otp.Reveal()},
		{"clinic", "no such user!", "x"},
	} {
		if _, err := s.CheckPassword(ctx, c.tenant, c.user, c.pw); !errors.Is(err, identity.ErrBadPassword) {
			t.Errorf("CheckPassword(%q, %q): %v", c.tenant, c.user, err)
		}
	}

	// The policy: common passwords and the person's own details fail.
	for _, bad := range []string{"Password1!", "qwerty123!", "Jsmith2026!", "Htims#Enaj9", "J@ne.Sm1th42", "Short1!"} {
		err := s.ChangePassword(ctx, p.ID, otp.Reveal(), bad)
		if !errors.Is(err, password.ErrRejected) {
			t.Errorf("ChangePassword(%q): %v, want a policy rejection", bad, err)
		}
	}
	if err := s.ChangePassword(ctx, p.ID, "not the password", "Tangerine-Orbit-47!"); !errors.Is(err, identity.ErrBadPassword) {
		t.Errorf("wrong current password: %v", err)
	}
	got, _ := db.Person(ctx, p.ID)
	if !got.MustChangePassword {
		t.Fatal("a refused change cleared MustChangePassword")
	}
	if err := s.ChangePassword(ctx, p.ID, otp.Reveal(), "Tangerine-Orbit-47!"); err != nil {
		t.Fatalf("a good password: %v", err)
	}
	got, _ = db.Person(ctx, p.ID)
	if got.MustChangePassword || len(got.PasswordHistory) != 1 {
		t.Errorf("after the change: must change %v, history %d", got.MustChangePassword, len(got.PasswordHistory))
	}
	if _, err := s.CheckPassword(ctx, "clinic", "jsmith", otp.Reveal()); !errors.Is(err, identity.ErrBadPassword) {
		t.Errorf("the one-time password still works: %v", err)
	}
	// Reuse: the current and earlier passwords are refused.
	if err := s.ChangePassword(ctx, p.ID, "Tangerine-Orbit-47!", "Tangerine-Orbit-47!"); !errors.Is(err, password.ErrRejected) {
		t.Errorf("reusing the current password: %v", err)
	}
	if err := s.ChangePassword(ctx, p.ID, "Tangerine-Orbit-47!", "Velvet-Quasar-83#"); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, p.ID, "Velvet-Quasar-83#", "Tangerine-Orbit-47!"); !errors.Is(err, password.ErrRejected) {
		t.Errorf("reusing the previous password: %v", err)
	}
	if _, err := s.CheckPassword(ctx, "clinic", "jsmith", "Velvet-Quasar-83#"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

func TestDisable(t *testing.T) {
	s, _, path := newService(t)
	admin := identity.Actor{ID: "u-admin", Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	nurse, otp, err := s.Create(ctx, admin, identity.NewPerson{Tenant: "clinic", Username: "nurse1", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	boss, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "boss", Role: identity.RoleTenantAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled(ctx, admin, boss.ID, true); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("tenant admin disables an admin: %v", err)
	}
	self := identity.Actor{ID: boss.ID, Role: identity.RoleSuperAdmin}
	if _, err := s.SetDisabled(ctx, self, boss.ID, true); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("disabling oneself: %v", err)
	}
	if _, err := s.SetDisabled(ctx, admin, nurse.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckPassword(ctx, "clinic", "nurse1", otp.Reveal()); !errors.Is(err, identity.ErrBadPassword) {
		t.Errorf("a disabled account signs in: %v", err)
	}
	if _, err := s.SetDisabled(ctx, admin, nurse.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckPassword(ctx, "clinic", "nurse1", otp.Reveal()); err != nil {
		t.Errorf("re-enabled account: %v", err)
	}
	if _, err := s.SetDisabled(ctx, operator, "u-nobody", true); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}

	// Accounts are never deleted, and ids and usernames never change,
	// even by SQL behind ward's back.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DELETE FROM people WHERE id = ?`, nurse.ID); err == nil || !strings.Contains(err.Error(), "never deleted") {
		t.Errorf("deleting an account: %v", err)
	}
	if _, err := raw.Exec(`UPDATE people SET username = 'mallory' WHERE id = ?`, nurse.ID); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("renaming an account: %v", err)
	}
	if _, err := raw.Exec(`UPDATE people SET disabled = 1 WHERE id = ?`, nurse.ID); err != nil {
		t.Errorf("the same connection cannot update other columns, so the checks above prove nothing: %v", err)
	}
}

func TestListRules(t *testing.T) {
	s, _, _ := newService(t)
	if _, _, _, err := s.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	admin := identity.Actor{Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	if _, err := s.List(ctx, admin, "clinic"); err != nil {
		t.Errorf("own tenant: %v", err)
	}
	for _, tenant := range []string{"other", ""} {
		if _, err := s.List(ctx, admin, tenant); !errors.Is(err, identity.ErrForbidden) {
			t.Errorf("tenant admin lists %q: %v", tenant, err)
		}
	}
	if _, err := s.List(ctx, identity.Actor{Role: identity.RoleNurse, Tenant: "clinic"}, "clinic"); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("nurse lists accounts: %v", err)
	}
}

func TestLinkFHIR(t *testing.T) {
	s, _, _ := newService(t)
	mk := func(username, role string) identity.Person {
		t.Helper()
		p, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: username, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	doc, pat, admin := mk("doc", identity.RolePhysician), mk("pat", identity.RolePatient), mk("adm", identity.RoleTenantAdmin)
	for _, tc := range []struct {
		name string
		id   string
		ref  string
		want error
	}{
		{"physician to a Practitioner", doc.ID, "Practitioner/d1", nil},
		{"patient to a Patient", pat.ID, "Patient/p1", nil},
		{"physician to a Patient", doc.ID, "Patient/p1", identity.ErrInvalid},
		{"patient to a Practitioner", pat.ID, "Practitioner/d2", identity.ErrInvalid},
		{"an admin stands for nothing", admin.ID, "Practitioner/d3", identity.ErrInvalid},
		{"malformed", doc.ID, "Practitioner/", identity.ErrInvalid},
		{"no type", doc.ID, "d1", identity.ErrInvalid},
		{"taken", mk("doc2", identity.RoleNurse).ID, "Practitioner/d1", identity.ErrFHIRUserTaken},
		{"unknown account", "u-nobody", "Practitioner/d9", identity.ErrNotFound},
	} {
		_, err := s.LinkFHIR(ctx, operator, tc.id, tc.ref)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A nurse may not link anyone; unlinking frees the resource.
	if _, err := s.LinkFHIR(ctx, identity.Actor{ID: "u-n", Role: identity.RoleNurse, Tenant: "clinic"}, pat.ID, ""); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("a nurse links: %v", err)
	}
	if p, err := s.LinkFHIR(ctx, operator, doc.ID, ""); err != nil || p.FHIRUser != "" {
		t.Fatalf("unlink: %+v %v", p, err)
	}
	if _, err := s.LinkFHIR(ctx, operator, mk("doc3", identity.RolePhysician).ID, "Practitioner/d1"); err != nil {
		t.Errorf("link a freed resource: %v", err)
	}
}

func TestSetRole(t *testing.T) {
	s, db, _ := newService(t)
	n, _, err := s.Create(ctx, operator, identity.NewPerson{Tenant: "clinic", Username: "nurse", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StartSession(ctx, n); err != nil {
		t.Fatal(err)
	}
	tenantAdmin := identity.Actor{ID: "u-ta", Role: identity.RoleTenantAdmin, Tenant: "clinic"}
	super := identity.Actor{ID: "u-sa", Role: identity.RoleSuperAdmin}
	for _, tc := range []struct {
		name string
		by   identity.Actor
		id   string
		role string
		want error
	}{
		{"tenant admin promotes to admin", tenantAdmin, n.ID, identity.RoleTenantAdmin, identity.ErrForbidden},
		{"a nurse changes roles", identity.Actor{ID: "u-x", Role: identity.RoleNurse, Tenant: "clinic"}, n.ID, identity.RolePhysician, identity.ErrForbidden},
		{"own role", identity.Actor{ID: n.ID, Role: identity.RoleTenantAdmin, Tenant: "clinic"}, n.ID, identity.RolePhysician, identity.ErrForbidden},
		{"unknown role", tenantAdmin, n.ID, "wizard", identity.ErrInvalid},
		{"super-admin role for a tenant account", super, n.ID, identity.RoleSuperAdmin, identity.ErrInvalid},
		{"tenant admin: nurse to physician", tenantAdmin, n.ID, identity.RolePhysician, nil},
		{"super-admin promotes to tenant admin", super, n.ID, identity.RoleTenantAdmin, nil},
		{"tenant admin demotes an admin", tenantAdmin, n.ID, identity.RoleNurse, identity.ErrForbidden},
	} {
		if _, err := s.SetRole(ctx, tc.by, tc.id, tc.role); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	p, _ := db.Person(ctx, n.ID)
	if p.Role != identity.RoleTenantAdmin {
		t.Errorf("role %s", p.Role)
	}
	if ss, _ := db.Sessions(ctx, n.ID); len(ss) != 0 {
		t.Errorf("%d sessions after a role change", len(ss))
	}
}
