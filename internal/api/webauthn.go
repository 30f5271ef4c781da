package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/identity"
)

// WebAuthn (passkeys) in two requests per ceremony: begin returns the
// options for navigator.credentials.create or .get, finish takes the
// browser's response. The routes:
//
//	/auth/mfa/webauthn/{begin,finish}      sign-in (mfa_token): enrol or use a passkey
//	/auth/step-up/webauthn/{begin,finish}  step up the session
//	/auth/resume/webauthn/{begin,finish}   resume an idle-locked session
//	/auth/webauthn/register/{begin,finish} add a passkey (stepped-up session)

// webauthnRoutes registers begin and finish for each kind of ceremony.
func (s *Server) webauthnRoutes() {
	for _, r := range []struct {
		path, subtype string
		purpose       identity.Purpose // "" for sign-in: from the challenge's step
	}{
		{"/auth/mfa/webauthn", "mfa-webauthn", ""},
		{"/auth/step-up/webauthn", "step-up-webauthn", identity.PurposeStepUp},
		{"/auth/resume/webauthn", "session-resume-webauthn", identity.PurposeResume},
		{"/auth/webauthn/register", "webauthn-register", identity.PurposeAdd},
	} {
		s.signIn("POST "+r.path+"/begin", r.subtype+"-begin", func(c *call, req signInRequest) (int, any) {
			return s.webauthn(c, req, r.purpose, false)
		})
		s.signIn("POST "+r.path+"/finish", r.subtype, func(c *call, req signInRequest) (int, any) {
			return s.webauthn(c, req, r.purpose, true)
		})
	}
}

// webauthn runs one half of a ceremony.
func (s *Server) webauthn(c *call, req signInRequest, purpose identity.Purpose, finish bool) (int, any) {
	ctx := c.r.Context()
	tok := req.MFAToken
	if purpose == "" {
		s.challenged(c, tok)
		step, err := s.d.People.StepOf(ctx, tok)
		if err != nil {
			return s.failure(c, err)
		}
		purpose = identity.PurposeSignIn
		if step == identity.StepEnroll {
			purpose = identity.PurposeEnroll
		}
	} else {
		var err error
		if tok, err = s.credential(c); err != nil {
			if errors.Is(err, errCSRF) {
				return http.StatusForbidden, oauthError("forbidden", err.Error())
			}
			return http.StatusUnauthorized, oauthError("session_ended", "send the session's token (Authorization: Bearer, or the session cookie)")
		}
		if purpose != identity.PurposeResume {
			p, err := s.personSession(ctx, tok)
			if err != nil {
				return s.failure(c, identity.ErrSessionEnded)
			}
			c.p = p
			if purpose == identity.PurposeStepUp && c.allowed(access.OpStepUp) != nil {
				return http.StatusForbidden, oauthError("forbidden", "step-up from this address is not allowed")
			}
		}
	}
	if !finish {
		opts, err := s.d.People.BeginWebAuthn(ctx, purpose, tok)
		if err != nil {
			return s.failure(c, err)
		}
		return http.StatusOK, map[string]any{"options": json.RawMessage(opts)}
	}
	res, err := s.d.People.FinishWebAuthn(ctx, purpose, tok, req.Credential)
	if err != nil {
		if errors.Is(err, identity.ErrCloned) {
			var r *identity.Refused
			errors.As(err, &r)
			c.event(audit.ActionExecute, "webauthn-cloned", "User", r.PersonID, 0).Outcome = http.StatusUnauthorized
		}
		return s.failure(c, err)
	}
	switch purpose {
	case identity.PurposeEnroll, identity.PurposeSignIn:
		return s.opened(c, res.Opened, req.Cookie)
	case identity.PurposeAdd:
		return http.StatusCreated, map[string]any{"status": "ok"}
	case identity.PurposeStepUp:
		return http.StatusOK, map[string]any{"status": "ok", "fresh_until": res.Session.SteppedUp.Add(identity.StepUpTTL).Format(time.RFC3339)}
	}
	c.asPerson(res.Session.PersonID, res.Session.Tenant)
	return http.StatusOK, map[string]any{"status": "ok", "idle_timeout": int(res.Session.Idle.Seconds()), "expires_at": res.Session.Expires.Format(time.RFC3339)}
}
