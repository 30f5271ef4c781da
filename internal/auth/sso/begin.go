package sso

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// secretSize is the entropy of each of state, nonce and PKCE verifier, in
// bytes; 32 bytes encode to the 43-character verifier RFC 7636 asks for.
const secretSize = 32

// Start is the state of one sign-in. The caller keeps it server-side (not
// in the browser), bound to the browser session, for about ten minutes,
// and deletes it when Finish is called, so each is used at most once.
// State, Nonce and Verifier are secrets: String, GoString and LogValue
// redact them.
type Start struct {
	// URL is where to send the browser: the provider's authorization
	// endpoint with state, nonce and PKCE challenge.
	URL string
	// State ties the provider's redirect back to this sign-in.
	State string
	// Nonce ties the ID token to this sign-in.
	Nonce string
	// Verifier is the PKCE code verifier (RFC 7636, S256).
	Verifier string
}

// String redacts the sign-in's secrets.
func (Start) String() string { return "sso.Start{[redacted]}" }

// GoString redacts the sign-in's secrets, for %#v.
func (Start) GoString() string { return "sso.Start{[redacted]}" }

// LogValue redacts the sign-in's secrets for log/slog.
func (Start) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Begin starts a sign-in: it draws state, nonce and PKCE verifier from r
// and returns them with the provider URL to send the browser to. r is
// normally crypto/rand.Reader; nil means that. A failure of r wraps
// ErrRandom.
func (c *Client) Begin(r io.Reader) (Start, error) {
	if r == nil {
		r = rand.Reader
	}
	var buf [3 * secretSize]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return Start{}, fmt.Errorf("%w: %w", ErrRandom, err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	st := Start{
		State:    enc(buf[:secretSize]),
		Nonce:    enc(buf[secretSize : 2*secretSize]),
		Verifier: enc(buf[2*secretSize:]),
	}
	st.URL = c.oauth.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return st, nil
}
