package sso

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// defaultTimeout bounds each back-channel request when New is given no
// http.Client; a hung provider must not hold a sign-in forever.
const defaultTimeout = 30 * time.Second

// Provider is one tenant's identity provider, from configuration.
// String, GoString and LogValue redact ClientSecret.
type Provider struct {
	// Issuer is the provider's issuer URL exactly as it appears in its ID
	// tokens; discovery is at Issuer/.well-known/openid-configuration. It
	// must be https unless its host is loopback (local development, tests).
	Issuer string
	// ClientID is ward's client id at the provider.
	ClientID string
	// ClientSecret is ward's client secret at the provider (ward is a
	// confidential client).
	ClientSecret string
	// RedirectURL is ward's callback URL, registered at the provider. It
	// must be https unless its host is loopback.
	RedirectURL string
	// Scopes are the scopes requested; "openid" is always added. Empty
	// means openid, email and profile.
	Scopes []string
	// TrustMFA accepts the provider's amr claim as ward's multi-factor
	// authentication (see Claims.MFA).
	TrustMFA bool
}

// String describes the provider without its client secret.
func (p Provider) String() string {
	return fmt.Sprintf("sso.Provider{Issuer: %q, ClientID: %q, ClientSecret: [redacted], RedirectURL: %q, Scopes: %q, TrustMFA: %t}",
		p.Issuer, p.ClientID, p.RedirectURL, p.Scopes, p.TrustMFA)
}

// GoString describes the provider without its client secret, for %#v.
func (p Provider) GoString() string { return p.String() }

// LogValue describes the provider to log/slog without its client secret.
func (p Provider) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("issuer", p.Issuer),
		slog.String("client_id", p.ClientID),
		slog.String("redirect_url", p.RedirectURL),
		slog.Bool("trust_mfa", p.TrustMFA),
	)
}

// Client is a relying party for one Provider, ready after discovery. It
// holds no per-sign-in state and is safe for concurrent use.
type Client struct {
	issuer   string
	clientID string
	trustMFA bool
	hc       *http.Client
	oauth    oauth2.Config
	// verifier checks everything go-oidc checks; only its answer admits a
	// token. sigOnly checks the signature alone and is used after a
	// failure to name the check that failed.
	verifier *oidc.IDTokenVerifier
	sigOnly  *oidc.IDTokenVerifier
}

// New checks p, fetches the provider's discovery document and returns a
// Client for it. hc carries every request to the provider (discovery,
// signing keys, code exchange), so its transport decides proxies and
// trusted roots; nil means a client with a 30-second timeout. ctx bounds
// discovery only.
//
// Errors wrap ErrConfig (p is incomplete or unsafe; no request is made) or
// ErrDiscovery (the provider is unreachable, or its document does not
// match p.Issuer, lacks an endpoint, uses plain http, or does not offer
// PKCE with S256).
func New(ctx context.Context, p Provider, hc *http.Client) (*Client, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), p.Issuer)
	if err != nil {
		return nil, discoveryError(p.Issuer, err)
	}
	if err := checkDiscovery(op); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrDiscovery, p.Issuer, err)
	}
	return &Client{
		issuer:   p.Issuer,
		clientID: p.ClientID,
		trustMFA: p.TrustMFA,
		hc:       hc,
		oauth: oauth2.Config{
			ClientID:     p.ClientID,
			ClientSecret: p.ClientSecret,
			Endpoint:     op.Endpoint(),
			RedirectURL:  p.RedirectURL,
			Scopes:       scopes(p.Scopes),
		},
		verifier: op.Verifier(&oidc.Config{ClientID: p.ClientID}),
		sigOnly: op.Verifier(&oidc.Config{
			SkipClientIDCheck: true, SkipExpiryCheck: true, SkipIssuerCheck: true,
		}),
	}, nil
}

// check reports what makes p unusable, before any request is made.
func (p Provider) check() error {
	if err := secureURL(p.Issuer); err != nil {
		return fmt.Errorf("%w: issuer: %s", ErrConfig, err)
	}
	if u, _ := url.Parse(p.Issuer); u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: issuer: must have no query or fragment", ErrConfig)
	}
	if p.ClientID == "" {
		return fmt.Errorf("%w: client id is empty", ErrConfig)
	}
	if p.ClientSecret == "" {
		return fmt.Errorf("%w: client secret is empty", ErrConfig)
	}
	if err := secureURL(p.RedirectURL); err != nil {
		return fmt.Errorf("%w: redirect URL: %s", ErrConfig, err)
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return fmt.Errorf("%w: scope %q is not a single scope token", ErrConfig, s)
		}
	}
	return nil
}

// secureURL accepts an absolute https URL, or an http one whose host is
// loopback: secrets and codes must not cross a network in clear.
func secureURL(raw string) error {
	if raw == "" {
		return errors.New("is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Host == "" || u.User != nil {
		// Redacted, as a password in user info would otherwise be quoted.
		return fmt.Errorf("%q is not an absolute URL with a host and no user info", u.Redacted())
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("%q must use https (plain http only for a loopback host)", raw)
	}
}

// isLoopback reports whether host is "localhost" or a loopback IP literal.
// Names other than localhost are not resolved: DNS could point them anywhere.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// discoveryError explains a go-oidc discovery failure without copying the
// response body, which may be a large error page.
func discoveryError(issuer string, err error) error {
	var mismatch *oidc.IssuerMismatchError
	var uerr *url.Error
	switch {
	case errors.As(err, &mismatch):
		return fmt.Errorf("%w: %s: discovery document names issuer %q; the configured issuer must match it exactly", ErrDiscovery, issuer, mismatch.Discovered)
	case errors.As(err, &uerr):
		// Keep the chain so callers can test for context deadlines.
		return fmt.Errorf("%w: %s: provider unreachable: %w", ErrDiscovery, issuer, uerr.Err)
	default:
		// go-oidc reports a non-200 answer as "<status>: <body>"; keep the
		// status only.
		msg := err.Error()
		if status, _, ok := strings.Cut(msg, ":"); ok && len(status) >= 3 && strings.Trim(status[:3], "0123456789") == "" {
			return fmt.Errorf("%w: %s: discovery answered HTTP %s", ErrDiscovery, issuer, status)
		}
		if strings.Contains(msg, "decode") {
			return fmt.Errorf("%w: %s: discovery document is not valid JSON", ErrDiscovery, issuer)
		}
		return fmt.Errorf("%w: %s: discovery document unreadable", ErrDiscovery, issuer)
	}
}

// checkDiscovery rejects a discovery document ward cannot use safely.
func checkDiscovery(op *oidc.Provider) error {
	var doc struct {
		JWKSURL   string   `json:"jwks_uri"`
		PKCE      []string `json:"code_challenge_methods_supported"`
		Responses []string `json:"response_types_supported"`
	}
	if err := op.Claims(&doc); err != nil {
		return errors.New("discovery document is not valid JSON")
	}
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", op.Endpoint().AuthURL},
		{"token_endpoint", op.Endpoint().TokenURL},
		{"jwks_uri", doc.JWKSURL},
	} {
		if err := secureURL(e.url); err != nil {
			return fmt.Errorf("%s: %s", e.name, err)
		}
	}
	// Both fields are optional in discovery; when present they must allow
	// what Begin sends. Entra ID, for one, omits the PKCE list.
	if len(doc.PKCE) > 0 && !slices.Contains(doc.PKCE, "S256") {
		return errors.New("provider does not support PKCE with S256")
	}
	if len(doc.Responses) > 0 && !slices.Contains(doc.Responses, "code") {
		return errors.New("provider does not support the authorization-code flow")
	}
	return nil
}

// scopes returns the requested scopes with "openid" first and once;
// none requested means openid, email and profile.
func scopes(requested []string) []string {
	if len(requested) == 0 {
		return []string{oidc.ScopeOpenID, "email", "profile"}
	}
	out := []string{oidc.ScopeOpenID}
	for _, s := range requested {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
