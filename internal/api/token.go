package api

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth"
)

// token is the OAuth 2 token endpoint (RFC 6749 §4.4, client credentials;
// client_secret_basic or client_secret_post). Limited per IP and per client.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	rid := requestInfoFrom(r.Context()).id
	c := &call{s: s, r: r, rid: rid, subtype: "token"}
	ip := clientIP(r)
	if ok, wait := s.d.TokenIP.Allow(ip); !ok {
		c.event(audit.ActionExecute, "token", "", "", 0)
		c.finishOAuth(w, http.StatusTooManyRequests, "slow_down", "too many requests", wait)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		c.event(audit.ActionExecute, "token", "", "", 0)
		c.finishOAuth(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded", 0)
		return
	}
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		c.event(audit.ActionExecute, "token", "", "", 0)
		c.finishOAuth(w, status, "invalid_request", "malformed form body", 0)
		return
	}
	form := r.PostForm
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: form-urlencoded before Basic encoding.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if form.Get("grant_type") != "client_credentials" {
		c.event(audit.ActionExecute, "token", "", "", 0)
		c.finishOAuth(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported", 0)
		return
	}
	if id == "" || secret == "" || len(id) > 128 || len(secret) > 256 {
		c.event(audit.ActionExecute, "token", "", "", 0)
		c.finishOAuth(w, http.StatusUnauthorized, "invalid_client", "client authentication failed", 0)
		return
	}
	if ok, wait := s.d.TokenCli.Allow(id); !ok {
		c.event(audit.ActionExecute, "token", "", "", 0)
		c.finishOAuth(w, http.StatusTooManyRequests, "slow_down", "too many requests", wait)
		return
	}
	tok, p, err := s.d.Auth.IssueToken(r.Context(), id, secret)
	if err != nil {
		c.event(audit.ActionExecute, "token", "", "", 0)
		if errors.Is(err, auth.ErrInvalidCredentials) {
			c.finishOAuth(w, http.StatusUnauthorized, "invalid_client", "client authentication failed", 0)
			return
		}
		s.d.Log.Error("token issue failed", "request_id", rid, "err", err.Error())
		c.finishOAuth(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again later", 0)
		return
	}
	c.p = p
	requestInfoFrom(r.Context()).principal = p.ID
	c.event(audit.ActionExecute, "token", "", "", 0)
	body, _ := json.Marshal(map[string]any{
		"access_token": tok.Reveal(),
		"token_type":   "Bearer",
		"expires_in":   int(s.d.Auth.TokenTTL() / time.Second),
	})
	c.finish(w, &reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body})
}

// finishOAuth answers with an RFC 6749 §5.2 error.
func (c *call) finishOAuth(w http.ResponseWriter, status int, code, desc string, wait time.Duration) {
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	h := http.Header{"Content-Type": {"application/json"}}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="ward"`)
	}
	if wait > 0 {
		h.Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	}
	c.finish(w, &reply{status: status, header: h, body: body})
}
