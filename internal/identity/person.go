// Package identity manages people's accounts: unique, immutable user ids
// within a tenant, usernames, roles, passwords (through
// internal/auth/password), and the rule that only a super-admin creates
// or promotes an admin. Accounts are disabled, never deleted: the audit
// trail names them by id. Sign-in, MFA and sessions build on it.
package identity

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardhealth/ward/internal/fhir"

	"golang.org/x/text/unicode/norm"
)

// Roles a person can hold. Service clients have their own (internal/auth).
const (
	RoleSuperAdmin             = "super-admin"
	RoleTenantAdmin            = "tenant-admin"
	RolePhysician              = "physician"
	RoleNurse                  = "nurse"
	RoleLabTechnician          = "lab-technician"
	RoleFrontDesk              = "front-desk"
	RoleBilling                = "billing"
	RolePrivacyOfficer         = "privacy-officer"
	RoleAuditor                = "auditor"
	RolePatient                = "patient"
	RolePersonalRepresentative = "personal-representative"
)

// Roles lists every role a person can hold.
func Roles() []string {
	return []string{RoleSuperAdmin, RoleTenantAdmin, RolePhysician, RoleNurse, RoleLabTechnician,
		RoleFrontDesk, RoleBilling, RolePrivacyOfficer, RoleAuditor, RolePatient, RolePersonalRepresentative}
}

// IsAdmin reports whether role administers accounts: only a super-admin
// may give it to anyone.
func IsAdmin(role string) bool { return role == RoleSuperAdmin || role == RoleTenantAdmin }

// Person is one person's account. Super-admins belong to the whole
// deployment (Tenant ""); everyone else to one tenant.
type Person struct {
	ID       string // immutable, "u-" and 26 base32 characters
	Tenant   string // "" for super-admins
	Username string // unique within the tenant; normalised (see NormalizeUsername)
	Email    string // optional
	// Name is a workforce member's display name, used to resolve ids in
	// audit reports for readers allowed to see it. Empty for patients and
	// representatives, whose names belong to their FHIR resources.
	Name string
	Role string
	// PasswordHash is an argon2id PHC string; PasswordHistory the
	// previous ones, newest first, for the reuse rule.
	PasswordHash    string
	PasswordHistory []string
	PasswordChanged time.Time
	// MustChangePassword is set for one-time passwords: the next sign-in
	// must set a new one.
	MustChangePassword bool
	// FHIRUser is the FHIR resource the account stands for, as Type/id:
	// Practitioner for clinical staff, Patient for a patient,
	// RelatedPerson for a personal representative; "" if not linked.
	// Access decisions find the person's patients through it.
	FHIRUser string
	// PINHash is the argon2id hash of the person's PIN for resuming an
	// idle-locked session ("" if none is set).
	PINHash  string
	Disabled bool
	Created  time.Time
	// FailedLogins counts failed sign-ins in a row; LockedUntil, when
	// after now, refuses every sign-in (see Service.CheckPassword).
	FailedLogins int
	LockedUntil  time.Time
}

// Errors.
var (
	// ErrNotFound means no such account.
	ErrNotFound = errors.New("identity: no such account")
	// ErrExists means the username is taken in that tenant.
	ErrExists = errors.New("identity: username already taken")
	// ErrForbidden means the actor may not do this (e.g. a tenant admin
	// creating an admin).
	ErrForbidden = errors.New("identity: not allowed")
	// ErrInvalid wraps every bad-input error.
	ErrInvalid = errors.New("identity: invalid")
)

const (
	minUsername = 3
	maxUsername = 64
	maxEmail    = 254
	maxName     = 200
)

// NormalizeUsername returns the canonical form of a username: NFKC,
// lower case, 3 to 64 characters from [a-z0-9._-], starting with a letter
// or digit. So "Ａｌｉｃｅ" and "alice" are the same account.
func NormalizeUsername(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: username is not valid UTF-8", ErrInvalid)
	}
	u := strings.ToLower(norm.NFKC.String(s))
	if len(u) < minUsername || len(u) > maxUsername {
		return "", fmt.Errorf("%w: username must have %d to %d characters", ErrInvalid, minUsername, maxUsername)
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return "", fmt.Errorf("%w: username may hold only a-z, 0-9, '.', '_' and '-', and starts with a letter or digit", ErrInvalid)
		}
	}
	return u, nil
}

// validate checks a new account's fields (after normalisation).
func (p Person) validate() error {
	if !validRole(p.Role) {
		return fmt.Errorf("%w: unknown role %q (one of %s)", ErrInvalid, p.Role, strings.Join(Roles(), ", "))
	}
	if (p.Role == RoleSuperAdmin) != (p.Tenant == "") {
		return fmt.Errorf("%w: a super-admin belongs to no tenant, and everyone else to one", ErrInvalid)
	}
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil || a.Address != p.Email || len(p.Email) > maxEmail {
			return fmt.Errorf("%w: email is not a plain address", ErrInvalid)
		}
	}
	if len(p.Name) > maxName || !utf8.ValidString(p.Name) || strings.ContainsFunc(p.Name, isControl) {
		return fmt.Errorf("%w: name must be valid text of at most %d bytes", ErrInvalid, maxName)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }

func validRole(r string) bool {
	for _, x := range Roles() {
		if r == x {
			return true
		}
	}
	return false
}

// fhirUserTypes are the resource types an account of each role may stand
// for.
func fhirUserType(role string) string {
	switch role {
	case RolePatient:
		return "Patient"
	case RolePersonalRepresentative:
		return "RelatedPerson"
	case RoleSuperAdmin, RoleTenantAdmin:
		return ""
	}
	return "Practitioner"
}

// checkFHIRUser checks that ref ("Type/id") suits an account of role.
func checkFHIRUser(role, ref string) error {
	typ, id, ok := strings.Cut(ref, "/")
	want := fhirUserType(role)
	if want == "" {
		return fmt.Errorf("%w: administrators stand for no FHIR resource", ErrInvalid)
	}
	if !ok || typ != want || !fhir.ValidID(id) {
		return fmt.Errorf("%w: a %s account stands for a %s resource: give %s/<id>", ErrInvalid, role, want, want)
	}
	return nil
}
