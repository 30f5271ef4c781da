package sso_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/wardhealth/ward/internal/auth/sso"
)

// redirectURL is ward's callback as registered at the mock provider. The
// tests never follow the redirect to it.
const redirectURL = "https://ward.example/sso/callback"

// idpOption adjusts a mock provider before it starts serving.
type idpOption func(t *testing.T, m *mockoidc.MockOIDC)

// startIDP runs a real in-process OIDC provider (mockoidc) on a loopback
// port, stopped when the test ends. Each test gets its own, so nothing is
// shared; mockoidc.NowFunc, its only global, is never touched.
func startIDP(t *testing.T, opts ...idpOption) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatalf("mockoidc.NewServer: %v", err)
	}
	for _, o := range opts {
		o(t, m)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatalf("mockoidc.Start: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// middleware installs mw on every endpoint of the mock provider whose path
// ends in suffix.
func middleware(suffix string, mw func(http.ResponseWriter, *http.Request, http.Handler)) idpOption {
	return func(t *testing.T, m *mockoidc.MockOIDC) {
		err := m.AddMiddleware(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, suffix) {
					mw(w, r, next)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		if err != nil {
			t.Fatalf("AddMiddleware: %v", err)
		}
	}
}

// provider is the configuration ward would hold for m.
func provider(m *mockoidc.MockOIDC) sso.Provider {
	cfg := m.Config()
	return sso.Provider{
		Issuer:       cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURL:  redirectURL,
		TrustMFA:     true,
	}
}

// newClient runs discovery against m with p as changed by edit.
func newClient(t *testing.T, m *mockoidc.MockOIDC, hc *http.Client, edit func(*sso.Provider)) *sso.Client {
	t.Helper()
	p := provider(m)
	if edit != nil {
		edit(&p)
	}
	c, err := sso.New(context.Background(), p, hc)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// user is a person at the mock provider whose ID token claims the test
// chooses; mockoidc's own MockUser has no amr, auth_time or azp.
type user struct {
	sub, email string
	verified   bool
	amr        []string
	authTime   time.Time
	azp        string
	// edit changes the registered claims mockoidc fills in (iss, aud, exp,
	// nbf) to forge a token the relying party must refuse.
	edit func(*mockoidc.IDTokenClaims)
}

// userClaims is the ID token body: mockoidc's claims (iss, sub, aud, exp,
// nonce, ...) plus ours.
type userClaims struct {
	*mockoidc.IDTokenClaims
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	AMR           []string `json:"amr,omitempty"`
	AuthTime      int64    `json:"auth_time,omitempty"`
	AZP           string   `json:"azp,omitempty"`
}

// ID implements mockoidc.User.
func (u *user) ID() string { return u.sub }

// Userinfo implements mockoidc.User; the relying party never calls it.
func (u *user) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]string{"sub": u.sub, "email": u.email})
}

// Claims implements mockoidc.User. Its result type is why these tests
// import golang-jwt (mockoidc's own dependency): the interface names it.
func (u *user) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.edit != nil {
		u.edit(base)
	}
	c := &userClaims{IDTokenClaims: base, Email: u.email, EmailVerified: u.verified, AMR: u.amr, AZP: u.azp}
	if !u.authTime.IsZero() {
		c.AuthTime = u.authTime.Unix()
	}
	return c, nil
}

// staff is the person most tests sign in.
func staff() *user {
	return &user{sub: "00u1staff42", email: "a.nurse@hospital.example", verified: true}
}

// authorize plays the browser: it opens st.URL at the provider (which
// signs in the next queued user at once) and returns the state and code
// from the redirect to ward's callback, which it does not follow.
func authorize(t *testing.T, hc *http.Client, st sso.Start) (state, code string) {
	t.Helper()
	browser := &http.Client{
		Transport: hc.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := browser.Get(st.URL)
	if err != nil {
		t.Fatalf("GET authorization URL: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorization endpoint answered %s, want 302", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("redirect Location: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		t.Fatalf("provider redirected to %q, want %q", got, redirectURL)
	}
	q := loc.Query()
	if q.Get("code") == "" {
		t.Fatal("redirect carries no code")
	}
	return q.Get("state"), q.Get("code")
}

// signIn queues u at m (nil: mockoidc's default user), begins a sign-in
// with c and plays the browser up to ward's callback.
func signIn(t *testing.T, m *mockoidc.MockOIDC, c *sso.Client, hc *http.Client, u *user) (st sso.Start, state, code string) {
	t.Helper()
	if u != nil {
		m.QueueUser(u)
	}
	st, err := c.Begin(rand.Reader)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	state, code = authorize(t, hc, st)
	return st, state, code
}

// httpClient is a client of its own for one test, so no connection pool
// is shared between tests.
func httpClient(t *testing.T, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// selfSigned makes a TLS certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mock identity provider"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// assertSafe fails if msg carries any of the secrets or personal data.
func assertSafe(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error message %q leaks %q", msg, s)
		}
	}
}
