package access

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	svc := Subject{ID: "c-1", Role: "service", Tenant: "t1"}
	aud := Subject{ID: "c-3", Role: "auditor", Tenant: "t1"}
	doc := Subject{ID: "u-1", Role: "physician", Tenant: "t1"}
	lab := Subject{ID: "u-2", Role: "lab-technician", Tenant: "t1"}
	desk := Subject{ID: "u-3", Role: "front-desk", Tenant: "t1"}
	bill := Subject{ID: "u-4", Role: "billing", Tenant: "t1"}
	cases := []struct {
		name  string
		s     Subject
		a     Action
		r     Resource
		allow bool
	}{
		{"service reads own tenant", svc, Read, Resource{Tenant: "t1", Type: "Patient"}, true},
		{"service writes own tenant", svc, Create, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"service deletes own tenant", svc, Delete, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"service history own tenant", svc, History, Resource{Tenant: "t1"}, true},
		{"other tenant denied", svc, Read, Resource{Tenant: "t2", Type: "Patient"}, false},
		{"unknown action denied", svc, Action("export"), Resource{Tenant: "t1"}, false},
		{"unknown role denied", Subject{ID: "c-2", Role: "guest", Tenant: "t1"}, Read, Resource{Tenant: "t1"}, false},
		{"no id denied", Subject{Role: "service", Tenant: "t1"}, Read, Resource{Tenant: "t1"}, false},
		{"no tenant denied", Subject{ID: "c-1", Role: "service"}, Read, Resource{}, false},
		{"service verifies the ledger", svc, VerifyAudit, Resource{Tenant: "t1"}, true},
		{"service cannot read the audit trail", svc, ReadAudit, Resource{Tenant: "t1"}, false},
		{"auditor reads the audit trail", aud, ReadAudit, Resource{Tenant: "t1"}, true},
		{"auditor verifies the ledger", aud, VerifyAudit, Resource{Tenant: "t1"}, true},
		{"auditor cannot read clinical data", aud, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"auditor cannot search clinical data", aud, Search, Resource{Tenant: "t1", Type: "Patient"}, false},
		{"auditor of another tenant denied", aud, ReadAudit, Resource{Tenant: "t2"}, false},
		{"privacy officer reads the audit trail", Subject{ID: "c-4", Role: "privacy-officer", Tenant: "t1"}, ReadAudit, Resource{Tenant: "t1"}, true},
		{"privacy officer cannot read clinical data", Subject{ID: "c-4", Role: "privacy-officer", Tenant: "t1"}, Read, Resource{Tenant: "t1", Type: "Patient"}, false},
		// People's workforce roles (the seed example).
		{"physician creates an observation", doc, Create, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"physician reads a patient", doc, Read, Resource{Tenant: "t1", Type: "Patient"}, true},
		{"physician updates a condition", doc, Update, Resource{Tenant: "t1", Type: "Condition"}, true},
		{"physician signs an observation", doc, Sign, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"physician cannot delete", doc, Delete, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"physician of another tenant denied", doc, Read, Resource{Tenant: "t2", Type: "Observation"}, false},
		{"physician cannot search every type", doc, Search, Resource{Tenant: "t1"}, false},
		{"physician cannot read the audit trail", doc, ReadAudit, Resource{Tenant: "t1"}, false},
		{"lab technician updates an observation", lab, Update, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"lab technician reads a diagnostic report", lab, Read, Resource{Tenant: "t1", Type: "DiagnosticReport"}, true},
		{"lab technician cannot create an observation", lab, Create, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"lab technician reads a patient (masked)", lab, Read, Resource{Tenant: "t1", Type: "Patient"}, true},
		{"lab technician cannot update a patient", lab, Update, Resource{Tenant: "t1", Type: "Patient"}, false},
		{"lab technician cannot update a condition", lab, Update, Resource{Tenant: "t1", Type: "Condition"}, false},
		{"lab technician cannot sign", lab, Sign, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"front desk books appointments", desk, Create, Resource{Tenant: "t1", Type: "Appointment"}, true},
		{"front desk cannot read results", desk, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"billing reads claims", bill, Read, Resource{Tenant: "t1", Type: "Claim"}, true},
		{"billing reads observations (masked)", bill, Read, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"billing cannot write observations", bill, Update, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"tenant admin sees no clinical content", Subject{ID: "u-5", Role: "tenant-admin", Tenant: "t1"}, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"super-admin sees no clinical content", Subject{ID: "u-6", Role: "super-admin", Tenant: "t1"}, Read, Resource{Tenant: "t1", Type: "Patient"}, false},
		{"patient may search observations (matches are checked one by one)", Subject{ID: "u-7", Role: "patient", Tenant: "t1"}, Search, Resource{Tenant: "t1", Type: "Observation"}, true},
		{"patient cannot write", Subject{ID: "u-7", Role: "patient", Tenant: "t1"}, Create, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"service cannot sign", svc, Sign, Resource{Tenant: "t1", Type: "Observation"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.s, c.a, c.r)
			if d.Allow != c.allow {
				t.Fatalf("Decide = %+v, want allow=%v", d, c.allow)
			}
			if d.Reason == "" {
				t.Fatal("decision without a reason")
			}
		})
	}
}

// TestDecideCompartments is the access matrix for records in a patient's
// compartment: role × relationship × action → decision, with reasons.
func TestDecideCompartments(t *testing.T) {
	doc := Subject{ID: "u-1", Role: "physician", Tenant: "t1", FHIRUser: "Practitioner/d1"}
	lab := Subject{ID: "u-2", Role: "lab-technician", Tenant: "t1", OrgWide: true}
	pat := Subject{ID: "u-3", Role: "patient", Tenant: "t1", FHIRUser: "Patient/p1"}
	admin := Subject{ID: "u-4", Role: "tenant-admin", Tenant: "t1"}
	rep := Subject{ID: "u-8", Role: "personal-representative", Tenant: "t1", FHIRUser: "RelatedPerson/r1"}
	docS := doc
	docS.Sensitive = true
	labelled := func(r Resource, labels ...string) Resource { r.Labels = labels; return r }
	obs := func(rel Relation, patients ...string) Resource {
		return Resource{Tenant: "t1", Type: "Observation", Patients: patients, Relation: rel}
	}
	cases := []struct {
		name   string
		s      Subject
		a      Action
		r      Resource
		allow  bool
		hide   bool
		btg    bool
		reason string
	}{
		{"physician reads a patient in their care", doc, Read, obs(Relation{Care: true}, "p1"), true, false, false, "in their care"},
		{"physician updates a patient in their care", doc, Update, obs(Relation{Care: true}, "p1"), true, false, false, "in their care"},
		{"physician reads a patient outside their care", doc, Read, obs(Relation{}, "p1"), false, true, false, "not in their care"},
		{"physician writes for a patient outside their care", doc, Create, obs(Relation{}, "p1"), false, true, false, "not in their care"},
		{"physician reads by break-glass", doc, Read, obs(Relation{BreakGlass: true}, "p1"), true, false, true, "break-glass"},
		{"physician cannot write by a read-only break-glass", doc, Update, obs(Relation{BreakGlass: true}, "p1"), false, true, false, "not in their care"},
		{"physician writes by a writable break-glass", doc, Update, obs(Relation{BreakGlass: true, BreakGlassWrite: true}, "p1"), true, false, true, "break-glass"},
		{"care relationship needs no break-glass", doc, Read, obs(Relation{Care: true, BreakGlass: true}, "p1"), true, false, false, "in their care"},
		{"break-glass does not add privileges", doc, Delete, obs(Relation{BreakGlass: true, BreakGlassWrite: true}, "p1"), false, false, false, "no delete privilege"},
		{"break-glass does not cross tenants", doc, Read, Resource{Tenant: "t2", Type: "Observation", Patients: []string{"p1"}, Relation: Relation{BreakGlass: true}}, false, false, false, "another tenant"},
		{"lab technician with an organisation-wide grant", lab, Update, obs(Relation{}, "p1"), true, false, false, "organisation-wide"},
		{"lab technician still cannot create", lab, Create, obs(Relation{}, "p1"), false, false, false, "no create privilege"},
		{"patient reads their own record", pat, Read, obs(Relation{}, "p1"), true, false, false, "their own record"},
		{"patient reads a record also naming them", pat, Read, obs(Relation{}, "p9", "p1"), true, false, false, "their own record"},
		{"patient reads another patient's record", pat, Read, obs(Relation{}, "p2"), false, true, false, "another patient's record"},
		{"patient reads a practitioner", pat, Read, Resource{Tenant: "t1", Type: "Practitioner"}, true, false, false, "read Practitioner"},
		{"patient without a linked record", Subject{ID: "u-5", Role: "patient", Tenant: "t1"}, Read, obs(Relation{}, "p1"), false, true, false, "another patient's record"},
		{"admin sees no patient's record", admin, Read, obs(Relation{Care: true}, "p1"), false, false, false, "no FHIR privileges"},
		{"physician reads a resource in no compartment", doc, Read, Resource{Tenant: "t1", Type: "Practitioner"}, true, false, false, "read Practitioner"},
		{"a Consent denies a physician in their care", doc, Read, obs(Relation{Care: true, Consent: ConsentDecision{Effect: ConsentDeny, Reason: "consent c1: deny"}}, "p1"), false, true, false, "consent c1: deny"},
		{"a Consent denies an organisation-wide role", lab, Read, obs(Relation{Consent: ConsentDecision{Effect: ConsentDeny, Reason: "consent c1: deny"}}, "p1"), false, true, false, "consent c1"},
		{"break-glass overrides a Consent denial", doc, Read, obs(Relation{BreakGlass: true, Consent: ConsentDecision{Effect: ConsentDeny}}, "p1"), true, false, true, "over the patient's Consent"},
		{"a Consent permit does not replace a care relationship", doc, Read, obs(Relation{Consent: ConsentDecision{Effect: ConsentPermit}}, "p1"), false, true, false, "not in their care"},
		{"the patient's own record ignores their Consent", pat, Read, obs(Relation{Consent: ConsentDecision{Effect: ConsentDeny}}, "p1"), true, false, false, "their own record"},
		{"a psychotherapy note hidden from a physician in their care", doc, Read, labelled(obs(Relation{Care: true}, "p1"), "PSYTHPN"), false, true, false, "sensitive privilege"},
		{"a psychotherapy note for a physician with the sensitive privilege", docS, Read, labelled(obs(Relation{Care: true}, "p1"), "PSYTHPN"), true, false, false, "in their care"},
		{"a sensitive privilege needs the relationship too", docS, Read, labelled(obs(Relation{}, "p1"), "HIV"), false, true, false, "not in their care"},
		{"a restricted record by break-glass", doc, Read, labelled(obs(Relation{BreakGlass: true}, "p1"), "R"), true, false, true, "restricted record by emergency access"},
		{"an ordinary label is no restriction", doc, Read, labelled(obs(Relation{Care: true}, "p1"), "N"), true, false, false, "in their care"},
		{"the patient sees their own restricted record", pat, Read, labelled(obs(Relation{}, "p1"), "SUD"), true, false, false, "their own record"},
		{"a representative reads the represented patient's record", rep, Read, obs(Relation{Represents: true}, "p1"), true, false, false, "the patient they represent"},
		{"a representative reads another patient's record", rep, Read, obs(Relation{}, "p2"), false, true, false, "do not represent"},
		{"a representative cannot write", rep, Update, obs(Relation{Represents: true}, "p1"), false, false, false, "no update privilege"},
		{"family without a Consent", rep, Read, obs(Relation{Family: true}, "p1"), false, true, false, "do not represent"},
		{"family with a permitting Consent", rep, Read, obs(Relation{Family: true, Consent: ConsentDecision{Effect: ConsentPermit, Reason: "consent c9: permit"}}, "p1"), true, false, false, "by the patient's Consent"},
		{"a Consent permit does not make a stranger family", rep, Read, obs(Relation{Consent: ConsentDecision{Effect: ConsentPermit}}, "p1"), false, true, false, "do not represent"},
		{"an organisation-wide role without the privilege", lab, Read, labelled(obs(Relation{}, "p1"), "HIV"), false, true, false, "sensitive privilege"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.s, c.a, c.r)
			if d.Allow != c.allow || d.Hide != c.hide || d.BreakGlass != c.btg || !strings.Contains(d.Reason, c.reason) {
				t.Fatalf("Decide = %+v, want allow=%v hide=%v btg=%v reason ~ %q", d, c.allow, c.hide, c.btg, c.reason)
			}
		})
	}
}

// BenchmarkDecide is one record-level decision as a search match of a
// physician in the patient's care costs it (docs/benchmarks.md).
func BenchmarkDecide(b *testing.B) {
	s := Subject{ID: "u-1", Role: "physician", Tenant: "t1", FHIRUser: "Practitioner/d1", Sensitive: true}
	r := Resource{Tenant: "t1", Type: "Observation", Patients: []string{"p1"}, Relation: Relation{Care: true}}
	for b.Loop() {
		if !Decide(s, Read, r).Allow {
			b.Fatal("denied")
		}
	}
}
