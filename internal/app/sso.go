package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/wardhealth/ward/internal/api"
	"github.com/wardhealth/ward/internal/auth/sso"
	"github.com/wardhealth/ward/internal/config"
)

// discoveryTimeout bounds a provider's discovery at a sign-in, so that a
// provider that does not answer fails the sign-in rather than hold it.
const discoveryTimeout = 10 * time.Second

// SSO is the tenants' OpenID Connect providers (api.SSO). Each
// provider's sso.Client is built at its first sign-in and kept: ward
// starts, and other sign-ins go on, while a provider is down; a failed
// discovery is tried again at the next sign-in.
type SSO struct {
	providers map[string]*ssoProvider // by tenant + "/" + name; fixed by NewSSO
	hc        *http.Client            // nil: sso's default (30 s timeout)
}

// ssoProvider is one configured provider and its client once built.
type ssoProvider struct {
	conf        sso.Provider
	linkByEmail bool

	mu     sync.Mutex // guards client; held during discovery
	client *sso.Client
}

// NewSSO reads the client secret of every [[sso]] provider of cfg and
// returns the providers, not yet discovered. hc carries requests to the
// providers (nil: a client with a 30-second timeout). The callback of
// each is base_url + /auth/sso/{tenant}/{name}/callback.
func NewSSO(cfg config.Config, hc *http.Client) (*SSO, error) {
	s := &SSO{providers: map[string]*ssoProvider{}, hc: hc}
	for _, p := range cfg.SSO {
		secret, err := os.ReadFile(p.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("sso %s/%s: client_secret_file: %w", p.Tenant, p.Name, err)
		}
		secret = bytes.TrimSpace(secret)
		if len(secret) == 0 {
			return nil, fmt.Errorf("sso %s/%s: client_secret_file %s is empty", p.Tenant, p.Name, p.ClientSecretFile)
		}
		s.providers[p.Tenant+"/"+p.Name] = &ssoProvider{
			conf: sso.Provider{
				Issuer:       p.Issuer,
				ClientID:     p.ClientID,
				ClientSecret: string(secret),
				RedirectURL:  cfg.BaseURL + "/auth/sso/" + p.Tenant + "/" + p.Name + "/callback",
				Scopes:       p.Scopes,
				TrustMFA:     p.TrustMFA,
			},
			linkByEmail: p.LinkByEmail,
		}
	}
	return s, nil
}

// Begin implements api.SSO.
func (s *SSO) Begin(ctx context.Context, tenant, name string) (api.SSOStart, error) {
	c, _, err := s.client(ctx, tenant, name)
	if err != nil {
		return api.SSOStart{}, err
	}
	st, err := c.Begin(nil)
	if err != nil {
		return api.SSOStart{}, err
	}
	return api.SSOStart{URL: st.URL, State: st.State, Nonce: st.Nonce, Verifier: st.Verifier}, nil
}

// Finish implements api.SSO.
func (s *SSO) Finish(ctx context.Context, tenant, name string, st api.SSOStart, state, code string) (api.SSOIdentity, error) {
	c, p, err := s.client(ctx, tenant, name)
	if err != nil {
		return api.SSOIdentity{}, err
	}
	cl, err := c.Finish(ctx, sso.Start{URL: st.URL, State: st.State, Nonce: st.Nonce, Verifier: st.Verifier}, state, code)
	if err != nil {
		return api.SSOIdentity{}, err
	}
	return api.SSOIdentity{Issuer: cl.Issuer, Subject: cl.Subject, Email: cl.Email, EmailVerified: cl.EmailVerified,
		MFA: cl.MFA, LinkByEmail: p.linkByEmail}, nil
}

// client returns the client of provider name of tenant, running its
// discovery if this is its first use (or the last one failed).
func (s *SSO) client(ctx context.Context, tenant, name string) (*sso.Client, *ssoProvider, error) {
	p, ok := s.providers[tenant+"/"+name]
	if !ok {
		return nil, nil, api.ErrNoProvider
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		dctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
		defer cancel()
		c, err := sso.New(dctx, p.conf, s.hc)
		if err != nil {
			return nil, nil, err
		}
		p.client = c
	}
	return p.client, p, nil
}
