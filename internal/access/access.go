// Package access makes access-control decisions. It is pure: no I/O, no
// clock, no globals; every input is in the arguments, so decisions are
// table-tested. Later issues add compartments, consent, masks and
// break-glass here.
package access

// Action is a FHIR interaction class.
type Action string

// Actions the REST layer asks about.
const (
	Read    Action = "read"    // read, vread
	History Action = "history" // _history at any level
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Search  Action = "search"
	// VerifyAudit is reading the audit ledger's signed checkpoints and
	// Merkle proofs: hashes only, never events.
	VerifyAudit Action = "verify-audit"
	// ReadAudit is reading the tenant's audit events (ids, never content).
	ReadAudit Action = "read-audit"
)

// Subject is who is asking.
type Subject struct {
	ID     string
	Role   string
	Tenant string
}

// Resource is what is being acted on.
type Resource struct {
	Tenant string
	Type   string
}

// Decision is the answer; Reason is safe to show and log (no PHI).
type Decision struct {
	Allow  bool
	Reason string
}

// Decide answers whether s may do a on r.
func Decide(s Subject, a Action, r Resource) Decision {
	if s.ID == "" || s.Tenant == "" {
		return Decision{Reason: "unauthenticated"}
	}
	if s.Tenant != r.Tenant {
		return Decision{Reason: "resource belongs to another tenant"}
	}
	switch s.Role {
	case "service":
		switch a {
		case Read, History, Create, Update, Delete, Search:
			return Decision{Allow: true, Reason: "service role: full FHIR access within its tenant"}
		case VerifyAudit:
			return Decision{Allow: true, Reason: "service role: audit checkpoints and proofs (hashes only)"}
		}
		return Decision{Reason: "service role: the audit trail needs the auditor role"}
	case "auditor", "privacy-officer":
		switch a {
		case ReadAudit, VerifyAudit:
			return Decision{Allow: true, Reason: s.Role + " role: the tenant's audit trail"}
		}
		return Decision{Reason: s.Role + " role: no access to clinical content"}
	}
	return Decision{Reason: "role has no FHIR privileges"}
}
