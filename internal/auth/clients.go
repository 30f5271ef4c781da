// Package auth identifies callers: service clients with OAuth 2 client
// credentials and the opaque bearer tokens issued to them. People
// accounts, MFA and sessions come later and live here too.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Roles a service client can hold.
const (
	// RoleService is full FHIR access within the client's tenant, for integrations.
	RoleService = "service"
	// RoleAuditor reads the audit trail of the client's tenant (a SIEM or
	// compliance tool) and nothing else: no clinical content.
	RoleAuditor = "auditor"
	// RolePrivacyOfficer reads the audit trail as the auditor does; the
	// privacy officer's other duties (reviews, disclosures) come with
	// people accounts.
	RolePrivacyOfficer = "privacy-officer"
)

// Roles lists every role ward knows, for validation and help text.
func Roles() []string { return []string{RoleService, RoleAuditor, RolePrivacyOfficer} }

// ErrInvalidCredentials means a client id/secret or bearer token did not
// verify. Callers must not say which part was wrong.
var ErrInvalidCredentials = errors.New("invalid credentials")

// Prefixes make leaked secrets recognisable by secret scanners.
const (
	secretPrefix = "ward_cs_"
	tokenPrefix  = "ward_at_"
)

// Principal is an authenticated caller.
type Principal struct {
	ID     string // client id (or user id later)
	Kind   string // "client"
	Tenant string
	Role   string
	// Session is a non-secret id of the access token (or, later, the
	// session) the principal presented, for the audit trail: the first
	// 8 bytes of SHA-256 of the stored token hash, in hex.
	Session string
	// Fresh is set for a person's session that stepped up within the
	// last 5 minutes, as sensitive operations require.
	Fresh bool
	// FHIRUser is the FHIR resource a person's account stands for
	// (Practitioner/…, Patient/…), "" if none.
	FHIRUser string
}

// Service issues and verifies client credentials and access tokens.
type Service struct {
	store Store
	now   func() time.Time
	rand  io.Reader
	ttl   time.Duration
}

// Options configure a Service; zero values take defaults.
type Options struct {
	TokenTTL time.Duration    // default 15m
	Now      func() time.Time // default time.Now
	Rand     io.Reader        // default crypto/rand.Reader
}

// NewService returns a Service over s.
func NewService(s Store, o Options) *Service {
	if o.TokenTTL == 0 {
		o.TokenTTL = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Service{store: s, now: o.Now, rand: o.Rand, ttl: o.TokenTTL}
}

// TokenTTL is the lifetime of issued tokens.
func (s *Service) TokenTTL() time.Duration { return s.ttl }

var (
	nameRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`)
	tenantRe = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// CreateClient registers a service client and returns its id and secret.
// The secret is shown once; only its hash is stored.
func (s *Service) CreateClient(ctx context.Context, tenant, name, role string) (id string, secret Secret, err error) {
	if !tenantRe.MatchString(tenant) {
		return "", "", errors.New("tenant must be 1-64 characters a-z, 0-9 or '-'")
	}
	if !nameRe.MatchString(name) {
		return "", "", errors.New("name must be 1-64 characters: letters, digits, space, '.', '_' or '-'")
	}
	if !validRole(role) {
		return "", "", fmt.Errorf("unknown role %q (roles: %s)", role, strings.Join(Roles(), ", "))
	}
	idb, err := s.random(16)
	if err != nil {
		return "", "", err
	}
	secret, err = s.newSecret()
	if err != nil {
		return "", "", err
	}
	id = "c-" + hex.EncodeToString(idb)
	c := Client{ID: id, Tenant: tenant, Name: name, Role: role, SecretHash: hash(string(secret)), Created: s.now().UTC()}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return "", "", fmt.Errorf("create client: %w", err)
	}
	return id, secret, nil
}

// newSecret returns a fresh client secret: 256 random bits, prefixed.
func (s *Service) newSecret() (Secret, error) {
	b, err := s.random(32)
	if err != nil {
		return "", err
	}
	return Secret(secretPrefix + base64.RawURLEncoding.EncodeToString(b)), nil
}

// IssueToken verifies a client's credentials and returns a new bearer
// token. The secret may be the current one or, until its grace period
// ends, the one the last rotation replaced. Unknown client, wrong or
// retired secret and disabled client all yield ErrInvalidCredentials.
func (s *Service) IssueToken(ctx context.Context, clientID, secret string) (Secret, Principal, error) {
	c, err := s.store.Client(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		// Spend the same work as a real comparison.
		secretMatches(Client{SecretHash: make([]byte, sha256.Size)}, hash(secret), s.now())
		return "", Principal{}, ErrInvalidCredentials
	}
	if err != nil {
		return "", Principal{}, fmt.Errorf("issue token: %w", err)
	}
	if !secretMatches(c, hash(secret), s.now()) || c.Disabled {
		return "", Principal{}, ErrInvalidCredentials
	}
	tb, err := s.random(32)
	if err != nil {
		return "", Principal{}, err
	}
	tok := Secret(tokenPrefix + base64.RawURLEncoding.EncodeToString(tb))
	now := s.now().UTC()
	t := Token{Hash: hash(string(tok)), ClientID: c.ID, Tenant: c.Tenant, Role: c.Role, Issued: now, Expires: now.Add(s.ttl)}
	if err := s.store.PutToken(ctx, t); err != nil {
		return "", Principal{}, fmt.Errorf("issue token: %w", err)
	}
	return tok, Principal{ID: c.ID, Kind: "client", Tenant: c.Tenant, Role: c.Role, Session: sessionID(t.Hash)}, nil
}

// Authenticate resolves a bearer token to its principal.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if !strings.HasPrefix(bearer, tokenPrefix) || len(bearer) > 128 {
		return Principal{}, ErrInvalidCredentials
	}
	h := hash(bearer)
	t, err := s.store.Token(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrInvalidCredentials
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if !s.now().Before(t.Expires) {
		return Principal{}, ErrInvalidCredentials
	}
	return Principal{ID: t.ClientID, Kind: "client", Tenant: t.Tenant, Role: t.Role, Session: sessionID(h)}, nil
}

// secretMatches reports whether h is the hash of c's current secret or of
// its previous one before c.PreviousUntil. Both comparisons always run,
// in constant time, against a full-length hash, so timing tells neither
// which secret matched nor whether a previous one exists.
func secretMatches(c Client, h []byte, now time.Time) bool {
	prev := c.PreviousSecretHash
	if len(prev) != sha256.Size {
		prev = make([]byte, sha256.Size) // no SHA-256 output is all zeros in practice
	}
	cur := subtle.ConstantTimeCompare(h, c.SecretHash)
	old := subtle.ConstantTimeCompare(h, prev) & boolInt(now.Before(c.PreviousUntil))
	return cur|old == 1
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DisableClient disables a client, revokes its tokens at once and retires
// any previous secret still in its grace period.
func (s *Service) DisableClient(ctx context.Context, id string) error {
	return s.store.SetClientDisabled(ctx, id, true)
}

func (s *Service) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

func validRole(r string) bool {
	for _, x := range Roles() {
		if r == x {
			return true
		}
	}
	return false
}

// hash is SHA-256. Secrets and tokens are 256-bit random values, so a
// fast hash is sufficient (no dictionary to guard against); see
// docs/decisions/0004-service-credentials.md.
// sessionID names a token in the audit trail without revealing its
// stored hash.
func sessionID(tokenHash []byte) string {
	h := sha256.Sum256(tokenHash)
	return hex.EncodeToString(h[:8])
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Secret is a credential that must never be logged. String, Format and
// LogValue redact it; use Reveal to print it once to its owner.
type Secret string

// String redacts.
func (Secret) String() string { return "[redacted]" }

// GoString redacts.
func (Secret) GoString() string { return "[redacted]" }

// MarshalText redacts, so the secret cannot leak through encoding.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }
