// Package access makes access-control decisions. It is pure: no I/O, no
// clock, no globals; every input is in the arguments, so decisions are
// table-tested. Later issues add compartments, consent, masks and
// break-glass here.
package access

import "slices"

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
	// Sign is an electronic signature of a resource version ($sign).
	Sign Action = "sign"
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
	if privs, ok := staff[s.Role]; ok {
		return decideStaff(s.Role, privs, a, r.Type)
	}
	return Decision{Reason: "role has no FHIR privileges"}
}

// Resource groups, for role privileges.
var (
	clinical = []string{"AllergyIntolerance", "CarePlan", "CareTeam", "ClinicalImpression", "Communication",
		"Composition", "Condition", "Consent", "DetectedIssue", "DeviceRequest", "DiagnosticReport", "DocumentReference",
		"Encounter", "EpisodeOfCare", "FamilyMemberHistory", "Flag", "Goal", "ImagingStudy", "Immunization", "Media",
		"MedicationAdministration", "MedicationDispense", "MedicationRequest", "MedicationStatement", "NutritionOrder",
		"Observation", "Procedure", "Provenance", "QuestionnaireResponse", "RiskAssessment", "ServiceRequest", "Specimen"}
	demographics = []string{"Patient", "RelatedPerson", "Practitioner", "PractitionerRole", "Organization", "Location"}
	scheduling   = []string{"Appointment", "AppointmentResponse", "Schedule", "Slot"}
	financial    = []string{"Account", "ChargeItem", "Claim", "ClaimResponse", "Coverage", "ExplanationOfBenefit", "Invoice"}
	labResults   = []string{"Observation", "DiagnosticReport"}
)

// grant is some actions on some resource types.
type grant struct {
	types   []string
	actions []Action
}

var (
	readOnly  = []Action{Read, Search, History}
	readWrite = []Action{Read, Search, History, Create, Update}
)

// staff are the built-in privileges of people's workforce roles (issue 6
// makes them data that tenant admins edit, and narrows clinical roles to
// the patients they are related to). No role may delete: clinical
// records are corrected by new versions. Admin roles have no clinical
// privileges.
var staff = map[string][]grant{
	"physician": {
		{clinical, append(readWrite, Sign)},
		{demographics, readWrite},
		{scheduling, readOnly},
	},
	"nurse": {
		{clinical, append(readWrite, Sign)},
		{demographics, readWrite},
		{scheduling, readOnly},
	},
	// A lab technician updates results, and reads only what that needs.
	"lab-technician": {
		{labResults, []Action{Read, Search, Update}},
	},
	"front-desk": {
		{demographics, readWrite},
		{scheduling, readWrite},
		{[]string{"Coverage"}, readOnly},
	},
	"billing": {
		{financial, readWrite},
		{demographics, readOnly},
	},
}

func decideStaff(role string, grants []grant, a Action, typ string) Decision {
	if typ == "" {
		return Decision{Reason: role + " role: only a service client acts across every resource type"}
	}
	for _, g := range grants {
		if slices.Contains(g.types, typ) && slices.Contains(g.actions, a) {
			return Decision{Allow: true, Reason: role + " role: " + string(a) + " " + typ}
		}
	}
	return Decision{Reason: role + " role: no " + string(a) + " privilege on " + typ}
}
