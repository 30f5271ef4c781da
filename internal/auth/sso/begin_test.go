package sso_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/wardhealth/ward/internal/auth/sso"
)

// TestBegin checks that state, nonce and verifier come from the given
// random source and that the provider URL carries them with the PKCE S256
// challenge, ward's client id, callback and scopes.
func TestBegin(t *testing.T) {
	t.Parallel()
	m := startIDP(t)
	hc := httpClient(t, nil)
	rnd := make([]byte, 96)
	for i := range rnd {
		rnd[i] = byte(i)
	}
	enc := base64.RawURLEncoding.EncodeToString
	wantState, wantNonce, wantVerifier := enc(rnd[:32]), enc(rnd[32:64]), enc(rnd[64:])

	cases := []struct {
		name      string
		scopes    []string
		wantScope string
	}{
		{"default scopes", nil, "openid email profile"},
		{"openid added first, once", []string{"email", "openid", "groups", "email"}, "openid email groups"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, m, hc, func(p *sso.Provider) { p.Scopes = tc.scopes })
			st, err := c.Begin(bytes.NewReader(rnd))
			if err != nil {
				t.Fatalf("Begin: %v", err)
			}
			if st.State != wantState || st.Nonce != wantNonce || st.Verifier != wantVerifier {
				t.Errorf("Begin = state %q nonce %q verifier %q, want %q %q %q",
					st.State, st.Nonce, st.Verifier, wantState, wantNonce, wantVerifier)
			}
			if len(st.Verifier) != 43 {
				t.Errorf("verifier has %d characters, want 43 (RFC 7636)", len(st.Verifier))
			}
			u, err := url.Parse(st.URL)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != m.AuthorizationEndpoint() {
				t.Errorf("URL goes to %q, want %q", got, m.AuthorizationEndpoint())
			}
			sum := sha256.Sum256([]byte(wantVerifier))
			want := url.Values{
				"response_type":         {"code"},
				"client_id":             {m.ClientID},
				"redirect_uri":          {redirectURL},
				"scope":                 {tc.wantScope},
				"state":                 {wantState},
				"nonce":                 {wantNonce},
				"code_challenge":        {enc(sum[:])},
				"code_challenge_method": {"S256"},
			}
			if got := u.Query(); got.Encode() != want.Encode() {
				t.Errorf("URL query\n got %s\nwant %s", got.Encode(), want.Encode())
			}
		})
	}

	t.Run("nil reader is crypto/rand", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, m, hc, nil)
		a, err := c.Begin(nil)
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		b, err := c.Begin(nil)
		if err != nil {
			t.Fatalf("Begin: %v", err)
		}
		if a.State == b.State || a.Nonce == b.Nonce || a.Verifier == b.Verifier || a.State == a.Nonce {
			t.Errorf("two sign-ins share secrets: %q %q", []string{a.State, a.Nonce, a.Verifier}, []string{b.State, b.Nonce, b.Verifier})
		}
	})
}

// TestBeginRandomFails checks that a failing or short random source stops
// the sign-in instead of producing guessable secrets.
func TestBeginRandomFails(t *testing.T) {
	t.Parallel()
	m := startIDP(t)
	c := newClient(t, m, httpClient(t, nil), nil)
	for name, r := range map[string]io.Reader{
		"failing": iotest.ErrReader(errors.New("entropy pool gone")),
		"short":   bytes.NewReader(make([]byte, 95)),
	} {
		t.Run(name, func(t *testing.T) {
			st, err := c.Begin(r)
			if !errors.Is(err, sso.ErrRandom) {
				t.Fatalf("Begin: err = %v, want ErrRandom", err)
			}
			if st != (sso.Start{}) {
				t.Errorf("Begin returned %#v with an error", st)
			}
		})
	}
}

// TestStartRedacts checks that printing or logging a Start does not reveal
// its secrets.
func TestStartRedacts(t *testing.T) {
	t.Parallel()
	st := sso.Start{URL: "https://idp.example.com/authorize?state=s3", State: "s3-state", Nonce: "n0-nonce", Verifier: "v3-verifier"}
	for _, s := range []string{
		fmt.Sprint(st), fmt.Sprintf("%+v", st), fmt.Sprintf("%#v", st), fmt.Sprintf("%v", &st),
		st.LogValue().String(),
	} {
		for _, secret := range []string{st.State, st.Nonce, st.Verifier} {
			if strings.Contains(s, secret) {
				t.Errorf("%q reveals %q", s, secret)
			}
		}
	}
}
