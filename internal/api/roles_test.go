package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/identity"
)

// TestRolesAsData: a tenant admin replaces the nurse role's privileges
// (after a step-up, audited), which takes effect at the nurse's next
// request, and resets them; role changes of accounts follow the admin
// rules and end the account's sessions.
func TestRolesAsData(t *testing.T) {
	h := apitest.New(t)
	mk := func(body map[string]any) string { t.Helper(); return createResource(t, h, body) }
	pr := mk(map[string]any{"resourceType": "Practitioner"})
	pid := mk(map[string]any{"resourceType": "Patient", "generalPractitioner": []any{map[string]any{"reference": "Practitioner/" + pr}}})
	obs := map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "pulse"}, "subject": map[string]any{"reference": "Patient/" + pid}}
	oid := mk(obs)
	account := func(username, role, fhirUser string) (identity.Person, string, string) {
		t.Helper()
		return signedInPerson(t, h, identity.NewPerson{Username: username, Role: role}, fhirUser)
	}
	nurseP, nurse, _ := account("rn.a", identity.RoleNurse, "Practitioner/"+pr)
	_, admin, adminPW := account("admin.a", identity.RoleTenantAdmin, "")
	update := func(want int) {
		t.Helper()
		o := map[string]any{}
		for k, v := range obs {
			o[k] = v
		}
		o["id"] = oid
		if r := call(h, "PUT", "/fhir/R4/Observation/"+oid, nurse, o); r.StatusCode != want {
			t.Errorf("nurse updates: %d, want %d: %s", r.StatusCode, want, r.Body)
		}
	}
	update(200)

	readOnly := map[string]any{"privileges": []any{map[string]any{"resources": []any{"clinical", "demographics"}, "actions": []any{"read", "search"}}}}
	if r := call(h, "PUT", "/admin/roles/nurse", admin, readOnly); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("without step-up: %d", r.StatusCode)
	}
	if r := call(h, "PUT", "/admin/roles/nurse", nurse, readOnly); r.StatusCode != http.StatusForbidden {
		t.Errorf("a nurse edits roles: %d", r.StatusCode)
	}
	if r := call(h, "POST", "/auth/step-up", admin, map[string]string{"password": adminPW}); r.StatusCode != http.StatusOK {
		t.Fatalf("step-up: %d", r.StatusCode)
	}
	for _, bad := range []struct {
		path string
		body any
	}{
		{"/admin/roles/patient", readOnly},
		{"/admin/roles/nurse", map[string]any{"privileges": []any{map[string]any{"resources": []any{"Wizardry"}, "actions": []any{"read"}}}}},
		{"/admin/roles/nurse", map[string]any{"privileges": []any{map[string]any{"resources": []any{"clinical"}, "actions": []any{"read-audit"}}}}},
	} {
		if r := call(h, "PUT", bad.path, admin, bad.body); r.StatusCode != http.StatusBadRequest {
			t.Errorf("PUT %s %v: %d", bad.path, bad.body, r.StatusCode)
		}
	}
	h.DrainEvents()
	if r := call(h, "PUT", "/admin/roles/nurse", admin, readOnly); r.StatusCode != http.StatusOK {
		t.Fatalf("edit the nurse role: %d %s", r.StatusCode, r.Body)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "U", Subtype: "role-change", EntityType: "Role", EntityID: "nurse", Outcome: 200}})
	update(403)
	if r := call(h, "GET", "/fhir/R4/Observation/"+oid, nurse, nil); r.StatusCode != http.StatusOK {
		t.Errorf("a read-only nurse reads: %d", r.StatusCode)
	}
	if r := call(h, "GET", "/admin/roles", admin, nil); r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), `"custom":true`) {
		t.Errorf("roles: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "DELETE", "/admin/roles/nurse", admin, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d %s", r.StatusCode, r.Body)
	}
	update(200)

	// Role changes: a tenant admin may move a nurse to physician (the
	// nurse's sessions end), not promote anyone to an admin role.
	if r := call(h, "PUT", "/admin/users/"+nurseP.ID+"/role", admin, map[string]string{"role": "tenant-admin"}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a tenant admin promotes to admin: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "PUT", "/admin/users/"+nurseP.ID+"/role", admin, map[string]string{"role": "physician"}); r.StatusCode != http.StatusOK {
		t.Fatalf("nurse to physician: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/fhir/R4/Observation/"+oid, nurse, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old session after a role change: %d", r.StatusCode)
	}
	if r := call(h, "PUT", "/admin/users/"+nurseP.ID+"/role", admin, map[string]string{"role": "patient"}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a practitioner-linked account made a patient: %d %s", r.StatusCode, r.Body)
	}
}
