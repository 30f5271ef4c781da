package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
	"github.com/wardhealth/ward/internal/store"
)

const fhirJSON = "application/fhir+json; charset=utf-8"

// ooIssue is OperationOutcome.issue.
type ooIssue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

func issue(code, msg string, expr ...string) ooIssue {
	return ooIssue{Severity: "error", Code: code, Diagnostics: msg, Expression: expr}
}

// outcome is an OperationOutcome whose id is the request id, so a user
// can quote it to an operator.
func outcome(rid string, issues ...ooIssue) []byte {
	b, _ := json.Marshal(struct {
		ResourceType string    `json:"resourceType"`
		ID           string    `json:"id,omitempty"`
		Issue        []ooIssue `json:"issue"`
	}{"OperationOutcome", rid, issues})
	return b
}

func outcomeReply(rid string, status int, issues ...ooIssue) *reply {
	return &reply{status: status, header: http.Header{}, body: outcome(rid, issues...)}
}

func writeOutcome(w http.ResponseWriter, rid string, status int, issues ...ooIssue) {
	w.Header().Set("Content-Type", fhirJSON)
	w.WriteHeader(status)
	w.Write(outcome(rid, issues...))
}

// errorReply maps every error a handler can return to a status and an
// OperationOutcome, in one place. Messages never carry PHI: they come from
// sentinel errors and validation issues, which never echo input values.
func (c *call) errorReply(err error) *reply {
	status, issues := c.s.classify(c.rid, err)
	return outcomeReply(c.rid, status, issues...)
}

func (s *Server) classify(rid string, err error) (int, []ooIssue) {
	var fe *fhir.Error
	var forb *forbiddenError
	var be *badRequest
	var mbe *http.MaxBytesError
	var oe *store.OpError
	var se *search.Error
	expr := []string(nil)
	if errors.As(err, &oe) && oe.Index >= 0 {
		expr = []string{"Bundle.entry[" + strconv.Itoa(oe.Index) + "]"}
	}
	switch {
	case errors.As(err, &fe):
		out := make([]ooIssue, 0, len(fe.Issues))
		for _, is := range fe.Issues {
			sev := is.Severity
			if sev == "" {
				sev = "error"
			}
			out = append(out, ooIssue{Severity: sev, Code: is.Code, Diagnostics: is.Diagnostics, Expression: is.Expression})
		}
		return http.StatusBadRequest, out
	case errors.Is(err, errAuditDown):
		s.d.Log.Error("audit record failed; write undone", "request_id", rid, "err", err.Error())
		return http.StatusServiceUnavailable, []ooIssue{issue("transient", "the audit trail is unavailable; the request was not completed")}
	case errors.As(err, &se):
		return http.StatusBadRequest, []ooIssue{issue("invalid", se.Error(), se.Param)}
	case errors.Is(err, index.ErrBadCursor):
		return http.StatusBadRequest, []ooIssue{issue("invalid", "invalid paging link", cursorParam)}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, []ooIssue{issue("too-costly", "request body exceeds "+strconv.FormatInt(mbe.Limit, 10)+" bytes")}
	case errors.As(err, &be):
		if len(be.expr) > 0 {
			expr = be.expr
		}
		return be.status, []ooIssue{issue(be.code, be.msg, expr...)}
	case errors.As(err, &forb):
		return http.StatusForbidden, []ooIssue{issue("forbidden", "access denied: "+forb.reason, expr...)}
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, []ooIssue{issue("not-found", "resource not found", expr...)}
	case errors.Is(err, audit.ErrPruned):
		return http.StatusGone, []ooIssue{issue("not-found", "the audit event was archived and pruned after its retention period; its proof is in the signed archive")}
	case errors.Is(err, store.ErrGone):
		return http.StatusGone, []ooIssue{issue("deleted", "resource deleted", expr...)}
	case errors.Is(err, store.ErrVersionConflict):
		return http.StatusPreconditionFailed, []ooIssue{issue("conflict", "version conflict: If-Match does not name the current version", expr...)}
	case errors.Is(err, store.ErrExists):
		return http.StatusConflict, []ooIssue{issue("duplicate", "resource already exists", expr...)}
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, []ooIssue{issue("value", "invalid resource type or id", expr...)}
	case errors.Is(err, store.ErrNoTenant):
		return http.StatusForbidden, []ooIssue{issue("forbidden", "no tenant")}
	case errors.Is(err, store.ErrBusy):
		return http.StatusServiceUnavailable, []ooIssue{issue("transient", "server busy; retry")}
	case errors.Is(err, store.ErrIntegrity):
		s.d.Log.Error("stored record failed integrity check", "request_id", rid)
		return http.StatusInternalServerError, []ooIssue{issue("exception", "stored record failed its integrity check; operators have been alerted")}
	}
	// Unknown errors: the detail goes to the log (with the request id);
	// store and keyring errors carry no PHI.
	s.d.Log.Error("request failed", "request_id", rid, "err", err.Error())
	return http.StatusInternalServerError, []ooIssue{issue("exception", "internal error")}
}

// badRequest is a request-level error with a status and safe message.
type badRequest struct {
	status int
	code   string
	msg    string
	expr   []string
}

func (e *badRequest) Error() string { return e.msg }

func bad(msg string, expr ...string) error {
	return &badRequest{status: http.StatusBadRequest, code: "invalid", msg: msg, expr: expr}
}
