package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth/passkey"
	"github.com/wardhealth/ward/internal/auth/password"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// NewIdentity builds the account service over db with the password policy
// and argon2id cost of cfg.Passwords; sealer (nil for the CLI's account
// commands) encrypts second-factor secrets; now is the clock (nil:
// time.Now).
func NewIdentity(cfg config.Config, db *sqlite.DB, sealer identity.Sealer, now func() time.Time) (*identity.Service, error) {
	pol, err := password.Preset(cfg.Passwords.Policy)
	if err != nil {
		return nil, fmt.Errorf("passwords.policy: %w", err)
	}
	list, err := password.LoadBlocklist()
	if err != nil {
		return nil, err
	}
	chk, err := password.NewChecker(pol, list)
	if err != nil {
		return nil, err
	}
	params := password.DefaultParams()
	if v := cfg.Passwords.Argon2Time; v != 0 {
		params.Time = v
	}
	if v := cfg.Passwords.Argon2Memory; v != 0 {
		params.MemoryKiB = v
	}
	if v := cfg.Passwords.Argon2Threads; v != 0 {
		params.Threads = v
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("passwords: %w", err)
	}
	tenantIdle := map[string]time.Duration{}
	for t, d := range cfg.Sessions.TenantIdleTimeouts {
		tenantIdle[t] = d.D()
	}
	return identity.NewService(db, chk, identity.Options{Params: params, Sealer: sealer, Now: now,
		Idle: cfg.Sessions.IdleTimeout.D(), Lifetime: cfg.Sessions.Lifetime.D(), TenantIdle: tenantIdle,
		Passkeys: passkeys(cfg.BaseURL, now)})
}

// systemKeyTenant is the keyring tenant of deployment-wide secrets, such
// as super-admins' second factors. The underscore keeps it apart from
// every FHIR tenant name ([a-z0-9-]).
const systemKeyTenant = "_system"

// KeyringSealer seals people's second-factor secrets with the shared
// data key of their tenant (identity.Sealer).
type KeyringSealer struct{ KR *keyring.Keyring }

func keyTenant(tenant string) string {
	if tenant == "" {
		return systemKeyTenant
	}
	return tenant
}

// Seal implements identity.Sealer.
func (s KeyringSealer) Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error) {
	kt := keyTenant(tenant)
	id, err := s.KR.DataKey(ctx, kt, "")
	if err != nil {
		return nil, err
	}
	return s.KR.Seal(ctx, kt, id, plaintext, aad)
}

// Open implements identity.Sealer.
func (s KeyringSealer) Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error) {
	return s.KR.Open(ctx, keyTenant(tenant), ciphertext, aad)
}

// BootstrapAdmin creates the deployment's first super-admin, "admin", if
// it has none (at ward init and the first development start), and
// records it in the audit ledger as an operator action. It returns the
// account and its one-time password, which the caller shows once.
func (a *App) BootstrapAdmin(ctx context.Context) (identity.Person, identity.OneTimePassword, bool, error) {
	p, otp, created, err := a.Identity.Bootstrap(ctx)
	if err != nil || !created {
		return identity.Person{}, "", false, err
	}
	record := func(ctx context.Context, events []audit.Event) error { return RecordOperator(ctx, a.DB, events) }
	if err := RecordAccountCreated(ctx, record, a.Identity, p); err != nil {
		return identity.Person{}, "", false, err
	}
	return p, otp, true, nil
}

// RecordAccountCreated records, with record, that the operator created
// account p. If that fails it disables p again and returns the error:
// fail closed, since an account nobody can account for must not work.
func RecordAccountCreated(ctx context.Context, record func(context.Context, []audit.Event) error, ids *identity.Service, p identity.Person) error {
	ev := OperatorEvent(p.Tenant, audit.ActionExecute, "user-create", "User", p.ID, http.StatusCreated)
	if err := record(ctx, []audit.Event{ev}); err != nil {
		_, derr := ids.SetDisabled(ctx, identity.Actor{Operator: true}, p.ID, true)
		return errors.Join(err, derr)
	}
	return nil
}

// Allowlist builds the IP allowlist of cfg.
func Allowlist(cfg config.Config) (access.Allowlist, error) {
	var l access.Allowlist
	for i, r := range cfg.IPAllowlist {
		rule, err := access.ParseRule(r.Tenant, r.Role, r.Operation, r.CIDRs)
		if err != nil {
			return nil, fmt.Errorf("ip_allowlist rule %d: %w", i+1, err)
		}
		l = append(l, rule)
	}
	return l, nil
}

// passkeys is the WebAuthn relying party of the deployment's base URL:
// its host is the RP id and its origin the one browsers report. An IP
// address cannot be an RP id, so a base URL without a domain name (the
// development default https://127.0.0.1:8443) has no passkeys: set
// base_url to https://localhost:8443 to try them.
func passkeys(baseURL string, now func() time.Time) *passkey.Passkeys {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil
	}
	p, err := passkey.New(passkey.Config{RPID: strings.ToLower(u.Hostname()), RPDisplayName: "ward",
		Origins: []string{strings.ToLower(u.Scheme + "://" + u.Host)}, Now: now})
	if err != nil {
		return nil
	}
	return p
}

// Masks builds the field masks of cfg: its [[field_mask]] tables, or the
// shipped defaults when there are none.
func Masks(cfg config.Config) (access.Masks, error) {
	ms := access.DefaultMasks()
	if len(cfg.FieldMasks) > 0 {
		ms = nil
		for _, m := range cfg.FieldMasks {
			ms = append(ms, access.Mask{Role: m.Role, Type: m.Type, Remove: m.Remove})
		}
	}
	return access.NewMasks(ms)
}
