package identity

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/auth/passkey"
	"github.com/wardhealth/ward/internal/auth/password"
)

// Actor is who asks for an account change. The operator is whoever runs
// the ward CLI on the server: with the data directory and the key files
// in hand they control the deployment already, so the CLI may do what a
// super-admin does (audited as the operator). People act through the API
// with their role and tenant.
type Actor struct {
	Operator bool
	ID       string
	Role     string
	Tenant   string
}

// NewPerson is what an administrator gives to create an account.
type NewPerson struct {
	Tenant   string // "" for a super-admin
	Username string
	Email    string
	Name     string
	Role     string
}

// Options configure a Service; zero values take defaults.
type Options struct {
	// Params are the argon2id parameters for new hashes; default
	// password.DefaultParams().
	Params password.Params
	// Rand is the randomness for ids, salts and one-time passwords;
	// default crypto/rand.
	Rand io.Reader
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Idle and Lifetime bound people's sessions; defaults DefaultIdle
	// and DefaultLifetime. Idle must be 1 to 30 minutes.
	Idle, Lifetime time.Duration
	// TenantIdle overrides Idle for the people of some tenants (1 to 30
	// minutes each).
	TenantIdle map[string]time.Duration
	// Sealer encrypts TOTP secrets; without one, second-factor
	// operations fail (the CLI's account commands need none).
	Sealer Sealer
	// Passkeys runs WebAuthn ceremonies; nil disables passkeys.
	Passkeys *passkey.Passkeys
}

// Service manages accounts in a Store, enforcing the password policy of
// its Checker and who may do what.
type Service struct {
	st     Store
	check  *password.Checker
	params password.Params
	rand   io.Reader
	now    func() time.Time
	dummy  string // a hash verified for unknown usernames, so they take as long

	idle, lifetime time.Duration
	tenantIdle     map[string]time.Duration
	sealer         Sealer
	passkeys       *passkey.Passkeys
}

// NewService returns a Service over st with the password policy of check.
func NewService(st Store, check *password.Checker, o Options) (*Service, error) {
	if o.Params == (password.Params{}) {
		o.Params = password.DefaultParams()
	}
	if err := o.Params.Validate(); err != nil {
		return nil, err
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Idle == 0 {
		o.Idle = DefaultIdle
	}
	if o.Lifetime == 0 {
		o.Lifetime = DefaultLifetime
	}
	for _, d := range append([]time.Duration{o.Idle}, slices.Collect(maps.Values(o.TenantIdle))...) {
		if d < time.Minute || d > 30*time.Minute || o.Lifetime < d {
			return nil, fmt.Errorf("%w: session idle timeouts must be 1 to 30 minutes and no longer than the lifetime", ErrInvalid)
		}
	}
	s := &Service{st: st, check: check, params: o.Params, rand: o.Rand, now: o.Now, idle: o.Idle, tenantIdle: o.TenantIdle,
		lifetime: o.Lifetime, sealer: o.Sealer, passkeys: o.Passkeys}
	otp, err := s.oneTimePassword()
	if err != nil {
		return nil, err
	}
	if s.dummy, err = password.Hash(otp, s.params, s.rand); err != nil {
		return nil, err
	}
	return s, nil
}

// OneTimePassword is an initial password: shown once to whoever hands it
// to the person, who must replace it at first sign-in. String, GoString
// and MarshalText redact it.
type OneTimePassword string

func (OneTimePassword) String() string               { return "[redacted]" }
func (OneTimePassword) GoString() string             { return "[redacted]" }
func (OneTimePassword) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the password itself.
func (p OneTimePassword) Reveal() string { return string(p) }

// Create makes an account with a one-time password. A tenant admin may
// create only non-admin accounts in their own tenant; only a super-admin
// (or the operator) may create an admin.
func (s *Service) Create(ctx context.Context, by Actor, in NewPerson) (Person, OneTimePassword, error) {
	u, err := NormalizeUsername(in.Username)
	if err != nil {
		return Person{}, "", err
	}
	p := Person{Tenant: in.Tenant, Username: u, Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), Role: in.Role}
	if err := p.validate(); err != nil {
		return Person{}, "", err
	}
	if err := may(by, p); err != nil {
		return Person{}, "", err
	}
	otp, err := s.oneTimePassword()
	if err != nil {
		return Person{}, "", err
	}
	if p.PasswordHash, err = password.Hash(otp, s.params, s.rand); err != nil {
		return Person{}, "", err
	}
	if p.ID, err = s.newID(); err != nil {
		return Person{}, "", err
	}
	now := s.now().UTC()
	p.Created, p.PasswordChanged, p.MustChangePassword = now, now, true
	if err := s.st.CreatePerson(ctx, p); err != nil {
		return Person{}, "", err
	}
	return p, OneTimePassword(otp), nil
}

// may reports whether by may create, or change the standing of, target.
func may(by Actor, target Person) error {
	switch {
	case by.Operator, by.Role == RoleSuperAdmin:
		return nil
	case by.Role == RoleTenantAdmin && by.Tenant == target.Tenant && !IsAdmin(target.Role):
		return nil
	}
	return ErrForbidden
}

// Bootstrap creates the first super-admin, "admin", if the deployment has
// none, and returns it with its one-time password; created is false (and
// nothing changes) when one exists.
func (s *Service) Bootstrap(ctx context.Context) (p Person, otp OneTimePassword, created bool, err error) {
	admins, err := s.st.People(ctx, "")
	if err != nil {
		return Person{}, "", false, err
	}
	if len(admins) > 0 {
		return Person{}, "", false, nil
	}
	p, otp, err = s.Create(ctx, Actor{Operator: true}, NewPerson{Username: "admin", Role: RoleSuperAdmin})
	if err != nil {
		return Person{}, "", false, err
	}
	return p, otp, true, nil
}

// List returns a tenant's accounts ("" for super-admins). A tenant admin
// sees only their own tenant; only super-admins and the operator see
// the super-admins.
func (s *Service) List(ctx context.Context, by Actor, tenant string) ([]Person, error) {
	ok := by.Operator || by.Role == RoleSuperAdmin || by.Role == RoleTenantAdmin && by.Tenant == tenant && tenant != ""
	if !ok {
		return nil, ErrForbidden
	}
	return s.st.People(ctx, tenant)
}

// Get returns account id, if by may manage it (under the rules of
// Create) or it is by's own.
func (s *Service) Get(ctx context.Context, by Actor, id string) (Person, error) {
	if by.ID == id {
		return s.st.Person(ctx, id)
	}
	return s.managed(ctx, by, id)
}

// managed returns account id if by may manage it (under the rules of
// Create).
func (s *Service) managed(ctx context.Context, by Actor, id string) (Person, error) {
	p, err := s.st.Person(ctx, id)
	if err != nil {
		return Person{}, err
	}
	if err := may(by, p); err != nil {
		return Person{}, err
	}
	return p, nil
}

// SetDisabled disables or enables an account, under the rules of Create.
// Nobody disables their own account this way.
func (s *Service) SetDisabled(ctx context.Context, by Actor, id string, disabled bool) (Person, error) {
	p, err := s.managed(ctx, by, id)
	if err != nil {
		return Person{}, err
	}
	if !by.Operator && by.ID == id {
		return Person{}, fmt.Errorf("%w: an account cannot disable or enable itself", ErrForbidden)
	}
	if err := s.st.SetPersonDisabled(ctx, id, disabled); err != nil {
		return Person{}, err
	}
	p.Disabled = disabled
	return p, nil
}

// ErrBadPassword means a sign-in failed. It never says why: an unknown
// username, a wrong password, a disabled or a locked account look alike.
var ErrBadPassword = errors.New("identity: sign-in failed: wrong username or password, or the account is locked or disabled")

// CheckPassword returns the enabled, unlocked account with that username
// and password in tenant. An unknown username costs the same hash as a
// known one, and every failure is ErrBadPassword. A wrong password counts
// against the account: after 5 in a row it is locked for 1 s, doubling
// with each further one, and after 10 for 30 minutes (UnlockPerson ends
// it sooner). While locked, even the right password fails.
func (s *Service) CheckPassword(ctx context.Context, tenant, username, pw string) (Person, error) {
	u, uerr := NormalizeUsername(username)
	var p Person
	err := uerr
	if err == nil {
		p, err = s.st.PersonByUsername(ctx, tenant, u)
	}
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
		return Person{}, err // the store failed: not the caller's fault
	}
	hash := p.PasswordHash
	if err != nil {
		hash = s.dummy
	}
	ok, _, verr := password.Verify(pw, hash)
	if err != nil {
		return Person{}, ErrBadPassword
	}
	now := s.now().UTC()
	if now.Before(p.LockedUntil) || p.Disabled {
		return Person{}, &Refused{PersonID: p.ID}
	}
	if verr != nil || !ok {
		return Person{}, s.countFailure(ctx, p)
	}
	return p, nil
}

// Refused is a failed sign-in step of a known account, for the audit
// trail: it matches ErrBadPassword (or ErrBadCode), so callers answer as
// for any failure, and names the account and whether this failure locked
// it. Never show it to the person signing in.
type Refused struct {
	PersonID string
	Locked   bool // this failure locked the account
	Code     bool // a second-factor code or PIN failed, not the password
	Ended    bool // this failure ended the session being resumed
}

func (r *Refused) Error() string {
	if r.Code {
		return ErrBadCode.Error()
	}
	return ErrBadPassword.Error()
}

// Is makes a Refused match ErrBadPassword, or ErrBadCode for a code.
func (r *Refused) Is(target error) bool {
	return r.Code && target == ErrBadCode || !r.Code && target == ErrBadPassword
}

// countFailure counts a failed password against p and returns the
// Refused error.
func (s *Service) countFailure(ctx context.Context, p Person) error {
	now := s.now().UTC()
	until := lockUntil(now, p.FailedLogins+1)
	if _, err := s.st.RecordLogin(ctx, p.ID, false, backoffAfter, until); err != nil {
		return err
	}
	return &Refused{PersonID: p.ID, Locked: !until.IsZero()}
}

// SetRole changes account id's role: under the rules of Create for both
// the current and the new role, so only a super-admin (or the operator)
// promotes anyone to an admin role or changes an admin's; nobody changes
// their own. The account's sessions end, since they carry the role.
func (s *Service) SetRole(ctx context.Context, by Actor, id, role string) (Person, error) {
	p, err := s.managed(ctx, by, id)
	if err != nil {
		return Person{}, err
	}
	if !by.Operator && by.ID == id {
		return Person{}, fmt.Errorf("%w: an account cannot change its own role", ErrForbidden)
	}
	next := p
	next.Role = role
	if err := next.validate(); err != nil {
		return Person{}, err
	}
	if err := may(by, next); err != nil {
		return Person{}, err
	}
	if p.FHIRUser != "" && checkFHIRUser(role, p.FHIRUser) != nil {
		return Person{}, fmt.Errorf("%w: the account stands for %s, which a %s account cannot; unlink it first", ErrInvalid, p.FHIRUser, role)
	}
	if err := s.st.SetRole(ctx, id, role); err != nil {
		return Person{}, err
	}
	if _, err := s.st.DeleteSessions(ctx, id, nil, false); err != nil {
		return Person{}, err
	}
	return next, nil
}

// ErrFHIRUserTaken means another account of the tenant stands for that
// FHIR resource already.
var ErrFHIRUserTaken = errors.New("identity: another account of the tenant stands for that FHIR resource")

// LinkFHIR sets the FHIR resource account id stands for (Practitioner/…
// for clinical staff, Patient/… for a patient, RelatedPerson/… for a
// representative; "" unlinks), under the rules of Create. The access
// decisions find the person's patients through it.
func (s *Service) LinkFHIR(ctx context.Context, by Actor, id, ref string) (Person, error) {
	p, err := s.managed(ctx, by, id)
	if err != nil {
		return Person{}, err
	}
	if ref != "" {
		if err := checkFHIRUser(p.Role, ref); err != nil {
			return Person{}, err
		}
	}
	if err := s.st.SetFHIRUser(ctx, id, ref); err != nil {
		if errors.Is(err, ErrExists) {
			return Person{}, ErrFHIRUserTaken
		}
		return Person{}, err
	}
	p.FHIRUser = ref
	return p, nil
}

// Unlock clears an account's failed sign-ins and lock, under the rules
// of Create.
func (s *Service) Unlock(ctx context.Context, by Actor, id string) error {
	if _, err := s.managed(ctx, by, id); err != nil {
		return err
	}
	return s.st.UnlockPerson(ctx, id)
}

// ChangePassword replaces the password of account id after checking the
// current one and the policy (strength, blocklist, personal information,
// the last Policy.History passwords). A *password.Violation error lists
// what the new one breaks.
func (s *Service) ChangePassword(ctx context.Context, id, current, next string) error {
	p, err := s.st.Person(ctx, id)
	if err != nil {
		return err
	}
	if ok, _, err := password.Verify(current, p.PasswordHash); err != nil || !ok || p.Disabled {
		return ErrBadPassword
	}
	return s.setPassword(ctx, p, next)
}

// setPassword checks next against the policy for p and stores it, ending
// every session of p.
func (s *Service) setPassword(ctx context.Context, p Person, next string) error {
	previous := append([]string{p.PasswordHash}, p.PasswordHistory...)
	who := password.Person{Username: p.Username, Email: p.Email, Names: strings.Fields(p.Name)}
	if err := s.check.Check(next, who, previous); err != nil {
		return err
	}
	hash, err := password.Hash(next, s.params, s.rand)
	if err != nil {
		return err
	}
	if keep := max(s.check.Policy().History-1, 0); len(previous) > keep {
		previous = previous[:keep]
	}
	if err := s.st.SetPassword(ctx, p.ID, hash, previous, s.now().UTC(), false); err != nil {
		return err
	}
	// A new password ends every session: whoever knew the old one is out.
	_, err = s.st.DeleteSessions(ctx, p.ID, nil, false)
	return err
}

// otpEncoding is base32 without padding, in lower case for reading aloud.
var otpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// oneTimePassword is 100 random bits as "xxxxx-xxxxx-xxxxx-xxxxx".
func (s *Service) oneTimePassword() (string, error) {
	b := make([]byte, 13)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	e := strings.ToLower(otpEncoding.EncodeToString(b))[:20]
	return e[0:5] + "-" + e[5:10] + "-" + e[10:15] + "-" + e[15:20], nil
}

// newID is "u-" and 26 base32 characters (128 random bits).
func (s *Service) newID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("identity: random: %w", err)
	}
	return "u-" + strings.ToLower(otpEncoding.EncodeToString(b)), nil
}
