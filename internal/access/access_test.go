package access

import "testing"

func TestDecide(t *testing.T) {
	svc := Subject{ID: "c-1", Role: "service", Tenant: "t1"}
	aud := Subject{ID: "c-3", Role: "auditor", Tenant: "t1"}
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
