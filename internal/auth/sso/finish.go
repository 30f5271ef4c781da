package sso

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Claims are what ward uses from a verified ID token. They are personal
// data: the caller logs Issuer and Subject at most.
type Claims struct {
	// Issuer is the provider's issuer URL. With Subject it is the key an
	// account is linked by; the e-mail address is not, since it can change
	// or be reassigned.
	Issuer string
	// Subject is the provider's stable identifier for the person.
	Subject string
	// Email is the address the provider reports, possibly empty.
	Email string
	// EmailVerified is the provider's email_verified claim; false when
	// absent.
	EmailVerified bool
	// AMR lists the authentication methods the provider reports (RFC 8176).
	AMR []string
	// MFA is true when the Provider has TrustMFA and AMR shows multiple
	// factors: "mfa", or pwd or pin together with otp, hwk, swk, sc, fpt,
	// face, iris, retina or vbm. SMS and telephone never count: "mfa" is
	// not enough when AMR also names sms or tel and none of those factors.
	MFA bool
	// AuthTime is when the person authenticated at the provider; zero when
	// the token does not say.
	AuthTime time.Time
}

// Finish completes the sign-in st with the state and code the provider
// sent the browser back with. It compares state with st.State in constant
// time, redeems code with st's PKCE verifier, requires an ID token and
// verifies it (signature against the provider's keys, issuer, audience
// and authorized party, expiry, subject), checks its nonce against
// st.Nonce, and returns its claims.
//
// The caller must delete its stored st before calling Finish, whatever the
// outcome: a Start is single-use. Errors wrap ErrState, ErrExchange,
// ErrIDToken or ErrNonce. An error response from the provider (an error
// parameter instead of a code) is the caller's to report, not Finish's.
func (c *Client) Finish(ctx context.Context, st Start, state, code string) (Claims, error) {
	if st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return Claims{}, fmt.Errorf("%w: stored sign-in is incomplete", ErrState)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(st.State)) != 1 {
		return Claims{}, fmt.Errorf("%w: returned state does not match the sign-in", ErrState)
	}
	if code == "" {
		return Claims{}, fmt.Errorf("%w: no authorization code", ErrExchange)
	}
	tok, err := c.oauth.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.hc), code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return Claims{}, exchangeError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Claims{}, fmt.Errorf("%w: token response has no id_token", ErrIDToken)
	}
	idt, err := c.verify(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return Claims{}, fmt.Errorf("%w: id token nonce is not this sign-in's", ErrNonce)
	}
	return c.claims(idt)
}

// verify admits raw only if go-oidc's full verification passes. On
// failure it names the check that failed without quoting the token.
func (c *Client) verify(ctx context.Context, raw string) (*oidc.IDToken, error) {
	idt, err := c.verifier.Verify(ctx, raw)
	if err == nil {
		return idt, nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("%w: verification interrupted: %w", ErrIDToken, cerr)
	}
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return nil, fmt.Errorf("%w: expired", ErrIDToken)
	}
	// go-oidc checks the signature first, then issuer, audience, expiry and
	// not-before; its messages quote the token's claims, so ask again with
	// the signature alone and compare the (now authentic) claims ourselves.
	t, err := c.sigOnly.Verify(ctx, raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: malformed, or signature not verified against the provider's keys", ErrIDToken)
	case t.Issuer != c.issuer:
		return nil, fmt.Errorf("%w: issued by a different issuer", ErrIDToken)
	case !slices.Contains(t.Audience, c.clientID):
		return nil, fmt.Errorf("%w: audience is not this client", ErrIDToken)
	default:
		return nil, fmt.Errorf("%w: not yet valid", ErrIDToken)
	}
}

// claims checks what go-oidc leaves to the caller and maps the token to
// Claims.
func (c *Client) claims(idt *oidc.IDToken) (Claims, error) {
	var extra struct {
		AZP           string          `json:"azp"`
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		AMR           json.RawMessage `json:"amr"`
		AuthTime      json.RawMessage `json:"auth_time"`
	}
	if err := idt.Claims(&extra); err != nil {
		return Claims{}, fmt.Errorf("%w: claims are malformed", ErrIDToken)
	}
	if idt.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrIDToken)
	}
	// OpenID Connect Core 3.1.3.7 (4, 5): with several audiences the
	// authorized party must be named, and it must be us.
	if (len(idt.Audience) > 1 && extra.AZP == "") || (extra.AZP != "" && extra.AZP != c.clientID) {
		return Claims{}, fmt.Errorf("%w: authorized party (azp) is not this client", ErrIDToken)
	}
	cl := Claims{
		Issuer:        idt.Issuer,
		Subject:       idt.Subject,
		Email:         extra.Email,
		EmailVerified: isTrue(extra.EmailVerified),
		AMR:           stringList(extra.AMR),
		AuthTime:      unixTime(extra.AuthTime),
	}
	cl.MFA = c.trustMFA && multiFactor(cl.AMR)
	return cl, nil
}

// isTrue reads a boolean claim that some providers (Amazon Cognito, for
// one) send as the string "true".
func isTrue(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == "true"
}

// stringList reads an array of strings; anything else reads as none, so a
// malformed amr claim can only withhold MFA, never grant it.
func stringList(raw json.RawMessage) []string {
	var l []string
	if json.Unmarshal(raw, &l) != nil {
		return nil
	}
	return l
}

// unixTime reads a NumericDate (seconds since the epoch); anything else,
// or a non-positive value, reads as the zero time.
func unixTime(raw json.RawMessage) time.Time {
	var f float64
	if json.Unmarshal(raw, &f) != nil || f <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// exchangeError explains a failed code exchange without the provider's
// error description or response body, which may quote the code.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	var ue *url.Error
	switch {
	case errors.As(err, &re):
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		code := re.ErrorCode
		if !isErrorCode(code) {
			code = "no valid error code"
		}
		return fmt.Errorf("%w: provider refused the code: %s (HTTP %d)", ErrExchange, code, status)
	case errors.As(err, &ue):
		// The token request is a POST: the URL holds no code.
		return fmt.Errorf("%w: token endpoint unreachable: %w", ErrExchange, ue.Err)
	default:
		return fmt.Errorf("%w: token response is unusable", ErrExchange)
	}
}

// isErrorCode accepts the short lower-case codes of RFC 6749 5.2
// (invalid_grant, invalid_client, ...) and nothing a provider could hide
// data in.
func isErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}
