package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// SSOProvider is one tenant's OpenID Connect identity provider for staff
// single sign-on (a [[sso]] table). Its client secret stays in a file,
// never in the configuration.
type SSOProvider struct {
	Tenant string `toml:"tenant"`
	// Name identifies the provider within its tenant, in URLs
	// (/auth/sso/{tenant}/{name}/start): 1 to 32 of [a-z0-9-].
	Name string `toml:"name"`
	// Issuer is the provider's issuer URL exactly as its ID tokens name
	// it: https (plain http only for a loopback host in development).
	Issuer   string `toml:"issuer"`
	ClientID string `toml:"client_id"`
	// ClientSecretFile holds ward's client secret at the provider.
	ClientSecretFile string `toml:"client_secret_file"`
	// Scopes requested besides openid; default openid, email, profile.
	Scopes []string `toml:"scopes"`
	// TrustMFA accepts the provider's amr claim as multi-factor
	// authentication, so ward asks for no second factor of its own.
	TrustMFA bool `toml:"trust_mfa"`
	// LinkByEmail links a provider's person to the only enabled staff
	// account of the tenant with the e-mail address the provider
	// verified, at their first sign-in; off by default.
	LinkByEmail bool `toml:"link_by_email"`
}

var (
	ssoNameRe   = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
	ssoTenantRe = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

// FinishSSO validates the [[sso]] tables. Finish calls it; commands that
// only manage data call it when they need a provider.
func (c *Config) FinishSSO() error {
	seen := map[string]bool{}
	for i, p := range c.SSO {
		where := fmt.Sprintf("sso[%d]", i+1)
		if !ssoTenantRe.MatchString(p.Tenant) {
			return fmt.Errorf("%s: tenant must be a tenant name (1 to 64 of a-z, 0-9, -)", where)
		}
		if !ssoNameRe.MatchString(p.Name) {
			return fmt.Errorf("%s: name must be 1 to 32 of a-z, 0-9, -", where)
		}
		where = fmt.Sprintf("sso[%d] (%s/%s)", i+1, p.Tenant, p.Name)
		if seen[p.Tenant+"/"+p.Name] {
			return fmt.Errorf("%s: name is used twice in tenant %s", where, p.Tenant)
		}
		seen[p.Tenant+"/"+p.Name] = true
		if err := c.ssoIssuer(p.Issuer); err != nil {
			return fmt.Errorf("%s: issuer %w", where, err)
		}
		if strings.TrimSpace(p.ClientID) == "" {
			return fmt.Errorf("%s: client_id is required", where)
		}
		if p.ClientSecretFile == "" {
			return fmt.Errorf("%s: client_secret_file is required (a file holding the client secret; the secret itself never goes in the configuration)", where)
		}
		for _, s := range p.Scopes {
			if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == '\\' || r == 0x7f }) {
				return fmt.Errorf("%s: scope %q is not a single scope token", where, s)
			}
		}
	}
	return nil
}

// ssoIssuer checks an issuer URL: https, or in development plain http on
// a loopback host (a provider run locally).
func (c *Config) ssoIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be an absolute URL with a host and no user info, query or fragment")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && c.Env == Development && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("must be an https:// URL (plain http only for a loopback host in development)")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// FindSSO returns the provider name of tenant, if configured.
func (c *Config) FindSSO(tenant, name string) (SSOProvider, bool) {
	for _, p := range c.SSO {
		if p.Tenant == tenant && p.Name == name {
			return p, true
		}
	}
	return SSOProvider{}, false
}
