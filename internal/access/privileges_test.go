package access

import (
	"strings"
	"testing"
)

func isType(s string) bool { return s == "Observation" || s == "Patient" || s == "Condition" }

func TestPrivilegesAsData(t *testing.T) {
	for _, bad := range []struct {
		role string
		ps   []Privilege
		want string
	}{
		{"patient", nil, "fixed"},
		{"tenant-admin", nil, "fixed"},
		{"nurse", []Privilege{{Resources: []string{"clinical"}}}, "name resources and actions"},
		{"nurse", []Privilege{{Resources: []string{"Wizardry"}, Actions: []string{"read"}}}, "neither a group"},
		{"nurse", []Privilege{{Resources: []string{"clinical"}, Actions: []string{"teleport"}}}, "unknown action"},
		{"nurse", []Privilege{{Resources: []string{"clinical"}, Actions: []string{"read-audit"}}}, "unknown action"},
	} {
		if _, err := CompilePrivileges(bad.role, bad.ps, isType); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %+v: %v, want %q", bad.role, bad.ps, err, bad.want)
		}
	}
	// The built-in privileges, as data, compile back to the same decisions.
	for _, role := range EditableRoles() {
		g, err := CompilePrivileges(role, BuiltinPrivileges(role), func(string) bool { return true })
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		for _, a := range []Action{Read, Search, Create, Update, Delete, Sign} {
			for _, typ := range []string{"Observation", "Patient", "Appointment", "Claim"} {
				s := Subject{ID: "u", Role: role, Tenant: "t"}
				want := Decide(s, a, Resource{Tenant: "t", Type: typ}).Allow
				s.Privileges = g
				if got := Decide(s, a, Resource{Tenant: "t", Type: typ}).Allow; got != want {
					t.Errorf("%s %s %s: %v as data, %v built in", role, a, typ, got, want)
				}
			}
		}
	}
	// Edited privileges replace the built-in ones; compartments still apply.
	readOnly, err := CompilePrivileges("nurse", []Privilege{{Resources: []string{"clinical"}, Actions: []string{"read", "search"}}}, isType)
	if err != nil {
		t.Fatal(err)
	}
	nurse := Subject{ID: "u", Role: "nurse", Tenant: "t", Privileges: readOnly}
	inCare := Resource{Tenant: "t", Type: "Observation", Patients: []string{"p"}, Relation: Relation{Care: true}}
	if !Decide(nurse, Read, inCare).Allow || Decide(nurse, Update, inCare).Allow {
		t.Error("a read-only nurse")
	}
	if d := Decide(nurse, Read, Resource{Tenant: "t", Type: "Observation", Patients: []string{"p"}}); d.Allow || !d.Hide {
		t.Errorf("edited privileges skip the compartment: %+v", d)
	}
	none, _ := CompilePrivileges("billing", []Privilege{}, isType)
	if Decide(Subject{ID: "u", Role: "billing", Tenant: "t", Privileges: none}, Read, Resource{Tenant: "t", Type: "Claim"}).Allow {
		t.Error("an empty privilege list still grants")
	}
}
