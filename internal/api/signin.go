package api

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/auth/mfa"
	"github.com/wardhealth/ward/internal/auth/password"
	"github.com/wardhealth/ward/internal/identity"
)

// People sign in and manage their sessions; *identity.Service has it.
type People interface {
	Login(ctx context.Context, tenant, username, pw string) (identity.SignIn, error)
	NewPassword(ctx context.Context, token, next string) (identity.SignIn, error)
	BeginEnrolment(ctx context.Context, token string) (mfa.Enrolment, error)
	FinishTOTP(ctx context.Context, token, code string) (identity.Opened, error)
	FinishRecovery(ctx context.Context, token, code string) (identity.Opened, error)
	PersonOf(ctx context.Context, token string) (identity.Person, error)
	Authenticate(ctx context.Context, token string) (identity.Session, error)
	Logout(ctx context.Context, token string) error
	Sessions(ctx context.Context, by identity.Actor, personID string) ([]identity.Session, error)
	Resume(ctx context.Context, token string, proof identity.Proof) (identity.Session, error)
	StepUp(ctx context.Context, token, pw string) (identity.Session, error)
	SetPIN(ctx context.Context, id, pw, pin string) error
	SetRole(ctx context.Context, by identity.Actor, id, role string) (identity.Person, error)
	StepOf(ctx context.Context, token string) (identity.Step, error)
	BeginWebAuthn(ctx context.Context, purpose identity.Purpose, token string) ([]byte, error)
	FinishWebAuthn(ctx context.Context, purpose identity.Purpose, token string, response []byte) (identity.WebAuthnResult, error)
	EndSessions(ctx context.Context, by identity.Actor, personID, ref, keep string) (int, error)
	Invite(ctx context.Context, by identity.Actor, in identity.NewInvitation) (identity.Invitation, identity.Token, error)
	Accept(ctx context.Context, token, username, pw string) (identity.Person, identity.SignIn, error)
	BeginSSO(ctx context.Context, tenant, provider, state, nonce, verifier string) (identity.Token, error)
	TakeSSO(ctx context.Context, tenant, provider, state, binding string) (nonce, verifier string, err error)
	SignInExternal(ctx context.Context, tenant, issuer, subject, email string, emailVerified, mfa, linkByEmail bool) (identity.SignIn, identity.Opened, error)
}

// maxSignInBody bounds a sign-in request body (a WebAuthn response with
// an attestation certificate chain fits).
const maxSignInBody = 64 << 10

// signInRequest is every sign-in body; each endpoint uses some fields.
type signInRequest struct {
	Tenant      string `json:"tenant"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	NewPassword string `json:"new_password"`
	MFAToken    string `json:"mfa_token"`
	Code        string `json:"code"`
	PIN         string `json:"pin"`
	Invitation  string `json:"invitation"`
	// Cookie asks the step that opens the session to set it as the
	// console's __Host- cookie instead of returning the token.
	Cookie bool `json:"cookie"`
	// Credential is the browser's WebAuthn response
	// (PublicKeyCredential as JSON).
	Credential json.RawMessage `json:"credential"`
}

// signIn wraps a sign-in step: it decodes the JSON body, runs step and
// records one audit event (E, the subtype, the account when known) with
// the outcome, never the username or any secret.
func (s *Server) signIn(pattern, subtype string, step func(c *call, req signInRequest) (int, any)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rid := requestInfoFrom(r.Context()).id
		c := &call{s: s, r: r, rid: rid, subtype: subtype}
		rep := statusJSON(s.signInStep(c, step))
		account := c.p.ID
		if r := c.refused; r != nil {
			account = r.PersonID
		}
		c.event(audit.ActionExecute, subtype, "User", account, 0)
		if r := c.refused; r != nil && r.Locked {
			c.event(audit.ActionExecute, "lockout", "User", r.PersonID, 0).Outcome = http.StatusLocked
		}
		c.finish(w, rep)
	})
}

func (s *Server) signInStep(c *call, step func(c *call, req signInRequest) (int, any)) (int, any) {
	var req signInRequest
	if status, body := decodeJSON(c.r, &req); status != 0 {
		return status, body
	}
	return step(c, req)
}

// decodeJSON reads a JSON request body of at most maxSignInBody bytes
// into v, refusing unknown fields; on failure it returns the status and
// error body to answer with.
func decodeJSON(r *http.Request, v any) (int, any) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusUnsupportedMediaType, oauthError("invalid_request", "Content-Type must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxSignInBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		return http.StatusBadRequest, oauthError("invalid_request", "the body must be one JSON object with the documented fields")
	}
	return 0, nil
}

func oauthError(code, desc string) map[string]any {
	return map[string]any{"error": code, "error_description": desc}
}

// asPerson makes the call's principal the account id, for its event.
func (c *call) asPerson(id, tenant string) {
	c.p = auth.Principal{ID: id, Kind: "user", Tenant: tenant}
	requestInfoFrom(c.r.Context()).principal = id
}

// failure maps a sign-in error to a status and body. Wrong credentials,
// codes and challenges each get one answer that reveals nothing more.
func (s *Server) failure(c *call, err error) (int, any) {
	errors.As(err, &c.refused) // for the audit trail only
	var v *password.Violation
	switch {
	case errors.Is(err, identity.ErrBadPassword):
		return http.StatusUnauthorized, oauthError("invalid_credentials", "wrong username or password, or the account is locked or disabled")
	case errors.Is(err, identity.ErrBadCode):
		return http.StatusUnauthorized, oauthError("invalid_code", "wrong or already used code, or the account is locked")
	case errors.Is(err, identity.ErrChallenge), errors.Is(err, identity.ErrForbidden), errors.Is(err, identity.ErrNoMFA):
		return http.StatusUnauthorized, oauthError("invalid_mfa_token", "this sign-in step expired or is out of order; sign in again")
	case errors.Is(err, identity.ErrSessionEnded):
		return http.StatusUnauthorized, oauthError("session_ended", "the session is over; sign in again")
	case errors.Is(err, identity.ErrSessionLocked):
		return http.StatusUnauthorized, oauthError("session_locked", "the session is locked after inactivity; resume it at POST /auth/resume")
	case errors.Is(err, identity.ErrNoWebAuthn):
		return http.StatusConflict, oauthError("webauthn_unavailable", "passkeys are not set up for this account, or not configured (base_url needs a domain name)")
	case errors.Is(err, identity.ErrCloned):
		return http.StatusUnauthorized, oauthError("invalid_code", "the passkey was refused")
	case errors.Is(err, identity.ErrInvitation):
		return http.StatusUnauthorized, oauthError("invalid_invitation", "the invitation is unknown, expired or already used")
	case errors.Is(err, identity.ErrExists):
		return http.StatusConflict, oauthError("username_taken", "that username is taken; choose another")
	case errors.Is(err, identity.ErrInvalid):
		return http.StatusBadRequest, oauthError("invalid_request", strings.TrimPrefix(err.Error(), "identity: invalid: "))
	case errors.As(err, &v):
		rules := []map[string]string{}
		for _, f := range v.Failures {
			rules = append(rules, map[string]string{"rule": string(f.Rule), "message": f.Message})
		}
		return http.StatusBadRequest, map[string]any{"error": "password_rejected", "error_description": "the new password breaks the password policy", "rules": rules}
	}
	s.d.Log.Error("sign-in failed", "request_id", c.rid, "err", err.Error())
	return http.StatusServiceUnavailable, oauthError("temporarily_unavailable", "try again later")
}

func (s *Server) login(c *call, req signInRequest) (int, any) {
	if ok, wait := s.d.TokenIP.Allow(clientIP(c.r)); !ok {
		return http.StatusTooManyRequests, oauthError("slow_down", "too many sign-in attempts from this address; wait "+wait.Round(time.Second).String())
	}
	if status, body := s.signInQuota(c); status != 0 {
		return status, body
	}
	if len(req.Username) > 256 || len(req.Password) > password.MaxBytes || len(req.Tenant) > 64 {
		return s.failure(c, identity.ErrBadPassword)
	}
	in, err := s.d.People.Login(c.r.Context(), req.Tenant, req.Username, req.Password)
	if err != nil {
		return s.failure(c, err)
	}
	c.asPerson(in.PersonID, req.Tenant)
	if p, err := s.d.People.PersonOf(c.r.Context(), in.Token.Reveal()); err != nil {
		return s.failure(c, err)
	} else if !s.permitted(c.r, p.Tenant, p.Role, access.OpSignIn).Allow {
		return http.StatusForbidden, oauthError("forbidden", "sign-in from this address is not allowed for this account")
	}
	return http.StatusOK, signInStep(in)
}

// signInStep answers a step that leads to another.
func signInStep(in identity.SignIn) map[string]any {
	body := map[string]any{"status": in.Step, "mfa_token": in.Token.Reveal(), "factors": in.Factors}
	if !in.PasswordExpires.IsZero() {
		body["password_expires_at"] = in.PasswordExpires.UTC().Format(time.RFC3339)
	}
	return body
}

// signInQuota counts a sign-in attempt from the caller's address (an
// IPv6 /64 as one) in the database, across instances, and refuses it
// past the per-minute bound: credential stuffing across many accounts
// from one place stops there, whatever the per-account lockouts.
func (s *Server) signInQuota(c *call) (int, any) {
	if s.d.Attempts == nil || s.d.SignInPerMinute == 0 {
		return 0, nil
	}
	key := clientIP(c.r)
	if a, err := netip.ParseAddr(key); err == nil && a.Unmap().Is6() {
		p, _ := a.Prefix(64)
		key = p.String()
	}
	now := s.d.Now()
	n, err := s.d.Attempts.CountAttempt(c.r.Context(), "sign-in "+key, time.Minute, now)
	if err != nil {
		s.d.Log.Error("sign-in throttle unavailable", "request_id", c.rid, "err", err.Error())
		return http.StatusServiceUnavailable, oauthError("temporarily_unavailable", "try again later")
	}
	if n > s.d.SignInPerMinute {
		wait := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
		return http.StatusTooManyRequests, oauthError("slow_down", "too many sign-in attempts from this address; wait "+wait.Round(time.Second).String())
	}
	return 0, nil
}

// challenged names the call's account from a challenge token, so failed
// steps are attributed too.
func (s *Server) challenged(c *call, token string) {
	if p, err := s.d.People.PersonOf(c.r.Context(), token); err == nil {
		c.asPerson(p.ID, p.Tenant)
	}
}

func (s *Server) newPassword(c *call, req signInRequest) (int, any) {
	s.challenged(c, req.MFAToken)
	in, err := s.d.People.NewPassword(c.r.Context(), req.MFAToken, req.NewPassword)
	if err != nil {
		return s.failure(c, err)
	}
	return http.StatusOK, signInStep(in)
}

func (s *Server) enrolTOTP(c *call, req signInRequest) (int, any) {
	s.challenged(c, req.MFAToken)
	e, err := s.d.People.BeginEnrolment(c.r.Context(), req.MFAToken)
	if err != nil {
		return s.failure(c, err)
	}
	return http.StatusOK, map[string]any{"secret": e.Secret, "otpauth_uri": e.URI}
}

func (s *Server) finishTOTP(c *call, req signInRequest) (int, any) {
	s.challenged(c, req.MFAToken)
	o, err := s.d.People.FinishTOTP(c.r.Context(), req.MFAToken, req.Code)
	if err != nil {
		return s.failure(c, err)
	}
	return s.opened(c, o, req.Cookie)
}

func (s *Server) finishRecovery(c *call, req signInRequest) (int, any) {
	s.challenged(c, req.MFAToken)
	o, err := s.d.People.FinishRecovery(c.r.Context(), req.MFAToken, req.Code)
	if err != nil {
		return s.failure(c, err)
	}
	return s.opened(c, o, req.Cookie)
}

// opened answers a completed sign-in: the session token in the body, or
// (cookie) in the session cookie with the CSRF token in the body.
func (s *Server) opened(c *call, o identity.Opened, cookie bool) (int, any) {
	c.p.Session, c.p.Role = o.Session.Ref(), o.Session.Role
	body := map[string]any{
		"status": "ok", "idle_timeout": int(o.Session.Idle.Seconds()), "expires_at": o.Session.Expires.Format(time.RFC3339),
	}
	if cookie {
		c.cookie = sessionCookie(o.Token.Reveal(), int(o.Session.Expires.Sub(o.Session.Created).Seconds()))
		body["csrf_token"] = csrfToken(o.Token.Reveal())
	} else {
		body["access_token"], body["token_type"] = o.Token.Reveal(), "Bearer"
	}
	switch {
	case o.RecoveryCodes != nil:
		body["recovery_codes"] = o.RecoveryCodes
	case c.subtype == "mfa-recovery":
		body["recovery_codes_left"] = o.RecoveryLeft
	}
	return http.StatusOK, body
}

// personSession authenticates a person's session token.
func (s *Server) personSession(ctx context.Context, token string) (auth.Principal, error) {
	if s.d.People == nil {
		return auth.Principal{}, auth.ErrInvalidCredentials
	}
	ses, err := s.d.People.Authenticate(ctx, token)
	var exp *identity.Expired
	if errors.As(err, &exp) {
		return auth.Principal{}, &sessionEnded{subtype: "session-expired", personID: exp.PersonID}
	}
	var locked *identity.Locked
	if errors.As(err, &locked) {
		se := &sessionEnded{locked: true, personID: locked.PersonID}
		if locked.Now {
			se.subtype = "session-idle-timeout"
		}
		return auth.Principal{}, se
	}
	if errors.Is(err, identity.ErrSessionEnded) {
		return auth.Principal{}, auth.ErrInvalidCredentials
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{ID: ses.PersonID, Kind: "user", Tenant: ses.Tenant, Role: ses.Role, Session: ses.Ref(),
		Fresh: ses.Fresh(s.d.Now()), FHIRUser: ses.FHIRUser}, nil
}

// logout ends the session that authenticated the request.
func (s *Server) logout(c *call) (*reply, error) {
	if c.p.Kind != "user" {
		return outcomeReply(c.rid, http.StatusBadRequest, issue("not-supported", "only a person's session can sign out; service tokens expire")), nil
	}
	if err := s.d.People.Logout(c.r.Context(), c.token); err != nil {
		return nil, err
	}
	if c.viaCookie {
		c.cookie = sessionCookie("", -1)
	}
	c.event(audit.ActionExecute, "logout", "User", c.p.ID, 0)
	return &reply{status: http.StatusNoContent, header: http.Header{}}, nil
}

// sessions lists the caller's own sessions.
func (s *Server) sessions(c *call) (*reply, error) {
	if c.p.Kind != "user" {
		return outcomeReply(c.rid, http.StatusBadRequest, issue("not-supported", "only people have sessions")), nil
	}
	person := c.r.PathValue("user")
	if person == "" {
		person = c.p.ID
	}
	ss, err := s.d.People.Sessions(c.r.Context(), c.actor(), person)
	c.event(audit.ActionRead, "sessions", "User", person, 0)
	if rep := sessionsDenied(c, err); rep != nil {
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, x := range ss {
		out = append(out, map[string]any{"id": x.Ref(), "created": x.Created.Format(time.RFC3339),
			"last_used": x.Seen.Format(time.RFC3339), "expires": x.Expires.Format(time.RFC3339), "current": x.Ref() == c.p.Session})
	}
	return jsonReply(map[string]any{"sessions": out})
}

// sessionEnded is a person's session that timed out or is locked: a 401
// like any invalid token. subtype, when set, names the audit event of the
// account that records it (once).
type sessionEnded struct {
	subtype  string
	personID string
	locked   bool
}

func (e *sessionEnded) Error() string        { return auth.ErrInvalidCredentials.Error() }
func (e *sessionEnded) Is(target error) bool { return target == auth.ErrInvalidCredentials }
