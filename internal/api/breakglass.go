package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/breakglass"
)

// BreakGlass is emergency access; *breakglass.Service has it.
type BreakGlass interface {
	Start(ctx context.Context, by breakglass.Actor, patientID, reason string, d time.Duration) (breakglass.Grant, error)
	Active(ctx context.Context, tenant, personID, patientID string, now time.Time) (breakglass.Grant, bool, error)
	End(ctx context.Context, by breakglass.Actor, grantID string) (breakglass.Grant, error)
	Reviews(ctx context.Context, by breakglass.Actor, open bool) ([]breakglass.Review, error)
	Case(ctx context.Context, by breakglass.Actor, reviewID string) (breakglass.Case, error)
	Close(ctx context.Context, by breakglass.Actor, reviewID, disposition, notes string) (breakglass.Review, error)
}

// The routes:
//
//	POST   /access/break-glass              {"patient","reason","duration_minutes"} (step-up required)
//	DELETE /access/break-glass/{id}         end a grant early
//	GET    /access/reviews[?open=false]     privacy officers: the review cases
//	GET    /access/reviews/{id}             one case, with the reason
//	POST   /access/reviews/{id}/close       {"disposition","notes"}

type breakGlassRequest struct {
	Patient         string `json:"patient"`
	Reason          string `json:"reason"`
	DurationMinutes int    `json:"duration_minutes"`
	Disposition     string `json:"disposition"`
	Notes           string `json:"notes"`
}

func (c *call) bgActor() breakglass.Actor {
	return breakglass.Actor{ID: c.p.ID, Role: c.p.Role, Tenant: c.p.Tenant, Fresh: c.p.Fresh}
}

// bgStep runs a break-glass or review step of a person, with the JSON
// body when it takes one, and maps the service's errors.
func (s *Server) bgStep(c *call, body bool, step func(req breakGlassRequest) (int, any, error)) (*reply, error) {
	if rep := c.personOnly(); rep != nil {
		return rep, nil
	}
	if s.d.BreakGlass == nil {
		return outcomeReply(c.rid, http.StatusNotFound, issue("not-supported", "emergency access is not configured")), nil
	}
	var req breakGlassRequest
	if body {
		if status, b := decodeJSON(c.r, &req); status != 0 {
			return statusJSON(status, b), nil
		}
	}
	status, out, err := step(req)
	switch {
	case err == nil:
		return statusJSON(status, out), nil
	case errors.Is(err, breakglass.ErrStepUp):
		return c.requireStepUp(), nil
	case errors.Is(err, breakglass.ErrInvalid):
		return statusJSON(http.StatusBadRequest, oauthError("invalid_request", err.Error())), nil
	case errors.Is(err, breakglass.ErrForbidden):
		return statusJSON(http.StatusForbidden, oauthError("forbidden", err.Error())), nil
	case errors.Is(err, breakglass.ErrNotFound):
		return statusJSON(http.StatusNotFound, oauthError("not_found", "no such grant or review")), nil
	case errors.Is(err, breakglass.ErrActive), errors.Is(err, breakglass.ErrEnded), errors.Is(err, breakglass.ErrClosed):
		return statusJSON(http.StatusConflict, oauthError("conflict", err.Error())), nil
	}
	return nil, err
}

// breakGlassStart grants the caller emergency access to one patient's
// records, notifies the privacy officers and opens a review.
func (s *Server) breakGlassStart(c *call) (*reply, error) {
	return s.bgStep(c, true, func(req breakGlassRequest) (int, any, error) {
		patient := req.Patient
		if !validID(patient) {
			patient = "" // the service refuses it; the trail keeps no junk
		}
		ev := c.event(audit.ActionExecute, "break-glass-start", "Patient", patient, 0)
		ev.Purpose = audit.PurposeBreakGlass
		g, err := s.d.BreakGlass.Start(c.r.Context(), c.bgActor(), req.Patient, req.Reason, time.Duration(req.DurationMinutes)*time.Minute)
		out := map[string]any{"grant": g.ID, "patient": g.PatientID, "write": g.Write,
			"starts_at": g.Started.Format(time.RFC3339), "ends_at": g.Ends.Format(time.RFC3339)}
		if errors.Is(err, breakglass.ErrNotify) {
			// The grant stands: an emergency must not wait for a mail relay.
			s.d.Log.Error("break-glass notice not delivered", "request_id", c.rid, "err", err.Error())
			out["warning"] = "the privacy officers could not be e-mailed; the in-app alert and review stand"
			err = nil
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, out, nil
	})
}

// breakGlassEnd ends a grant early (the grantee or a privacy officer).
func (s *Server) breakGlassEnd(c *call) (*reply, error) {
	return s.bgStep(c, false, func(breakGlassRequest) (int, any, error) {
		id := c.r.PathValue("id")
		g, err := s.d.BreakGlass.End(c.r.Context(), c.bgActor(), id)
		c.event(audit.ActionExecute, "break-glass-end", "Patient", g.PatientID, 0)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"grant": g.ID, "ended_at": g.Ended.Format(time.RFC3339)}, nil
	})
}

// reviews lists review cases (privacy officers of the tenant).
func (s *Server) reviews(c *call) (*reply, error) {
	return s.bgStep(c, false, func(breakGlassRequest) (int, any, error) {
		rs, err := s.d.BreakGlass.Reviews(c.r.Context(), c.bgActor(), c.r.URL.Query().Get("open") != "false")
		c.event(audit.ActionRead, "break-glass-reviews", "", "", 0)
		if err != nil {
			return 0, nil, err
		}
		out := []map[string]any{}
		for _, r := range rs {
			out = append(out, reviewJSON(r))
		}
		return http.StatusOK, map[string]any{"reviews": out}, nil
	})
}

// reviewCase shows one case with its reason (which may hold PHI: the
// read is audited against the patient).
func (s *Server) reviewCase(c *call) (*reply, error) {
	return s.bgStep(c, false, func(breakGlassRequest) (int, any, error) {
		k, err := s.d.BreakGlass.Case(c.r.Context(), c.bgActor(), c.r.PathValue("id"))
		c.event(audit.ActionRead, "break-glass-review", "Patient", k.Grant.PatientID, 0)
		if err != nil {
			return 0, nil, err
		}
		out := reviewJSON(k.Review)
		out["patient"], out["grantee"], out["reason"], out["notes"] = k.Grant.PatientID, k.Grant.PersonID, string(k.Reason), string(k.Notes)
		out["grant_started_at"], out["grant_ends_at"] = k.Grant.Started.Format(time.RFC3339), k.Grant.Until().Format(time.RFC3339)
		return http.StatusOK, out, nil
	})
}

// reviewClose closes a case with a disposition.
func (s *Server) reviewClose(c *call) (*reply, error) {
	return s.bgStep(c, true, func(req breakGlassRequest) (int, any, error) {
		r, err := s.d.BreakGlass.Close(c.r.Context(), c.bgActor(), c.r.PathValue("id"), req.Disposition, req.Notes)
		c.event(audit.ActionUpdate, "break-glass-review-close", "", "", 0)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, reviewJSON(r), nil
	})
}

func reviewJSON(r breakglass.Review) map[string]any {
	out := map[string]any{"id": r.ID, "grant": r.GrantID, "opened_at": r.Opened.Format(time.RFC3339), "open": r.IsOpen()}
	if !r.IsOpen() {
		out["closed_at"], out["closed_by"], out["disposition"] = r.Closed.Format(time.RFC3339), r.ClosedBy, r.Disposition
	}
	return out
}
