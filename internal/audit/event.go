// Package audit defines the audit event every PHI access and security
// action produces, and the sinks that make events durable. The
// tamper-evident Merkle ledger replaces the file sink in a later issue;
// the request pipeline already records through Recorder, fail-closed,
// and FileSink keeps events durable until then.
package audit

import (
	"context"
	"time"
)

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
	// JSON names are the interim file sink's format.
	Time       time.Time `json:"time,omitempty"`
	Tenant     string    `json:"tenant,omitempty"`
	ActorID    string    `json:"actor,omitempty"`      // client or user id; "" when unauthenticated
	ActorKind  string    `json:"actor_kind,omitempty"` // client | user
	Role       string    `json:"role,omitempty"`
	Action     string    `json:"action,omitempty"`  // C R U D E
	Subtype    string    `json:"subtype,omitempty"` // read, vread, create, update, delete, history-*, transaction, batch, token, ...
	EntityType string    `json:"entity_type,omitempty"`
	EntityID   string    `json:"entity_id,omitempty"`
	Version    int64     `json:"version,omitempty"`
	Query      string    `json:"query,omitempty"`   // parameter names only, never values
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
