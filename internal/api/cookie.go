package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/identity"
)

// The console keeps a person's session in a cookie the page's scripts
// cannot read: __Host- (Secure, Path=/, no Domain), HttpOnly,
// SameSite=Strict. Requests that change anything must also carry the
// CSRF token given at sign-in, which only the signed-in page knows, and
// must not come from another site (Origin, Sec-Fetch-Site).

const (
	cookieName = "__Host-ward_session"
	csrfHeader = "X-CSRF-Token"
)

var errCSRF = errors.New("cross-site request refused: a cookie session needs the X-CSRF-Token header given at sign-in, from the same origin")

// credential returns the call's token: the bearer token, or else the
// session cookie, checked against CSRF for unsafe methods.
func (s *Server) credential(c *call) (string, error) {
	if tok := bearer(c.r); tok != "" {
		c.token = tok
		return tok, nil
	}
	ck, err := c.r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return "", errNoCredentials
	}
	if !strings.HasPrefix(ck.Value, identity.SessionTokenPrefix) {
		return "", auth.ErrInvalidCredentials
	}
	if !safeMethod(c.r.Method) {
		if err := s.checkCSRF(c.r, ck.Value); err != nil {
			return "", err
		}
	}
	c.token, c.viaCookie = ck.Value, true
	return ck.Value, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a cookie-authenticated unsafe request unless it comes
// from the same site (when the browser says) and carries the session's
// CSRF token.
func (s *Server) checkCSRF(r *http.Request, tok string) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errCSRF
	}
	if o := r.Header.Get("Origin"); o != "" && o != origin(s.d.BaseURL) {
		return errCSRF
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(csrfHeader)), []byte(csrfToken(tok))) != 1 {
		return errCSRF
	}
	return nil
}

// csrfToken is the CSRF token of a session: an HMAC of a fixed label
// keyed by the session token, so it needs no storage and nobody without
// the (HttpOnly) token can compute it.
func csrfToken(tok string) string {
	m := hmac.New(sha256.New, []byte(tok))
	m.Write([]byte("ward csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// origin is scheme://host[:port] of a URL.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// sessionCookie sets (maxAge > 0) or clears (maxAge < 0) the session cookie.
func sessionCookie(tok string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: cookieName, Value: tok, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}
