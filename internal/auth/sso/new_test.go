package sso_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/wardhealth/ward/internal/auth/sso"
)

// roundTripFunc lets a test stand in for the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNewRejectsConfig checks that an unsafe or incomplete Provider is
// refused with ErrConfig before any request leaves ward.
func TestNewRejectsConfig(t *testing.T) {
	t.Parallel()
	valid := sso.Provider{
		Issuer:       "https://idp.example.com/oauth2/default",
		ClientID:     "ward",
		ClientSecret: "s3cret",
		RedirectURL:  "https://ward.example/sso/callback",
	}
	cases := []struct {
		name    string
		edit    func(*sso.Provider)
		wantMsg string
	}{
		{"plain http issuer", func(p *sso.Provider) { p.Issuer = "http://idp.example.com/oauth2/default" }, "https"},
		{"issuer without scheme", func(p *sso.Provider) { p.Issuer = "idp.example.com" }, "absolute URL"},
		{"no issuer", func(p *sso.Provider) { p.Issuer = "" }, "issuer: is empty"},
		{"issuer with query", func(p *sso.Provider) { p.Issuer += "?tenant=1" }, "no query"},
		{"issuer with user info", func(p *sso.Provider) { p.Issuer = "https://admin:hunter2@idp.example.com" }, "user info"},
		{"plain http to a host that only resolves to loopback", func(p *sso.Provider) { p.Issuer = "http://localhost.example.com" }, "https"},
		{"no client id", func(p *sso.Provider) { p.ClientID = "" }, "client id"},
		{"no client secret", func(p *sso.Provider) { p.ClientSecret = "" }, "client secret"},
		{"plain http redirect URL", func(p *sso.Provider) { p.RedirectURL = "http://ward.example/sso/callback" }, "redirect URL"},
		{"two scopes in one", func(p *sso.Provider) { p.Scopes = []string{"openid email"} }, "scope"},
		{"empty scope", func(p *sso.Provider) { p.Scopes = []string{""} }, "scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int32
			hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				requests.Add(1)
				return nil, errors.New("no network in this test")
			})}
			p := valid
			tc.edit(&p)
			_, err := sso.New(context.Background(), p, hc)
			t.Logf("New: %v", err)
			if !errors.Is(err, sso.ErrConfig) {
				t.Fatalf("New: err = %v, want ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not name %q", err, tc.wantMsg)
			}
			assertSafe(t, err.Error(), p.ClientSecret, "hunter2")
			if n := requests.Load(); n != 0 {
				t.Errorf("New made %d requests for an invalid provider", n)
			}
		})
	}

	// The control: the same valid configuration reaches the network.
	t.Run("valid configuration", func(t *testing.T) {
		t.Parallel()
		var requests atomic.Int32
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			if want := valid.Issuer + "/.well-known/openid-configuration"; r.URL.String() != want {
				t.Errorf("discovery requested %s, want %s", r.URL, want)
			}
			return nil, errors.New("no network in this test")
		})}
		if _, err := sso.New(context.Background(), valid, hc); !errors.Is(err, sso.ErrDiscovery) {
			t.Fatalf("New: err = %v, want ErrDiscovery", err)
		}
		if requests.Load() != 1 {
			t.Errorf("New made %d requests, want 1", requests.Load())
		}
	})
}

// TestNewUnreachable checks that a provider nobody answers for fails
// discovery clearly. It does not run in parallel, so no other test of this
// package can be handed the freed port before the dial.
func TestNewUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there any more

	p := sso.Provider{Issuer: "http://" + addr + "/oidc", ClientID: "ward", ClientSecret: "s3cret", RedirectURL: redirectURL}
	_, err = sso.New(context.Background(), p, httpClient(t, nil))
	t.Logf("New: %v", err)
	if !errors.Is(err, sso.ErrDiscovery) {
		t.Fatalf("New: err = %v, want ErrDiscovery", err)
	}
	for _, want := range []string{p.Issuer, "unreachable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestNewHonoursContext checks that ctx bounds discovery: a provider that
// accepts the connection and never answers does not hold New.
func TestNewHonoursContext(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		// Accept and hold connections until the listener closes.
		defer close(done)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	p := sso.Provider{Issuer: "http://" + ln.Addr().String(), ClientID: "ward", ClientSecret: "s3cret", RedirectURL: redirectURL}
	_, err = sso.New(ctx, p, httpClient(t, nil))
	t.Logf("New: %v", err)
	if !errors.Is(err, sso.ErrDiscovery) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("New: err = %v, want ErrDiscovery wrapping context.DeadlineExceeded", err)
	}
}

// TestNewIssuerMismatch checks that the configured issuer must equal the
// discovered one exactly, since ID tokens are checked against it.
func TestNewIssuerMismatch(t *testing.T) {
	t.Parallel()
	m := startIDP(t)
	p := provider(m)
	p.Issuer += "/"
	_, err := sso.New(context.Background(), p, httpClient(t, nil))
	t.Logf("New: %v", err)
	if !errors.Is(err, sso.ErrDiscovery) {
		t.Fatalf("New: err = %v, want ErrDiscovery", err)
	}
	if !strings.Contains(err.Error(), "must match") {
		t.Errorf("error %q does not explain the issuer mismatch", err)
	}
}

// TestNewWithoutS256 checks that a provider that does not offer PKCE with
// S256 is refused rather than used without it.
func TestNewWithoutS256(t *testing.T) {
	t.Parallel()
	m := startIDP(t, func(_ *testing.T, m *mockoidc.MockOIDC) {
		m.CodeChallengeMethodsSupported = []string{"plain"}
	})
	_, err := sso.New(context.Background(), provider(m), httpClient(t, nil))
	t.Logf("New: %v", err)
	if !errors.Is(err, sso.ErrDiscovery) {
		t.Fatalf("New: err = %v, want ErrDiscovery", err)
	}
	if !strings.Contains(err.Error(), "S256") {
		t.Errorf("error %q does not name S256", err)
	}
}

// TestNewDiscoveryDocument checks discovery documents that answer but that
// ward must not use, against an https provider on loopback.
func TestNewDiscoveryDocument(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		serve   func(w http.ResponseWriter, issuer string)
		wantMsg string
	}{
		{
			name: "token endpoint over plain http",
			serve: func(w http.ResponseWriter, issuer string) {
				writeDiscovery(w, map[string]any{
					"issuer":                 issuer,
					"authorization_endpoint": issuer + "/authorize",
					"token_endpoint":         "http://idp.example.com/token",
					"jwks_uri":               issuer + "/keys",
				})
			},
			wantMsg: "token_endpoint",
		},
		{
			name: "no key set",
			serve: func(w http.ResponseWriter, issuer string) {
				writeDiscovery(w, map[string]any{
					"issuer":                 issuer,
					"authorization_endpoint": issuer + "/authorize",
					"token_endpoint":         issuer + "/token",
				})
			},
			wantMsg: "jwks_uri",
		},
		{
			name: "implicit flow only",
			serve: func(w http.ResponseWriter, issuer string) {
				writeDiscovery(w, map[string]any{
					"issuer":                   issuer,
					"authorization_endpoint":   issuer + "/authorize",
					"token_endpoint":           issuer + "/token",
					"jwks_uri":                 issuer + "/keys",
					"response_types_supported": []string{"id_token", "id_token token"},
				})
			},
			wantMsg: "authorization-code",
		},
		{
			name: "error page",
			serve: func(w http.ResponseWriter, _ string) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = fmt.Fprint(w, "<html>tenant-internal-detail</html>")
			},
			wantMsg: "HTTP 404",
		},
		{
			name: "not JSON",
			serve: func(w http.ResponseWriter, _ string) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprint(w, "{tenant-internal-detail")
			},
			wantMsg: "not valid JSON",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var issuer string
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/.well-known/openid-configuration" {
					http.NotFound(w, r)
					return
				}
				tc.serve(w, issuer)
			}))
			t.Cleanup(srv.Close)
			issuer = srv.URL

			p := sso.Provider{Issuer: issuer, ClientID: "ward", ClientSecret: "s3cret", RedirectURL: redirectURL}
			_, err := sso.New(context.Background(), p, srv.Client())
			t.Logf("New: %v", err)
			if !errors.Is(err, sso.ErrDiscovery) {
				t.Fatalf("New: err = %v, want ErrDiscovery", err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not name %q", err, tc.wantMsg)
			}
			assertSafe(t, err.Error(), "tenant-internal-detail")
		})
	}
}

func writeDiscovery(w http.ResponseWriter, doc map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// TestProviderRedacts checks that printing or logging a Provider does not
// reveal its client secret.
func TestProviderRedacts(t *testing.T) {
	t.Parallel()
	p := sso.Provider{Issuer: "https://idp.example.com", ClientID: "ward", ClientSecret: "s3cret-value"}
	for _, s := range []string{
		fmt.Sprint(p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), fmt.Sprintf("%v", &p),
		p.LogValue().String(),
	} {
		if strings.Contains(s, p.ClientSecret) {
			t.Errorf("%q reveals the client secret", s)
		}
		if !strings.Contains(s, p.Issuer) {
			t.Errorf("%q does not name the issuer", s)
		}
	}
}
