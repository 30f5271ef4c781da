package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
)

// idpUser is a person at the in-process provider, with the claims the
// test chooses (mockoidc's own MockUser has no amr).
type idpUser struct {
	sub, email string
	verified   bool
	amr        []string
}

type idpClaims struct {
	*mockoidc.IDTokenClaims
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	AMR           []string `json:"amr,omitempty"`
}

func (u *idpUser) ID() string { return u.sub }

func (u *idpUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]string{"sub": u.sub, "email": u.email})
}

// Claims implements mockoidc.User, whose signature names golang-jwt.
func (u *idpUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &idpClaims{IDTokenClaims: base, Email: u.email, EmailVerified: u.verified, AMR: u.amr}, nil
}

// startIDP runs a real OpenID Connect provider (mockoidc) on a loopback
// port for the test.
func startIDP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// ssoBrowser plays a browser that does not follow redirects: each test
// step looks at them.
func ssoBrowser(h *apitest.Harness) *http.Client {
	return &http.Client{
		Transport:     h.Client.Transport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// browse sends a GET with cookie (if any) and returns the response with its body read.
func browse(t *testing.T, b *http.Client, u, cookie string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// cookieNamed returns "name=value" of the Set-Cookie for name, and the
// whole header.
func cookieNamed(resp *http.Response, name string) (string, string) {
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return strings.SplitN(v, ";", 2)[0], v
		}
	}
	return "", ""
}

// ssoFlow is one sign-in in the browser up to ward's callback.
type ssoFlow struct {
	cookie   string // the __Host-ward_sso binding, as name=value
	callback string // ward's callback path and query, as the provider sent it
	state    string
}

// startSSO runs GET start, then the provider's authorization endpoint
// (which signs u in at once), and returns where the provider sends the
// browser back, without going there.
func startSSO(t *testing.T, h *apitest.Harness, b *http.Client, provider string, u *idpUser, m *mockoidc.MockOIDC) ssoFlow {
	t.Helper()
	resp, body := browse(t, b, h.BaseURL+"/auth/sso/default/"+provider+"/start", "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	cookie, set := cookieNamed(resp, "__Host-ward_sso")
	for _, attr := range []string{"__Host-ward_sso=ward_sso_", "Path=/", "Max-Age=600", "Secure", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(set, attr) {
			t.Errorf("Set-Cookie %q lacks %s", set, attr)
		}
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, m.AuthorizationEndpoint()+"?") {
		t.Fatalf("start redirects to %q, want the provider", loc)
	}
	if u != nil {
		m.QueueUser(u)
	}
	resp, body = browse(t, b, loc, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider: %d %s", resp.StatusCode, body)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "/auth/sso/default/" + provider + "/callback"; back.Path != want || back.Query().Get("code") == "" {
		t.Fatalf("provider sends the browser to %q, want %s with a code", back, want)
	}
	return ssoFlow{cookie: cookie, callback: back.Path + "?" + back.RawQuery, state: back.Query().Get("state")}
}

// finish calls ward's callback as the browser, with cookie.
func (f ssoFlow) finish(t *testing.T, h *apitest.Harness, b *http.Client, cookie string) (*http.Response, map[string]any) {
	t.Helper()
	resp, body := browse(t, b, h.BaseURL+f.callback, cookie)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("callback: %d, not JSON: %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("callback: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if _, set := cookieNamed(resp, "__Host-ward_sso"); !strings.Contains(set, "Max-Age=0") {
		t.Errorf("callback does not clear the binding cookie: %q", set)
	}
	return resp, out
}

// TestSSOSignIn runs staff single sign-on end to end against a real
// OpenID Connect provider in the process: a provider ward does not trust
// for MFA leads to ward's own second factor, one it trusts (with amr
// pwd+otp) opens the session, link_by_email links a verified address,
// and every forged, replayed, unbound or refused callback gets the same
// answer. Every step is audited without the subject, e-mail or a secret.
func TestSSOSignIn(t *testing.T) {
	m := startIDP(t)
	secretFile := filepath.Join(t.TempDir(), "idp.secret")
	if err := os.WriteFile(secretFile, []byte(m.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	provider := func(name string, trustMFA, byEmail bool) config.SSOProvider {
		return config.SSOProvider{Tenant: "default", Name: name, Issuer: m.Issuer(), ClientID: m.ClientID,
			ClientSecretFile: secretFile, TrustMFA: trustMFA, LinkByEmail: byEmail}
	}
	clk := &testClock{t: timeNow()}
	h := apitest.NewWithClock(t, clk.now, func(c *config.Config) {
		c.SSO = []config.SSOProvider{provider("okta", false, false), provider("okta-mfa", true, false), provider("okta-email", true, true)}
		c.TokenRate.Burst = 100
	})
	b := ssoBrowser(h)
	ctx := context.Background()

	nurse, _, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "nurse.ada", Role: identity.RoleNurse, Email: "ada@clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	ada := &idpUser{sub: "00u1ada7", email: "ada@clinic.example", verified: true}
	if err := h.App.Identity.LinkSSO(ctx, identity.Actor{Operator: true}, nurse.ID, m.Issuer(), ada.sub); err != nil {
		t.Fatal(err)
	}
	h.DrainEvents()

	// Without trust_mfa: first ward's MFA enrolment (never the one-time
	// password's change), later a code.
	f := startSSO(t, h, b, "okta", ada, m)
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "sso-start", EntityType: "User", EntityID: "", Outcome: 302}})
	resp, out := f.finish(t, h, b, f.cookie)
	if resp.StatusCode != http.StatusOK || out["status"] != string(identity.StepEnroll) || out["mfa_token"] == nil {
		t.Fatalf("first callback: %d %v", resp.StatusCode, out)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "sso-callback", EntityType: "User", EntityID: nurse.ID, Outcome: 200}})
	_, secret := enrol(t, h, clk, out["mfa_token"].(string))

	clk.add(time.Minute)
	f = startSSO(t, h, b, "okta", ada, m)
	resp, out = f.finish(t, h, b, f.cookie)
	if resp.StatusCode != http.StatusOK || out["status"] != string(identity.StepTOTP) {
		t.Fatalf("second callback: %d %v", resp.StatusCode, out)
	}
	if c, _ := cookieNamed(resp, "__Host-ward_session"); c != "" {
		t.Errorf("a session cookie before the second factor: %q", c)
	}
	h.DrainEvents()
	ses := post(t, h, "/auth/mfa/totp", map[string]string{"mfa_token": out["mfa_token"].(string), "code": totpCode(t, secret, clk.now())}, 200)
	if ses["access_token"] == nil {
		t.Fatalf("TOTP after the provider: %v", ses)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "mfa-totp", EntityType: "User", EntityID: nurse.ID, Outcome: 200}})

	// With trust_mfa and amr pwd+otp: the session opens at once, in the
	// session cookie, with the CSRF token in the body.
	mfaAda := *ada
	mfaAda.amr = []string{"pwd", "otp"}
	f = startSSO(t, h, b, "okta-mfa", &mfaAda, m)
	h.DrainEvents()
	resp, out = f.finish(t, h, b, f.cookie)
	session, set := cookieNamed(resp, "__Host-ward_session")
	if resp.StatusCode != http.StatusOK || out["status"] != "ok" || out["csrf_token"] == nil || out["access_token"] != nil || session == "" {
		t.Fatalf("callback with the provider's MFA: %d %v %q", resp.StatusCode, out, set)
	}
	if !strings.Contains(set, "SameSite=Strict") || !strings.Contains(set, "HttpOnly") {
		t.Errorf("session cookie %q", set)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "sso-callback", EntityType: "User", EntityID: nurse.ID, Outcome: 200}})
	if r := h.Do("GET", "/auth/sessions", nil, map[string]string{"Authorization": "", "Cookie": session}); r.StatusCode != http.StatusOK {
		t.Errorf("the session from the provider does not work: %d %s", r.StatusCode, r.Body)
	}
	// The same provider with amr pwd alone: ward's code is still needed.
	pwdAda := *ada
	pwdAda.amr = []string{"pwd"}
	f = startSSO(t, h, b, "okta-mfa", &pwdAda, m)
	if resp, out = f.finish(t, h, b, f.cookie); resp.StatusCode != http.StatusOK || out["status"] != string(identity.StepTOTP) {
		t.Errorf("trusted provider without MFA in amr: %d %v", resp.StatusCode, out)
	}

	// link_by_email: a verified address of exactly one staff account
	// links it, audited as such.
	grace, _, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "dr.grace", Role: identity.RolePhysician, Email: "grace@clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	graceAtIDP := &idpUser{sub: "00u1grace", email: "grace@clinic.example", verified: true, amr: []string{"pwd", "hwk"}}
	f = startSSO(t, h, b, "okta-email", graceAtIDP, m)
	h.DrainEvents()
	if resp, out = f.finish(t, h, b, f.cookie); resp.StatusCode != http.StatusOK || out["status"] != "ok" {
		t.Fatalf("link by e-mail: %d %v", resp.StatusCode, out)
	}
	h.CheckEvents(t, []apitest.Event{
		{Action: "C", Subtype: "sso-link", EntityType: "User", EntityID: grace.ID, Outcome: 201},
		{Action: "E", Subtype: "sso-callback", EntityType: "User", EntityID: grace.ID, Outcome: 200},
	})

	// Failures: one answer for all of them, each audited.
	var failed []map[string]any
	refused := func(name string, resp *http.Response, out map[string]any, account string) {
		t.Helper()
		if resp.StatusCode != http.StatusUnauthorized || out["error"] != "sso_failed" {
			t.Errorf("%s: %d %v, want 401 sso_failed", name, resp.StatusCode, out)
		}
		if c, _ := cookieNamed(resp, "__Host-ward_session"); c != "" {
			t.Errorf("%s: a session cookie", name)
		}
		h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "sso-callback", EntityType: "User", EntityID: account, Outcome: 401}})
		failed = append(failed, out)
	}
	strangerAtIDP := &idpUser{sub: "00u1stranger", email: "ada@clinic.example", verified: true, amr: []string{"pwd", "otp"}}
	f = startSSO(t, h, b, "okta-mfa", strangerAtIDP, m)
	h.DrainEvents()
	resp, out = f.finish(t, h, b, f.cookie)
	refused("unlinked subject", resp, out, "")

	f = startSSO(t, h, b, "okta-mfa", &mfaAda, m)
	h.DrainEvents()
	resp, out = f.finish(t, h, b, "")
	refused("no binding cookie", resp, out, "")
	// The sign-in is spent: the right browser cannot finish it now.
	resp, out = f.finish(t, h, b, f.cookie)
	refused("the right cookie after a refused attempt", resp, out, "")

	f = startSSO(t, h, b, "okta-mfa", &mfaAda, m)
	other := startSSO(t, h, b, "okta-mfa", &mfaAda, m)
	h.DrainEvents()
	resp, out = f.finish(t, h, b, other.cookie)
	refused("another sign-in's cookie", resp, out, "")
	resp, out = f.finish(t, h, b, "__Host-ward_sso=ward_sso_forged")
	refused("a forged cookie", resp, out, "")

	// A state replayed after a successful sign-in.
	resp, _ = other.finish(t, h, b, other.cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the other sign-in: %d", resp.StatusCode)
	}
	h.DrainEvents()
	resp, out = other.finish(t, h, b, other.cookie)
	refused("replayed state", resp, out, "")

	// The provider refuses (the person cancelled at the provider).
	f = startSSO(t, h, b, "okta-mfa", &mfaAda, m)
	h.DrainEvents()
	denied := ssoFlow{callback: "/auth/sso/default/okta-mfa/callback?" + url.Values{"error": {"access_denied"}, "state": {f.state},
		"error_description": {"ada@clinic.example cancelled"}}.Encode()}
	resp, out = denied.finish(t, h, b, f.cookie)
	refused("error=access_denied", resp, out, "")
	resp, out = f.finish(t, h, b, f.cookie)
	refused("the code after the provider's error", resp, out, "")

	// A disabled account: refused alike, the trail names it.
	if _, err := h.App.Identity.SetDisabled(ctx, identity.Actor{Operator: true}, nurse.ID, true); err != nil {
		t.Fatal(err)
	}
	f = startSSO(t, h, b, "okta-mfa", &mfaAda, m)
	h.DrainEvents()
	resp, out = f.finish(t, h, b, f.cookie)
	refused("disabled account", resp, out, nurse.ID)

	for _, out := range failed[1:] {
		if fmt.Sprint(out) != fmt.Sprint(failed[0]) {
			t.Errorf("failures differ: %v and %v", out, failed[0])
		}
	}

	// An unknown provider, or a callback for one, is not found.
	if resp, body := browse(t, b, h.BaseURL+"/auth/sso/default/nope/start", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown provider: %d %s", resp.StatusCode, body)
	}
	if resp, body := browse(t, b, h.BaseURL+"/auth/sso/elsewhere/okta/start", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("provider of another tenant: %d %s", resp.StatusCode, body)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "sso-start", Outcome: 404, Count: 2}})

	// Nothing ward recorded or logged names the subject or the e-mail
	// address, or carries a code or state.
	var secrets = []string{ada.sub, strangerAtIDP.sub, graceAtIDP.sub, "clinic.example", "nurse.ada", f.state, m.ClientSecret}
	err = ledger.Trail{R: h.App.DB, L: h.App.Audit}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		all := fmt.Sprintf("%+v", e)
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("audit event reveals %q: %s", s, all)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	log := string(h.Log.Bytes())
	for _, s := range append(secrets, "code=") {
		if strings.Contains(log, s) {
			t.Errorf("the log reveals %q", s)
		}
	}
}

// TestSSODiscoveryIsLazy checks that ward starts while a provider is
// unreachable, refuses its sign-ins with 503, and discovers it once it
// answers, without a restart.
func TestSSODiscoveryIsLazy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here yet
	secretFile := filepath.Join(t.TempDir(), "idp.secret")
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretFile, []byte(m.ClientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	h := apitest.New(t, func(c *config.Config) {
		c.SSO = []config.SSOProvider{{Tenant: "default", Name: "down", Issuer: "http://" + addr + "/oidc", ClientID: m.ClientID, ClientSecretFile: secretFile}}
	})
	b := ssoBrowser(h)
	if resp, body := browse(t, b, h.BaseURL+"/auth/sso/default/down/start", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("provider down: %d %s", resp.StatusCode, body)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "sso-start", Outcome: 503}})

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	if resp, body := browse(t, b, h.BaseURL+"/auth/sso/default/down/start", ""); resp.StatusCode != http.StatusFound {
		t.Fatalf("provider back: %d %s", resp.StatusCode, body)
	}
}
