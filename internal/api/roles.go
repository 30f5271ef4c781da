package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/identity"
)

// Role privileges as data: tenant administrators (and super-admins,
// naming the tenant) read and replace the privileges of the workforce
// roles; a change needs a step-up and is audited.
//
//	GET    /admin/roles[?tenant=T]         every editable role's privileges
//	PUT    /admin/roles/{role}[?tenant=T]  {"privileges":[{"resources":[...],"actions":[...]}]}
//	DELETE /admin/roles/{role}[?tenant=T]  back to the built-in privileges

// RoleStore keeps tenants' role privileges; the SQLite store has it.
type RoleStore interface {
	RolePrivileges(ctx context.Context, tenant string) (map[string][]byte, error)
	SetRolePrivileges(ctx context.Context, tenant, role string, privs []byte, by string, at time.Time) error
}

// roleTTL bounds how stale another instance's view of a change may be.
const roleTTL = 10 * time.Second

// privileges returns the tenant's edited privileges of role, or nil for
// the built-in ones.
func (s *Server) privileges(ctx context.Context, tenant, role string) ([]access.Grant, error) {
	if s.d.Roles == nil || !slices.Contains(access.EditableRoles(), role) {
		return nil, nil
	}
	grants, gen, ok := s.roles.get(tenant, "")
	if !ok {
		stored, err := s.d.Roles.RolePrivileges(ctx, tenant)
		if err != nil {
			return nil, err
		}
		grants = map[string][]access.Grant{}
		for r, raw := range stored {
			g, err := compileStored(r, raw)
			if err != nil {
				// Fail closed: a role whose stored privileges do not read has none.
				s.d.Log.Error("stored role privileges unreadable; the role has none", "tenant", tenant, "role", r, "err", err.Error())
				g = []access.Grant{}
			}
			grants[r] = g
		}
		s.roles.put(tenant, "", gen, grants)
	}
	return grants[role], nil
}

// compileStored compiles a role's privileges as stored (JSON).
func compileStored(role string, raw []byte) ([]access.Grant, error) {
	var ps []access.Privilege
	if err := json.Unmarshal(raw, &ps); err != nil {
		return nil, err
	}
	return access.CompilePrivileges(role, ps, fhir.IsResourceType)
}

// roleTenant is the tenant a role request is about: the administrator's,
// or for a super-admin the one named by ?tenant=.
func (c *call) roleTenant() (string, *reply) {
	switch c.p.Role {
	case "tenant-admin":
		return c.p.Tenant, nil
	case "super-admin":
		if t := c.r.URL.Query().Get("tenant"); t != "" {
			return t, nil
		}
		return "", statusJSON(http.StatusBadRequest, oauthError("invalid_request", "a super-admin names the tenant: ?tenant="))
	}
	return "", statusJSON(http.StatusForbidden, oauthError("forbidden", "only administrators manage roles"))
}

func (s *Server) listRoles(c *call) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	tenant, rep := c.roleTenant()
	c.event(audit.ActionRead, "roles", "Role", "", 0)
	if rep != nil {
		return rep, nil
	}
	stored, err := s.d.Roles.RolePrivileges(c.r.Context(), tenant)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, role := range access.EditableRoles() {
		privs, custom := access.BuiltinPrivileges(role), false
		if raw, ok := stored[role]; ok {
			custom = json.Unmarshal(raw, &privs) == nil
		}
		out = append(out, map[string]any{"role": role, "privileges": privs, "custom": custom})
	}
	return jsonReply(map[string]any{"tenant": tenant, "roles": out})
}

// setRole replaces (PUT) or resets (DELETE) a role's privileges.
func (s *Server) setRole(c *call) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	role := c.r.PathValue("role")
	c.event(audit.ActionUpdate, "role-change", "Role", role, 0)
	tenant, rep := c.roleTenant()
	if rep != nil {
		return rep, nil
	}
	if rep := c.requireStepUp(); rep != nil {
		return rep, nil
	}
	var raw []byte
	if c.r.Method == http.MethodPut {
		var req struct {
			Privileges []access.Privilege `json:"privileges"`
		}
		if status, body := decodeJSON(c.r, &req); status != 0 {
			return statusJSON(status, body), nil
		}
		if req.Privileges == nil {
			req.Privileges = []access.Privilege{}
		}
		if _, err := access.CompilePrivileges(role, req.Privileges, fhir.IsResourceType); err != nil {
			return statusJSON(http.StatusBadRequest, oauthError("invalid_request", err.Error())), nil
		}
		raw, _ = json.Marshal(req.Privileges)
	} else if !slices.Contains(access.EditableRoles(), role) {
		return statusJSON(http.StatusBadRequest, oauthError("invalid_request", "that role's privileges are fixed")), nil
	}
	if err := s.d.Roles.SetRolePrivileges(c.r.Context(), tenant, role, raw, c.p.ID, s.d.Now()); err != nil {
		return nil, err
	}
	s.roles.invalidate(tenant)
	c.events[len(c.events)-1].Tenant = tenant
	return statusJSON(http.StatusOK, map[string]any{"tenant": tenant, "role": role, "custom": raw != nil}), nil
}

// setUserRole changes an account's role (PUT /admin/users/{user}/role,
// {"role": ...}): step-up required; only a super-admin promotes to or
// from an admin role; the account's sessions end.
func (s *Server) setUserRole(c *call) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	id := c.r.PathValue("user")
	c.event(audit.ActionUpdate, "user-role-change", "User", id, 0)
	if rep := c.requireStepUp(); rep != nil {
		return rep, nil
	}
	var req struct {
		Role string `json:"role"`
	}
	if status, body := decodeJSON(c.r, &req); status != 0 {
		return statusJSON(status, body), nil
	}
	p, err := s.d.People.SetRole(c.r.Context(), c.actor(), id, req.Role)
	if rep := sessionsDenied(c, err); rep != nil {
		return rep, nil
	}
	if errors.Is(err, identity.ErrInvalid) {
		return statusJSON(http.StatusBadRequest, oauthError("invalid_request", strings.TrimPrefix(err.Error(), "identity: invalid: "))), nil
	}
	if err != nil {
		return nil, err
	}
	c.events[len(c.events)-1].Tenant = p.Tenant
	return jsonReply(map[string]any{"user_id": p.ID, "role": p.Role})
}
