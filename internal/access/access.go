// Package access makes access-control decisions. It is pure: no I/O, no
// clock, no globals; every input is in the arguments, so decisions are
// table-tested. A decision combines the role's privileges with the
// patient compartment the resource is in and what the caller found
// between the subject and those patients (care relationship, the
// patient's own record, an emergency grant).
package access

import (
	"slices"
	"strings"
)

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
	// FHIRUser is the FHIR resource a person's account stands for
	// (Patient/… for a patient), "" if none.
	FHIRUser string
	// OrgWide is set when the deployment grants the subject's role every
	// patient of the tenant (no care relationship needed).
	OrgWide bool
	// Sensitive is set when the subject's role holds the extra privilege
	// restricted records need (see SensitiveLabels).
	Sensitive bool
	// Privileges, when not nil, replace the role's built-in privileges:
	// the tenant edited them (EditableRoles).
	Privileges []Grant
}

// Resource is what is being acted on.
type Resource struct {
	Tenant string
	Type   string
	// Patients are the ids of the patients whose compartment the
	// resource is in; nil when it is in none, or for a type-level check
	// (a search before its matches are known).
	Patients []string
	// Relation is what the caller found between the subject and those
	// patients.
	Relation Relation
	// Labels are the resource's meta.security codes.
	Labels []string
}

// SensitiveLabels are the security labels that restrict a record beyond
// its compartment: restricted confidentiality (R), psychotherapy and
// psychiatry (PSYTHPN, PSY), HIV (HIV), substance use (ETH, SUD, 42 CFR
// Part 2), sexual and reproductive health (SEX), sickle cell (SCA) and
// genetic (GDIS) information. A person needs their role's sensitive
// privilege to see one, unless it is their own record or break-glass
// allows it.
var SensitiveLabels = []string{"R", "PSYTHPN", "PSY", "HIV", "ETH", "SUD", "SEX", "SCA", "GDIS"}

// Sensitive reports whether labels hold a sensitive label.
func Sensitive(labels []string) bool {
	for _, l := range labels {
		if slices.Contains(SensitiveLabels, l) {
			return true
		}
	}
	return false
}

// Relation is what links a subject to a resource's patients.
type Relation struct {
	// Care: the subject is on a CareTeam of, a participant in an
	// Encounter of, or the general practitioner of one of the patients.
	Care bool
	// Represents: the subject is the verified personal representative
	// of one of the patients (their account is linked to an active
	// RelatedPerson of that patient that staff marked verified).
	Represents bool
	// Family: the subject's account is linked to an active RelatedPerson
	// of one of the patients that is not a verified representative
	// (family, friends): they see the record only if the patient's
	// Consent permits it.
	Family bool
	// BreakGlass: the subject holds an active emergency grant for one of
	// them; BreakGlassWrite if the grant allows writing.
	BreakGlass, BreakGlassWrite bool
	// Consent is the patients' Consents' decision for this access
	// (EvaluateConsents): a deny hides the record unless break-glass.
	Consent ConsentDecision
}

// Decision is the answer; Reason is safe to show and log (no PHI).
type Decision struct {
	Allow  bool
	Reason string
	// Hide is set on a denial because the resource is in a compartment
	// the subject may not see: answer as if it did not exist (404).
	Hide bool
	// BreakGlass is set when only an emergency grant allows it: the
	// access is audited with purpose of use BTG.
	BreakGlass bool
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
	privs, ok := staff[s.Role]
	if !ok {
		return Decision{Reason: "role has no FHIR privileges"}
	}
	if s.Privileges != nil {
		privs = s.Privileges
	}
	d := decideStaff(s.Role, privs, a, r.Type)
	if !d.Allow || len(r.Patients) == 0 {
		return d
	}
	return decideCompartment(s, a, r, d)
}

// careRoles see a patient's compartment only with a care relationship
// (or an organisation-wide grant, or break-glass).
var careRoles = []string{"physician", "nurse", "lab-technician", "front-desk", "billing"}

// decideCompartment narrows d, a privilege the role has, to the patients
// the subject may see: their own record for a patient, a care
// relationship (or an organisation-wide grant) for staff, and otherwise
// an emergency grant, audited as BTG.
func decideCompartment(s Subject, a Action, r Resource, d Decision) Decision {
	if s.Role == "patient" {
		self, ok := strings.CutPrefix(s.FHIRUser, "Patient/")
		if ok && slices.Contains(r.Patients, self) {
			return Decision{Allow: true, Reason: "patient role: their own record"}
		}
		return Decision{Hide: true, Reason: "patient role: another patient's record"}
	}
	if s.Role == "personal-representative" {
		switch {
		case r.Relation.Represents:
			return Decision{Allow: true, Reason: "personal-representative role: the record of the patient they represent"}
		case r.Relation.Family && r.Relation.Consent.Effect == ConsentPermit:
			return Decision{Allow: true, Reason: "personal-representative role: family or friend, by the patient's Consent (" + r.Relation.Consent.Reason + ")"}
		}
		return Decision{Hide: true, Reason: "personal-representative role: a patient they do not represent"}
	}
	if !slices.Contains(careRoles, s.Role) {
		return Decision{Hide: true, Reason: s.Role + " role: no access to patients' records"}
	}
	if Sensitive(r.Labels) && !s.Sensitive {
		if r.Relation.BreakGlass && (slices.Contains(readOnly, a) || r.Relation.BreakGlassWrite) {
			return Decision{Allow: true, BreakGlass: true, Reason: d.Reason + ", a restricted record by emergency access (break-glass)"}
		}
		return Decision{Hide: true, Reason: s.Role + " role: a restricted record (sensitive security label) needs the sensitive privilege"}
	}
	if r.Relation.Consent.Effect == ConsentDeny {
		if r.Relation.BreakGlass && (slices.Contains(readOnly, a) || r.Relation.BreakGlassWrite) {
			return Decision{Allow: true, BreakGlass: true, Reason: d.Reason + ", by emergency access (break-glass) over the patient's Consent"}
		}
		return Decision{Hide: true, Reason: s.Role + " role: " + r.Relation.Consent.Reason}
	}
	switch {
	case s.OrgWide:
		return Decision{Allow: true, Reason: d.Reason + ", every patient of the tenant (organisation-wide grant)"}
	case r.Relation.Care:
		return Decision{Allow: true, Reason: d.Reason + ", a patient in their care"}
	case r.Relation.BreakGlass && (slices.Contains(readOnly, a) || r.Relation.BreakGlassWrite):
		return Decision{Allow: true, BreakGlass: true, Reason: d.Reason + ", by emergency access (break-glass)"}
	}
	return Decision{Hide: true, Reason: s.Role + " role: the patient is not in their care"}
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

// Grant is a privilege: some actions on some resource types.
type Grant struct {
	Types   []string
	Actions []Action
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
var staff = map[string][]Grant{
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
	// A lab technician updates results, and reads only what that needs:
	// the patient, to match a specimen (masked: no contact details).
	"lab-technician": {
		{labResults, []Action{Read, Search, Update}},
		{[]string{"Patient"}, []Action{Read, Search}},
	},
	"front-desk": {
		{demographics, readWrite},
		{scheduling, readWrite},
		{[]string{"Coverage"}, readOnly},
	},
	// Billing codes claims from encounters, conditions and procedures;
	// the shipped field masks withhold results, values and notes.
	"billing": {
		{financial, readWrite},
		{demographics, readOnly},
		{clinical, readOnly},
	},
	// A patient reads their own record (decideCompartment) and the
	// practitioners, organisations and locations it names.
	"patient": {
		{clinical, readOnly},
		{demographics, readOnly},
		{scheduling, readOnly},
	},
	// A personal representative reads the record of the patient they
	// represent, as the patient would.
	"personal-representative": {
		{clinical, readOnly},
		{demographics, readOnly},
		{scheduling, readOnly},
	},
}

func decideStaff(role string, grants []Grant, a Action, typ string) Decision {
	if typ == "" {
		return Decision{Reason: role + " role: only a service client acts across every resource type"}
	}
	for _, g := range grants {
		if slices.Contains(g.Types, typ) && slices.Contains(g.Actions, a) {
			return Decision{Allow: true, Reason: role + " role: " + string(a) + " " + typ}
		}
	}
	return Decision{Reason: role + " role: no " + string(a) + " privilege on " + typ}
}
