package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/identity"
)

// Single sign-on for staff through a tenant's OpenID Connect provider, a
// browser flow in two requests:
//
//	GET /auth/sso/{tenant}/{provider}/start     302 to the provider, with the
//	                                             __Host-ward_sso binding cookie
//	GET /auth/sso/{tenant}/{provider}/callback  the provider sends the browser
//	                                             back with state and code
//
// The callback answers like the other sign-in steps: a session (in the
// session cookie, with the CSRF token in the body) or the next step
// ({"status":"mfa_required","mfa_token":...}). Every failure gets one
// answer that reveals nothing about accounts.

// SSO runs sign-ins with tenants' identity providers; the app adapts
// internal/auth/sso, discovering each provider at its first use.
type SSO interface {
	// Begin starts a sign-in at provider of tenant: the URL to send the
	// browser to and the secrets to keep. ErrNoProvider if none such is
	// configured.
	Begin(ctx context.Context, tenant, provider string) (SSOStart, error)
	// Finish checks the provider's answer (state, code) to sign-in st,
	// redeems the code and returns whom the provider signed in.
	Finish(ctx context.Context, tenant, provider string, st SSOStart, state, code string) (SSOIdentity, error)
}

// ErrNoProvider means no identity provider of that name is configured
// for the tenant.
var ErrNoProvider = errors.New("no such identity provider")

// SSOStart is one sign-in at a provider: the URL to send the browser to
// and its secrets (state, nonce, PKCE verifier). String and GoString
// redact it.
type SSOStart struct {
	URL, State, Nonce, Verifier string
}

func (SSOStart) String() string   { return "api.SSOStart{[redacted]}" }
func (SSOStart) GoString() string { return "api.SSOStart{[redacted]}" }

// SSOIdentity is whom a provider signed in, from its verified ID token,
// with the provider's settings that decide what ward does next.
type SSOIdentity struct {
	Issuer, Subject, Email string
	EmailVerified          bool
	// MFA: the provider asserted multi-factor authentication (amr) and
	// is configured with trust_mfa.
	MFA bool
	// LinkByEmail: the provider is configured with link_by_email.
	LinkByEmail bool
}

// ssoCookieName holds the binding of a sign-in to the browser that began
// it. SameSite=Lax, not Strict: the provider's redirect back is a
// cross-site top-level navigation, which must carry it.
const ssoCookieName = "__Host-ward_sso"

func ssoCookie(v string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: ssoCookieName, Value: v, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// ssoRoute registers a GET step of the flow and records one audit event
// for it (E, subtype, the account when known), like signIn.
func (s *Server) ssoRoute(pattern, subtype string, step func(c *call) *reply) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{s: s, r: r, rid: requestInfoFrom(r.Context()).id, subtype: subtype}
		rep := step(c)
		account := c.p.ID
		if r := c.refused; r != nil {
			account = r.PersonID
		}
		c.event(audit.ActionExecute, subtype, "User", account, 0)
		c.finish(w, rep)
	})
}

// ssoFailed is the one answer to every failed callback.
func ssoFailed() *reply {
	return statusJSON(http.StatusUnauthorized, oauthError("sso_failed", "sign-in with the identity provider failed; start again"))
}

// ssoUnavailable answers a start when the provider's discovery failed.
func ssoUnavailable() *reply {
	return statusJSON(http.StatusServiceUnavailable, oauthError("temporarily_unavailable", "the identity provider cannot be reached; try again later"))
}

// ssoLimited applies the sign-in limits per address (shared with
// POST /auth/login and the token endpoint) to both steps.
func (s *Server) ssoLimited(c *call) *reply {
	if ok, wait := s.d.TokenIP.Allow(clientIP(c.r)); !ok {
		return statusJSON(http.StatusTooManyRequests, oauthError("slow_down", "too many sign-in attempts from this address; wait "+wait.Round(time.Second).String()))
	}
	if status, body := s.signInQuota(c); status != 0 {
		return statusJSON(status, body)
	}
	return nil
}

// ssoStart begins a sign-in and sends the browser to the provider.
func (s *Server) ssoStart(c *call) *reply {
	if s.d.SSO == nil || s.d.People == nil {
		return statusJSON(http.StatusNotFound, oauthError("not_found", "no such identity provider"))
	}
	if rep := s.ssoLimited(c); rep != nil {
		return rep
	}
	ctx, tenant, name := c.r.Context(), c.r.PathValue("tenant"), c.r.PathValue("provider")
	st, err := s.d.SSO.Begin(ctx, tenant, name)
	if errors.Is(err, ErrNoProvider) {
		return statusJSON(http.StatusNotFound, oauthError("not_found", "no such identity provider"))
	}
	if err != nil {
		s.d.Log.Error("sso start failed", "request_id", c.rid, "err", err.Error())
		return ssoUnavailable()
	}
	c.p.Tenant = tenant // a configured tenant, not any string from the URL
	binding, err := s.d.People.BeginSSO(ctx, tenant, name, st.State, st.Nonce, st.Verifier)
	if err != nil {
		s.d.Log.Error("sso start failed", "request_id", c.rid, "err", err.Error())
		return statusJSON(http.StatusServiceUnavailable, oauthError("temporarily_unavailable", "try again later"))
	}
	c.cookie = ssoCookie(binding.Reveal(), int(identity.SSOTTL.Seconds()))
	rep := &reply{status: http.StatusFound, header: http.Header{}}
	rep.header.Set("Location", st.URL)
	return rep
}

// ssoCallback finishes a sign-in when the provider sends the browser
// back. The sign-in is taken (and so ended) first, whatever follows, and
// the binding cookie is cleared.
func (s *Server) ssoCallback(c *call) *reply {
	rep := s.ssoFinish(c)
	rep.header.Add("Set-Cookie", ssoCookie("", -1).String())
	return rep
}

// ssoFinish is the callback's work: binding and state, the provider's
// answer, then the account.
func (s *Server) ssoFinish(c *call) *reply {
	if s.d.SSO == nil || s.d.People == nil {
		return statusJSON(http.StatusNotFound, oauthError("not_found", "no such identity provider"))
	}
	if rep := s.ssoLimited(c); rep != nil {
		return rep
	}
	ctx, tenant, name := c.r.Context(), c.r.PathValue("tenant"), c.r.PathValue("provider")
	q := c.r.URL.Query()
	state := q.Get("state")
	var binding string
	if ck, err := c.r.Cookie(ssoCookieName); err == nil {
		binding = ck.Value
	}
	nonce, verifier, err := s.d.People.TakeSSO(ctx, tenant, name, state, binding)
	if q.Has("error") {
		// The provider refused (access_denied, login_required, ...). Its
		// code is logged only if it looks like one, never its description.
		code := q.Get("error")
		if !errorCode(code) {
			code = "(malformed)"
		}
		s.d.Log.Info("sso refused by the provider", "request_id", c.rid, "error", code)
		return ssoFailed()
	}
	if err != nil {
		return s.ssoFailure(c, err)
	}
	c.p.Tenant = tenant // the tenant of a sign-in begun here
	id, err := s.d.SSO.Finish(ctx, tenant, name, SSOStart{State: state, Nonce: nonce, Verifier: verifier}, state, q.Get("code"))
	if err != nil {
		// sso errors name the failed check and never a token or claim.
		s.d.Log.Warn("sso callback refused", "request_id", c.rid, "err", err.Error())
		return ssoFailed()
	}
	in, o, err := s.d.People.SignInExternal(ctx, tenant, id.Issuer, id.Subject, id.Email, id.EmailVerified, id.MFA, id.LinkByEmail)
	if err != nil {
		return s.ssoFailure(c, err)
	}
	c.asPerson(in.PersonID, tenant)
	if in.Linked {
		c.event(audit.ActionCreate, "sso-link", "User", in.PersonID, 0).Outcome = http.StatusCreated
	}
	role, err := s.ssoRole(ctx, in, o)
	if err == nil && !s.permitted(c.r, tenant, role, access.OpSignIn).Allow {
		err = errAllowlist
	}
	if err != nil {
		if o.Token != "" { // opened already: end it unused
			if lerr := s.d.People.Logout(ctx, o.Token.Reveal()); lerr != nil {
				s.d.Log.Error("sso: could not end a refused session", "request_id", c.rid, "err", lerr.Error())
			}
		}
		if errors.Is(err, errAllowlist) {
			return statusJSON(http.StatusForbidden, oauthError("forbidden", "sign-in from this address is not allowed for this account"))
		}
		return s.ssoFailure(c, err)
	}
	if o.Token != "" {
		status, body := s.opened(c, o, true)
		return statusJSON(status, body)
	}
	return statusJSON(http.StatusOK, signInStep(in))
}

// ssoFailure answers a failed callback: ErrSSO (naming the account in
// the audit trail when known) as every other failure, anything else as
// a fault of ward's.
func (s *Server) ssoFailure(c *call, err error) *reply {
	var r *identity.SSORefused
	if errors.As(err, &r) {
		c.refused = &identity.Refused{PersonID: r.PersonID}
	}
	if errors.Is(err, identity.ErrSSO) {
		return ssoFailed()
	}
	s.d.Log.Error("sso callback failed", "request_id", c.rid, "err", err.Error())
	return statusJSON(http.StatusServiceUnavailable, oauthError("temporarily_unavailable", "try again later"))
}

// errAllowlist refuses a sign-in from an address the IP allowlist does
// not admit for the account.
var errAllowlist = errors.New("sign-in from this address is not allowed")

// ssoRole is the role of the account a callback signed in, for the IP
// allowlist.
func (s *Server) ssoRole(ctx context.Context, in identity.SignIn, o identity.Opened) (string, error) {
	if o.Token != "" {
		return o.Session.Role, nil
	}
	p, err := s.d.People.PersonOf(ctx, in.Token.Reveal())
	return p.Role, err
}

// errorCode accepts an OAuth error code (RFC 6749 4.1.2.1: access_denied,
// login_required, ...) and nothing a sender could hide data in.
func errorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}
