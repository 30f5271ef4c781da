package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/identity"
)

// A person's session after sign-in: resuming it when the idle timeout
// locked it, stepping up for sensitive operations, and the PIN.

// resume unlocks an idle-locked session (the bearer token) with the
// password or PIN. It runs outside the pipeline's authentication, which
// refuses a locked session.
func (s *Server) resume(c *call, req signInRequest) (int, any) {
	tok, err := s.credential(c)
	if err != nil {
		if errors.Is(err, errCSRF) {
			return http.StatusForbidden, oauthError("forbidden", err.Error())
		}
		return http.StatusUnauthorized, oauthError("session_ended", "send the locked session's token (Authorization: Bearer, or the session cookie)")
	}
	ses, err := s.d.People.Resume(c.r.Context(), tok, identity.Proof{Password: req.Password, PIN: req.PIN})
	if err != nil {
		var r *identity.Refused
		if errors.As(err, &r) && r.Ended {
			c.refused = r
			c.event(audit.ActionExecute, "logout", "User", r.PersonID, 0).Outcome = http.StatusUnauthorized
			return http.StatusUnauthorized, oauthError("session_ended", "too many wrong answers: the session is over; sign in again")
		}
		return s.failure(c, err)
	}
	c.asPerson(ses.PersonID, ses.Tenant)
	c.p.Session, c.p.Role = ses.Ref(), ses.Role
	return http.StatusOK, map[string]any{"status": "ok", "idle_timeout": int(ses.Idle.Seconds()), "expires_at": ses.Expires.Format(time.RFC3339)}
}

// personOnly refuses calls that are not a person's session.
func (c *call) personOnly() *reply {
	if c.p.Kind != "user" {
		return outcomeReply(c.rid, http.StatusForbidden, issue("forbidden", "only a person's session can do this"))
	}
	return nil
}

// personStep runs a step of a signed-in person with a JSON body and
// records it as event subtype of their account, with a lockout event if
// a wrong password locked it.
func (s *Server) personStep(c *call, subtype string, step func(req signInRequest) (int, any)) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	var req signInRequest
	status, body := decodeJSON(c.r, &req)
	if status == 0 {
		status, body = step(req)
	}
	c.event(audit.ActionExecute, subtype, "User", c.p.ID, 0)
	if r := c.refused; r != nil && r.Locked {
		c.event(audit.ActionExecute, "lockout", "User", r.PersonID, 0).Outcome = http.StatusLocked
	}
	return statusJSON(status, body), nil
}

// stepUp marks the session freshly authenticated for 5 minutes.
func (s *Server) stepUp(c *call) (*reply, error) {
	return s.personStep(c, "step-up", func(req signInRequest) (int, any) {
		ses, err := s.d.People.StepUp(c.r.Context(), c.token, req.Password)
		if err != nil {
			return s.failure(c, err)
		}
		return http.StatusOK, map[string]any{"status": "ok", "fresh_until": ses.SteppedUp.Add(identity.StepUpTTL).Format(time.RFC3339)}
	})
}

// setPIN sets the person's PIN for resuming a locked session.
func (s *Server) setPIN(c *call) (*reply, error) {
	return s.personStep(c, "pin-set", func(req signInRequest) (int, any) {
		if err := s.d.People.SetPIN(c.r.Context(), c.p.ID, req.Password, req.PIN); err != nil {
			return s.failure(c, err)
		}
		return http.StatusNoContent, nil
	})
}

// requireStepUp answers 401 (RFC 9470 insufficient_user_authentication)
// unless the call is a person's session that stepped up within 5 minutes.
func (c *call) requireStepUp() *reply {
	if rep := c.personOnly(); rep != nil {
		return rep
	}
	if c.p.Fresh {
		return nil
	}
	rep := outcomeReply(c.rid, http.StatusUnauthorized, issue("login", "this operation needs a fresh authentication: POST /auth/step-up, then retry within 5 minutes"))
	rep.header.Set("WWW-Authenticate", `Bearer realm="ward", error="insufficient_user_authentication", error_description="step-up required"`)
	return rep
}

// endSessions is DELETE /auth/sessions (every other session of the
// caller), DELETE /auth/sessions/{id} (one of the caller's) and DELETE
// /admin/users/{user}/sessions (every session of an account the caller
// administers).
func (s *Server) endSessions(c *call) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	person, ref := c.r.PathValue("user"), c.r.PathValue("id")
	keep := ""
	if person == "" {
		person = c.p.ID
		if ref == "" {
			keep = c.token
		}
	}
	n, err := s.d.People.EndSessions(c.r.Context(), c.actor(), person, ref, keep)
	c.event(audit.ActionDelete, "sessions-end", "User", person, 0)
	if rep := sessionsDenied(c, err); rep != nil {
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	return jsonReply(map[string]any{"ended": n})
}

// actor is the call's person as an identity actor.
func (c *call) actor() identity.Actor {
	return identity.Actor{ID: c.p.ID, Role: c.p.Role, Tenant: c.p.Tenant}
}

// sessionsDenied answers a refused session listing or ending: 404 for
// an unknown account or session, 403 for another's account the caller
// does not administer; nil for other errors, which the caller returns.
func sessionsDenied(c *call, err error) *reply {
	switch {
	case errors.Is(err, identity.ErrNotFound):
		return outcomeReply(c.rid, http.StatusNotFound, issue("not-found", "no such session or account"))
	case errors.Is(err, identity.ErrForbidden):
		return outcomeReply(c.rid, http.StatusForbidden, issue("forbidden", "only your own sessions, or those of accounts you administer"))
	}
	return nil
}
