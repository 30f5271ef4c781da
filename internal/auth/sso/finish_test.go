package sso_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/wardhealth/ward/internal/auth/sso"
)

// TestSignIn runs the whole authorization-code flow against the provider
// and checks the claims ward links the account with.
func TestSignIn(t *testing.T) {
	t.Parallel()
	m := startIDP(t)
	hc := httpClient(t, nil)
	c := newClient(t, m, hc, nil)
	u := staff()
	st, state, code := signIn(t, m, c, hc, u)

	got, err := c.Finish(context.Background(), st, state, code)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	want := sso.Claims{Issuer: m.Issuer(), Subject: u.sub, Email: u.email, EmailVerified: true}
	if !equalClaims(got, want) {
		t.Errorf("Finish = %+v, want %+v", got, want)
	}
}

// TestSignInOverTLS runs the flow against a provider served over https
// with a certificate only the given http.Client trusts, which proves that
// discovery, the key fetch and the code exchange all go through it.
func TestSignInOverTLS(t *testing.T) {
	t.Parallel()
	cfg, roots := selfSigned(t)
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// mockoidc.RunTLS only labels its URLs https and still serves plain
	// http; wrapping the listener makes it speak TLS.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	if !strings.HasPrefix(m.Issuer(), "https://127.0.0.1:") {
		t.Fatalf("issuer %q is not https on loopback", m.Issuer())
	}

	if _, err := sso.New(context.Background(), provider(m), httpClient(t, nil)); !errors.Is(err, sso.ErrDiscovery) {
		t.Fatalf("New with a client that does not trust the provider: err = %v, want ErrDiscovery", err)
	}

	hc := httpClient(t, roots)
	c := newClient(t, m, hc, nil)
	u := staff()
	st, state, code := signIn(t, m, c, hc, u)
	got, err := c.Finish(context.Background(), st, state, code)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if got.Issuer != m.Issuer() || got.Subject != u.sub || got.Email != u.email {
		t.Errorf("Finish = %+v, want issuer %q, subject %q, email %q", got, m.Issuer(), u.sub, u.email)
	}
}

// TestFinishRejects checks that every forged, replayed or mismatched
// callback and every token ward must not trust is refused with the right
// sentinel, a message naming the failed check, and no secret or personal
// data in the message.
func TestFinishRejects(t *testing.T) {
	t.Parallel()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts []idpOption
		user func(*user)
		// finishWith, when set, changes the Provider of a second client
		// that finishes the sign-in the first one began.
		finishWith func(*sso.Provider)
		tamper     func(st *sso.Start, state, code *string)
		want       error
		wantMsg    string
	}{
		{
			name:    "state from another sign-in",
			tamper:  func(_ *sso.Start, state, _ *string) { *state = "Zm9yZ2VkLXN0YXRlLWZyb20tYW4tYXR0YWNrZXI" },
			want:    sso.ErrState,
			wantMsg: "does not match",
		},
		{
			name:    "no state",
			tamper:  func(_ *sso.Start, state, _ *string) { *state = "" },
			want:    sso.ErrState,
			wantMsg: "does not match",
		},
		{
			name:    "stored sign-in incomplete",
			tamper:  func(st *sso.Start, _, _ *string) { st.Verifier = "" },
			want:    sso.ErrState,
			wantMsg: "incomplete",
		},
		{
			name:    "no code",
			tamper:  func(_ *sso.Start, _, code *string) { *code = "" },
			want:    sso.ErrExchange,
			wantMsg: "no authorization code",
		},
		{
			name:    "nonce of another sign-in",
			tamper:  func(st *sso.Start, _, _ *string) { st.Nonce = "YW5vdGhlci1zaWduLWlucy1ub25jZS0wMTIzNDU2Nzg" },
			want:    sso.ErrNonce,
			wantMsg: "nonce",
		},
		{
			name: "id token without nonce",
			opts: []idpOption{middleware("/authorize", func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				q := r.URL.Query()
				q.Del("nonce")
				r.URL.RawQuery = q.Encode()
				next.ServeHTTP(w, r)
			})},
			want:    sso.ErrNonce,
			wantMsg: "nonce",
		},
		{
			name:    "wrong PKCE verifier",
			tamper:  func(st *sso.Start, _, _ *string) { st.Verifier = strings.Repeat("v", 43) },
			want:    sso.ErrExchange,
			wantMsg: "invalid_grant",
		},
		{
			name:       "wrong client secret",
			finishWith: func(p *sso.Provider) { p.ClientSecret = "not-the-secret" },
			want:       sso.ErrExchange,
			wantMsg:    "invalid_client",
		},
		{
			name:       "code redeemed by another client id",
			finishWith: func(p *sso.Provider) { p.ClientID = "another-client" },
			want:       sso.ErrExchange,
			wantMsg:    "invalid_client",
		},
		{
			name: "id token for another audience",
			user: func(u *user) {
				u.edit = func(c *mockoidc.IDTokenClaims) { c.Audience = []string{"another-client"} }
			},
			want:    sso.ErrIDToken,
			wantMsg: "audience",
		},
		{
			name: "several audiences and no azp",
			user: func(u *user) {
				u.edit = func(c *mockoidc.IDTokenClaims) { c.Audience = append(c.Audience, "another-client") }
			},
			want:    sso.ErrIDToken,
			wantMsg: "azp",
		},
		{
			name:    "azp names another client",
			user:    func(u *user) { u.azp = "another-client" },
			want:    sso.ErrIDToken,
			wantMsg: "azp",
		},
		{
			name:    "issued by another issuer",
			user:    func(u *user) { u.edit = func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://idp.attacker.example" } },
			want:    sso.ErrIDToken,
			wantMsg: "issuer",
		},
		{
			name: "expired",
			user: func(u *user) {
				u.edit = func(c *mockoidc.IDTokenClaims) {
					c.IssuedAt.Time = time.Now().Add(-2 * time.Hour)
					c.NotBefore.Time = c.IssuedAt.Time
					c.ExpiresAt.Time = time.Now().Add(-time.Hour)
				}
			},
			want:    sso.ErrIDToken,
			wantMsg: "expired",
		},
		{
			name: "not yet valid",
			user: func(u *user) {
				u.edit = func(c *mockoidc.IDTokenClaims) { c.NotBefore.Time = time.Now().Add(time.Hour) }
			},
			want:    sso.ErrIDToken,
			wantMsg: "not yet valid",
		},
		{
			name:    "no subject",
			user:    func(u *user) { u.sub = "" },
			want:    sso.ErrIDToken,
			wantMsg: "subject",
		},
		{
			// The provider publishes a different key under the kid that
			// signed the token.
			name: "signature by a key the provider does not publish",
			opts: []idpOption{func(t *testing.T, m *mockoidc.MockOIDC) {
				kid, err := m.Keypair.KeyID()
				if err != nil {
					t.Fatal(err)
				}
				impostor := &mockoidc.Keypair{PrivateKey: otherKey, PublicKey: &otherKey.PublicKey, Kid: kid}
				jwks, err := impostor.JWKS()
				if err != nil {
					t.Fatal(err)
				}
				middleware("/jwks.json", func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(jwks)
				})(t, m)
			}},
			want:    sso.ErrIDToken,
			wantMsg: "signature",
		},
		{
			// mockoidc issues an ID token only when "openid" is the first
			// scope of the authorization request.
			name: "token response without id_token",
			opts: []idpOption{middleware("/authorize", func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				q := r.URL.Query()
				q.Set("scope", "email openid")
				r.URL.RawQuery = q.Encode()
				next.ServeHTTP(w, r)
			})},
			want:    sso.ErrIDToken,
			wantMsg: "no id_token",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := startIDP(t, tc.opts...)
			hc := httpClient(t, nil)
			c := newClient(t, m, hc, nil)
			u := staff()
			if tc.user != nil {
				tc.user(u)
			}
			st, state, code := signIn(t, m, c, hc, u)
			secrets := []string{code, st.State, st.Nonce, st.Verifier, u.email, provider(m).ClientSecret}
			if u.sub != "" {
				secrets = append(secrets, u.sub)
			}
			if tc.finishWith != nil {
				c = newClient(t, m, hc, tc.finishWith)
			}
			if tc.tamper != nil {
				tc.tamper(&st, &state, &code)
			}

			got, err := c.Finish(context.Background(), st, state, code)
			t.Logf("Finish: %v", err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Finish: err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not name %q", err, tc.wantMsg)
			}
			assertSafe(t, err.Error(), secrets...)
			if !equalClaims(got, sso.Claims{}) {
				t.Errorf("Finish returned claims %+v with an error", got)
			}
		})
	}
}

// TestCodeUsedTwice checks that a replayed callback is refused, and that
// the provider's error description, which quotes the code, stays out of
// the message.
func TestCodeUsedTwice(t *testing.T) {
	t.Parallel()
	m := startIDP(t)
	hc := httpClient(t, nil)
	c := newClient(t, m, hc, nil)
	st, state, code := signIn(t, m, c, hc, staff())
	if _, err := c.Finish(context.Background(), st, state, code); err != nil {
		t.Fatalf("first Finish: %v", err)
	}
	_, err := c.Finish(context.Background(), st, state, code)
	if !errors.Is(err, sso.ErrExchange) {
		t.Fatalf("second Finish: err = %v, want ErrExchange", err)
	}
	if !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("error %q does not name invalid_grant", err)
	}
	assertSafe(t, err.Error(), code)
}

// TestWrongStateSpendsNoCode checks that the state is compared before the
// code is redeemed: a forged callback must not burn the real one.
func TestWrongStateSpendsNoCode(t *testing.T) {
	t.Parallel()
	m := startIDP(t)
	hc := httpClient(t, nil)
	c := newClient(t, m, hc, nil)
	st, state, code := signIn(t, m, c, hc, staff())
	if _, err := c.Finish(context.Background(), st, state+"x", code); !errors.Is(err, sso.ErrState) {
		t.Fatalf("Finish with wrong state: err = %v, want ErrState", err)
	}
	if _, err := c.Finish(context.Background(), st, state, code); err != nil {
		t.Fatalf("Finish after a refused forgery: %v", err)
	}
}

// TestMFA checks how the provider's amr claim becomes Claims.MFA in a
// real flow, and that auth_time comes through.
func TestMFA(t *testing.T) {
	t.Parallel()
	authTime := time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)
	cases := []struct {
		name     string
		amr      []string
		trustMFA bool
		wantMFA  bool
	}{
		{"password and one-time code", []string{"pwd", "otp"}, true, true},
		{"password only", []string{"pwd"}, true, false},
		{"password and SMS", []string{"pwd", "sms"}, true, false},
		{"no amr", nil, true, false},
		{"provider not trusted for MFA", []string{"pwd", "otp"}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := startIDP(t)
			hc := httpClient(t, nil)
			c := newClient(t, m, hc, func(p *sso.Provider) { p.TrustMFA = tc.trustMFA })
			u := staff()
			u.amr, u.authTime = tc.amr, authTime
			st, state, code := signIn(t, m, c, hc, u)
			got, err := c.Finish(context.Background(), st, state, code)
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if got.MFA != tc.wantMFA {
				t.Errorf("MFA = %t, want %t", got.MFA, tc.wantMFA)
			}
			if !slices.Equal(got.AMR, tc.amr) {
				t.Errorf("AMR = %q, want %q", got.AMR, tc.amr)
			}
			if !got.AuthTime.Equal(authTime) {
				t.Errorf("AuthTime = %v, want %v", got.AuthTime, authTime)
			}
		})
	}
}

func equalClaims(a, b sso.Claims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.Email == b.Email &&
		a.EmailVerified == b.EmailVerified && slices.Equal(a.AMR, b.AMR) &&
		a.MFA == b.MFA && a.AuthTime.Equal(b.AuthTime)
}
