package api

import (
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/identity"
)

// Invitations: an administrator invites a person to a tenant with a
// role; the invitee redeems the invitation, choosing a username and
// password, and goes on to MFA enrolment.

// invitationRequest is the body of POST /admin/invitations.
type invitationRequest struct {
	Tenant   string `json:"tenant"` // default: the administrator's own
	Role     string `json:"role"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	TTLHours int    `json:"ttl_hours"` // default 72, at most 720
	// FHIRUser links the new account to its FHIR resource, e.g. a
	// patient's "Patient/123".
	FHIRUser string `json:"fhir_user"`
}

// invite creates an invitation. The token is shown once, to the
// administrator, who passes it on; the invitation is audited by the
// invitee's future role and tenant, never the token.
func (s *Server) invite(c *call) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	var req invitationRequest
	if status, body := decodeJSON(c.r, &req); status != 0 {
		return statusJSON(status, body), nil
	}
	if req.Tenant == "" {
		req.Tenant = c.p.Tenant
	}
	inv, tok, err := s.d.People.Invite(c.r.Context(), c.actor(), identity.NewInvitation{Tenant: req.Tenant, Role: req.Role,
		Email: req.Email, Name: req.Name, FHIRUser: req.FHIRUser, TTL: time.Duration(req.TTLHours) * time.Hour})
	c.event(audit.ActionCreate, "invitation", "Invitation", "", 0)
	if err != nil {
		status, body := s.failure(c, err)
		if status == http.StatusUnauthorized { // ErrForbidden: the actor may not invite that role
			status, body = http.StatusForbidden, oauthError("forbidden", "your role may not invite to that tenant or role")
		}
		return statusJSON(status, body), nil
	}
	return statusJSON(http.StatusCreated, map[string]any{
		"invitation": tok.Reveal(), "tenant": inv.Tenant, "role": inv.Role, "expires_at": inv.Expires.Format(time.RFC3339),
		"accept": "POST " + s.d.BaseURL + "/auth/invitations/accept",
	}), nil
}

// acceptInvitation redeems an invitation and starts the first sign-in.
func (s *Server) acceptInvitation(c *call, req signInRequest) (int, any) {
	if len(req.Username) > 256 {
		return http.StatusBadRequest, oauthError("invalid_request", "username too long")
	}
	p, in, err := s.d.People.Accept(c.r.Context(), req.Invitation, req.Username, req.Password)
	if err != nil {
		return s.failure(c, err)
	}
	c.asPerson(p.ID, p.Tenant)
	c.event(audit.ActionCreate, "user-create", "User", p.ID, 0).Outcome = http.StatusCreated
	body := signInStep(in)
	body["user_id"] = p.ID
	return http.StatusOK, body
}
