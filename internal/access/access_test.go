package access

import "testing"

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
		{"lab technician cannot read a patient", lab, Read, Resource{Tenant: "t1", Type: "Patient"}, false},
		{"lab technician cannot update a condition", lab, Update, Resource{Tenant: "t1", Type: "Condition"}, false},
		{"lab technician cannot sign", lab, Sign, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"front desk books appointments", desk, Create, Resource{Tenant: "t1", Type: "Appointment"}, true},
		{"front desk cannot read results", desk, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"billing reads claims", bill, Read, Resource{Tenant: "t1", Type: "Claim"}, true},
		{"billing cannot read observations", bill, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"tenant admin sees no clinical content", Subject{ID: "u-5", Role: "tenant-admin", Tenant: "t1"}, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
		{"super-admin sees no clinical content", Subject{ID: "u-6", Role: "super-admin", Tenant: "t1"}, Read, Resource{Tenant: "t1", Type: "Patient"}, false},
		{"patient has no privileges yet", Subject{ID: "u-7", Role: "patient", Tenant: "t1"}, Read, Resource{Tenant: "t1", Type: "Observation"}, false},
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
