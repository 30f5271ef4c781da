package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/auth/password"
)

// Invitation lifetimes: DefaultInvitationTTL unless the inviter picks
// another, at most maxInvitationTTL.
const (
	DefaultInvitationTTL = 72 * time.Hour
	maxInvitationTTL     = 30 * 24 * time.Hour
	invitationPrefix     = "ward_inv_"
)

// Invitation lets one person join a tenant with a role: redeeming it
// (Accept) creates their account. It is kept by the SHA-256 of its
// token, is single-use and expires.
type Invitation struct {
	Hash      []byte
	Tenant    string
	Role      string
	Email     string
	Name      string
	FHIRUser  string // the FHIR resource the account will stand for, if any
	CreatedBy string // the inviter's account id, or "operator"
	Created   time.Time
	Expires   time.Time
	Used      time.Time // zero until redeemed
	PersonID  string    // the account it created
}

// NewInvitation is what an administrator gives to invite someone.
type NewInvitation struct {
	Tenant string
	Role   string
	Email  string
	Name   string
	// FHIRUser links the account to its FHIR resource at once (a
	// patient's Patient/…), as LinkFHIR would.
	FHIRUser string
	TTL      time.Duration // 0: DefaultInvitationTTL
}

// ErrInvitation means an invitation token is unknown, expired or already
// used. It never says which.
var ErrInvitation = errors.New("identity: invitation unknown, expired or already used")

// Invite creates an invitation under the rules of Create: a tenant admin
// invites non-admins to their own tenant; only a super-admin (or the
// operator) invites an admin. Super-admins are not invited.
func (s *Service) Invite(ctx context.Context, by Actor, in NewInvitation) (Invitation, Token, error) {
	if in.TTL == 0 {
		in.TTL = DefaultInvitationTTL
	}
	if in.TTL < time.Minute || in.TTL > maxInvitationTTL {
		return Invitation{}, "", fmt.Errorf("%w: an invitation lasts 1 minute to 30 days", ErrInvalid)
	}
	if in.Role == RoleSuperAdmin || in.Tenant == "" {
		return Invitation{}, "", fmt.Errorf("%w: invitations are to a tenant; super-admins are created, not invited", ErrInvalid)
	}
	p := Person{Tenant: in.Tenant, Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), Role: in.Role}
	if err := p.validate(); err != nil {
		return Invitation{}, "", err
	}
	if err := may(by, p); err != nil {
		return Invitation{}, "", err
	}
	if in.FHIRUser != "" {
		if err := checkFHIRUser(in.Role, in.FHIRUser); err != nil {
			return Invitation{}, "", err
		}
	}
	tok, err := s.newToken(invitationPrefix)
	if err != nil {
		return Invitation{}, "", err
	}
	now := s.now().UTC()
	inv := Invitation{Hash: hashToken(tok.Reveal()), Tenant: p.Tenant, Role: p.Role, Email: p.Email, Name: p.Name, FHIRUser: in.FHIRUser,
		CreatedBy: by.ID, Created: now, Expires: now.Add(in.TTL)}
	if by.Operator {
		inv.CreatedBy = "operator"
	}
	if err := s.st.CreateInvitation(ctx, inv); err != nil {
		return Invitation{}, "", err
	}
	return inv, tok, nil
}

// Accept redeems an invitation: it creates the invitee's account with
// the username and password they chose (under the password policy; a
// *password.Violation or a taken username keeps the invitation for
// another try) and starts their first sign-in, which goes on to MFA
// enrolment. Every unusable token is ErrInvitation.
func (s *Service) Accept(ctx context.Context, token, username, pw string) (Person, SignIn, error) {
	if !strings.HasPrefix(token, invitationPrefix) || len(token) > 128 {
		return Person{}, SignIn{}, ErrInvitation
	}
	inv, err := s.st.Invitation(ctx, hashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Person{}, SignIn{}, ErrInvitation
	}
	if err != nil {
		return Person{}, SignIn{}, err
	}
	now := s.now().UTC()
	if !inv.Used.IsZero() || !now.Before(inv.Expires) {
		return Person{}, SignIn{}, ErrInvitation
	}
	u, err := NormalizeUsername(username)
	if err != nil {
		return Person{}, SignIn{}, err
	}
	p := Person{Tenant: inv.Tenant, Username: u, Email: inv.Email, Name: inv.Name, Role: inv.Role, FHIRUser: inv.FHIRUser}
	if err := p.validate(); err != nil {
		return Person{}, SignIn{}, err
	}
	who := password.Person{Username: p.Username, Email: p.Email, Names: strings.Fields(p.Name)}
	if err := s.check.Check(pw, who, nil); err != nil {
		return Person{}, SignIn{}, err
	}
	if p.PasswordHash, err = password.Hash(pw, s.params, s.rand); err != nil {
		return Person{}, SignIn{}, err
	}
	if p.ID, err = s.newID(); err != nil {
		return Person{}, SignIn{}, err
	}
	p.Created, p.PasswordChanged = now, now
	if err := s.st.RedeemInvitation(ctx, inv.Hash, now, p); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Person{}, SignIn{}, ErrInvitation // redeemed meanwhile
		}
		return Person{}, SignIn{}, err
	}
	in, err := s.nextStep(ctx, p)
	return p, in, err
}
