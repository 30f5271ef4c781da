// Package audit defines the audit event every PHI access and security
// action produces, and the Recorder the request pipeline records it
// through, fail-closed. The tamper-evident ledger (package ledger)
// implements Recorder.
package audit

import (
	"context"
	"errors"
	"time"
)

// ErrPruned means an event was archived and deleted after its retention
// period: what needs it (a proof) must use the signed archive.
var ErrPruned = errors.New("audit event pruned (archived and deleted after its retention period)")

// Actions, as in FHIR AuditEvent.action.
const (
	ActionCreate  = "C"
	ActionRead    = "R"
	ActionUpdate  = "U"
	ActionDelete  = "D"
	ActionExecute = "E"
)

// Event is one audit record. It carries ids, never names or other PHI.
type Event struct {
	Time       time.Time `json:"time,omitempty"`
	Tenant     string    `json:"tenant,omitempty"`
	ActorID    string    `json:"actor,omitempty"`      // client or user id; "" when unauthenticated
	ActorKind  string    `json:"actor_kind,omitempty"` // client | user
	Role       string    `json:"role,omitempty"`
	SessionID  string    `json:"session,omitempty"` // a non-secret id of the actor's session or access token
	Action     string    `json:"action,omitempty"`  // C R U D E
	Subtype    string    `json:"subtype,omitempty"` // read, vread, create, update, delete, history-*, transaction, batch, token, ...
	EntityType string    `json:"entity_type,omitempty"`
	EntityID   string    `json:"entity_id,omitempty"`
	PatientID  string    `json:"patient,omitempty"` // the patient whose record it is, when there is one
	Version    int64     `json:"version,omitempty"`
	Query      string    `json:"query,omitempty"`   // parameter names only, never values
	Purpose    string    `json:"purpose,omitempty"` // purpose of use, a v3 PurposeOfUse code
	Outcome    int       `json:"outcome,omitempty"` // HTTP status of the action
	SourceIP   string    `json:"ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	EntryPoint string    `json:"entry,omitempty"` // api | console | portal | cli
	RequestID  string    `json:"request_id,omitempty"`
}

// Recorder makes events durable. An error means the events were not
// recorded, and the caller must fail the access (fail-closed).
type Recorder interface {
	Record(ctx context.Context, events []Event) error
}
