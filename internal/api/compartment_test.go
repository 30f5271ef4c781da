package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/identity"
)

// TestPatientCompartments: clinical staff see a patient's records only
// when the patient is in their care, a patient only their own; unrelated
// records are answered as absent, search results and totals filtered.
func TestPatientCompartments(t *testing.T) {
	h := apitest.New(t)
	create := func(body map[string]any) string { t.Helper(); return createResource(t, h, body) }
	ref := reference
	doc := create(map[string]any{"resourceType": "Practitioner", "name": []any{map[string]any{"family": "Osei"}}})
	p1 := create(map[string]any{"resourceType": "Patient", "gender": "female"})
	p2 := create(map[string]any{"resourceType": "Patient", "gender": "male"})
	obs := func(p string) string {
		return create(map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "pulse"}, "subject": ref("Patient", p),
			"valueQuantity": map[string]any{"value": 72, "unit": "/min"}})
	}
	o1, o2 := obs(p1), obs(p2)
	create(map[string]any{"resourceType": "CareTeam", "status": "active", "subject": ref("Patient", p1),
		"participant": []any{map[string]any{"member": ref("Practitioner", doc)}}})

	person := func(username, role, fhirUser string) string {
		t.Helper()
		_, tok, _ := signedInPerson(t, h, identity.NewPerson{Username: username, Role: role}, fhirUser)
		return tok
	}
	physician := person("dr.osei", identity.RolePhysician, "Practitioner/"+doc)
	unlinked := person("dr.new", identity.RolePhysician, "")
	patient := person("pat.one", identity.RolePatient, "Patient/"+p1)
	lab := person("lab.tech", identity.RoleLabTechnician, "")
	h.DrainEvents()

	status := func(tok, method, path string, body any, want int) *apitest.Response {
		t.Helper()
		r := call(h, method, path, tok, body)
		if r.StatusCode != want {
			t.Errorf("%s %s: %d, want %d: %s", method, path, r.StatusCode, want, r.Body)
		}
		return r
	}
	// The physician's patient yes, the other no (404, audited), for reads
	// and writes alike.
	status(physician, "GET", "/fhir/R4/Observation/"+o1, nil, 200)
	status(physician, "GET", "/fhir/R4/Observation/"+o2, nil, 404)
	h.CheckEvents(t, []apitest.Event{{Subtype: "read", EntityType: "Observation", Outcome: 200}, {Subtype: "read", EntityType: "Observation", EntityID: o2, Outcome: 404}})
	status(physician, "GET", "/fhir/R4/Observation/"+o2+"/_history/1", nil, 404)
	status(physician, "GET", "/fhir/R4/Patient/"+p2, nil, 404)
	status(physician, "PUT", "/fhir/R4/Observation/"+o2, map[string]any{"resourceType": "Observation", "id": o2, "status": "amended", "code": map[string]any{"text": "pulse"}, "subject": ref("Patient", p2)}, 404)
	status(physician, "POST", "/fhir/R4/Observation", map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"}, "subject": ref("Patient", p2)}, 403)
	// Moving a record of their patient to another patient is refused too.
	status(physician, "PUT", "/fhir/R4/Observation/"+o1, map[string]any{"resourceType": "Observation", "id": o1, "status": "final", "code": map[string]any{"text": "pulse"}, "subject": ref("Patient", p2)}, 403)
	// Searches show only the physician's patients, and count only them.
	r := status(physician, "GET", "/fhir/R4/Observation?_total=accurate", nil, 200)
	if !strings.Contains(string(r.Body), o1) || strings.Contains(string(r.Body), o2) || !strings.Contains(string(r.Body), `"total":1`) {
		t.Errorf("physician's search: %s", r.Body)
	}
	r = status(physician, "GET", "/fhir/R4/Patient", nil, 200)
	if !strings.Contains(string(r.Body), p1) || strings.Contains(string(r.Body), p2) {
		t.Errorf("physician's patient search: %s", r.Body)
	}
	r = status(physician, "GET", "/fhir/R4/Observation/_history", nil, 200)
	if strings.Contains(string(r.Body), o2) {
		t.Errorf("physician's history shows another patient's record: %s", r.Body)
	}
	// Bundles decide entry by entry: a batch reads the physician's patient
	// and not the other; a transaction writing for the other is refused.
	get := func(id string) map[string]any {
		return map[string]any{"request": map[string]any{"method": "GET", "url": "Observation/" + id}}
	}
	r = status(physician, "POST", "/fhir/R4/", map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{get(o1), get(o2)}}, 200)
	if body := string(r.Body); !strings.Contains(body, `"200 OK"`) || !strings.Contains(body, `"404`) || strings.Count(body, `"resourceType":"Observation"`) != 1 {
		t.Errorf("physician's batch: %s", body)
	}
	status(physician, "POST", "/fhir/R4/", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{map[string]any{
		"request":  map[string]any{"method": "POST", "url": "Observation"},
		"resource": map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"}, "subject": ref("Patient", p2)}}}}, 403)
	status(physician, "POST", "/fhir/R4/", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{map[string]any{
		"request":  map[string]any{"method": "PUT", "url": "Observation/" + o2},
		"resource": map[string]any{"resourceType": "Observation", "id": o2, "status": "final", "code": map[string]any{"text": "x"}, "subject": ref("Patient", p1)}}}}, 404)
	// A physician not linked to a Practitioner sees no patient's records.
	status(unlinked, "GET", "/fhir/R4/Observation/"+o1, nil, 404)

	// An Encounter makes the second patient theirs, at the next request.
	create(map[string]any{"resourceType": "Encounter", "status": "finished", "class": map[string]any{"code": "AMB"},
		"subject": ref("Patient", p2), "participant": []any{map[string]any{"individual": ref("Practitioner", doc)}}})
	status(physician, "GET", "/fhir/R4/Observation/"+o2, nil, 200)

	// A patient sees their own record only.
	status(patient, "GET", "/fhir/R4/Observation/"+o1, nil, 200)
	status(patient, "GET", "/fhir/R4/Observation/"+o2, nil, 404)
	status(patient, "GET", "/fhir/R4/Patient/"+p1, nil, 200)
	status(patient, "GET", "/fhir/R4/Practitioner/"+doc, nil, 200)
	r = status(patient, "GET", "/fhir/R4/Observation", nil, 200)
	if !strings.Contains(string(r.Body), o1) || strings.Contains(string(r.Body), o2) {
		t.Errorf("patient's search: %s", r.Body)
	}
	status(patient, "POST", "/fhir/R4/Observation", map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"}, "subject": ref("Patient", p1)}, 403)

	// A personal representative, once staff linked their account to the
	// patient's RelatedPerson, sees that patient's record only.
	verified := map[string]any{"tag": []any{map[string]any{"system": "urn:ward:access", "code": "verified-representative"}}}
	rp := create(map[string]any{"resourceType": "RelatedPerson", "active": true, "patient": ref("Patient", p1), "meta": verified})
	representative := person("mother.one", identity.RolePersonalRepresentative, "RelatedPerson/"+rp)
	status(representative, "GET", "/fhir/R4/Observation/"+o1, nil, 200)
	status(representative, "GET", "/fhir/R4/Observation/"+o2, nil, 404)
	status(representative, "POST", "/fhir/R4/Observation", map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"}, "subject": ref("Patient", p1)}, 403)
	// Family and friends (not marked verified) only through the patient's
	// Consent.
	friend := create(map[string]any{"resourceType": "RelatedPerson", "active": true, "patient": ref("Patient", p1)})
	family := person("friend.one", identity.RolePersonalRepresentative, "RelatedPerson/"+friend)
	status(family, "GET", "/fhir/R4/Observation/"+o1, nil, 404)
	create(map[string]any{"resourceType": "Consent", "status": "active",
		"scope":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
		"category":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
		"patient":    ref("Patient", p1),
		"policyRule": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}}},
		"provision": map[string]any{"type": "permit", "actor": []any{map[string]any{
			"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "FRND"}}},
			"reference": ref("RelatedPerson", friend)}}}})
	status(family, "GET", "/fhir/R4/Observation/"+o1, nil, 200)
	status(family, "GET", "/fhir/R4/Observation/"+o2, nil, 404)

	// A lab technician has an organisation-wide grant: any patient's
	// results, within their privileges.
	status(lab, "GET", "/fhir/R4/Observation/"+o2, nil, 200)
	status(lab, "PUT", "/fhir/R4/Patient/"+p2, map[string]any{"resourceType": "Patient", "id": p2}, 403)

	// Minimum necessary: billing reads observations without their values,
	// labelled MASKED; a physician sees the value.
	billing := person("billing.clerk", identity.RoleBilling, "")
	r = status(billing, "GET", "/fhir/R4/Observation/"+o2, nil, 200)
	if strings.Contains(string(r.Body), "valueQuantity") || !strings.Contains(string(r.Body), `"MASKED"`) {
		t.Errorf("billing's observation: %s", r.Body)
	}
	r = status(billing, "GET", "/fhir/R4/Observation?_id="+o2, nil, 200)
	if strings.Contains(string(r.Body), "valueQuantity") {
		t.Errorf("billing's search shows a value: %s", r.Body)
	}
	if r = status(physician, "GET", "/fhir/R4/Observation/"+o2, nil, 200); !strings.Contains(string(r.Body), "valueQuantity") {
		t.Errorf("physician's observation lacks its value: %s", r.Body)
	}
}

// TestConsentEnforced: a patient's active Consent denying one practitioner
// hides the patient's records from them at the next request, and
// withdrawing it restores access; a denial by security label hides only
// the labelled records.
func TestConsentEnforced(t *testing.T) {
	h := apitest.New(t)
	ctx := context.Background()
	svc := h.Token
	create := func(body map[string]any) string { t.Helper(); return createResource(t, h, body) }
	ref := reference
	doc := create(map[string]any{"resourceType": "Practitioner"})
	pid := create(map[string]any{"resourceType": "Patient", "generalPractitioner": []any{ref("Practitioner", doc)}})
	plain := create(map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "pulse"}, "subject": ref("Patient", pid)})
	psy := create(map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "mood"}, "subject": ref("Patient", pid),
		"meta": map[string]any{"security": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}}}})
	_, physician, _ := signedInPerson(t, h, identity.NewPerson{Username: "dr.gp", Role: identity.RolePhysician}, "Practitioner/"+doc)
	get := func(id string, want int) {
		t.Helper()
		if r := call(h, "GET", "/fhir/R4/Observation/"+id, physician, nil); r.StatusCode != want {
			t.Errorf("GET Observation/%s: %d, want %d: %s", id, r.StatusCode, want, r.Body)
		}
	}
	get(plain, 200)
	get(psy, 200)
	// A psychotherapy note needs the sensitive privilege (physicians by
	// default): a nurse in the same patient's care does not see it.
	n, _, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "rn.gp", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	nursePr := create(map[string]any{"resourceType": "Practitioner"})
	create(map[string]any{"resourceType": "CareTeam", "subject": ref("Patient", pid), "participant": []any{map[string]any{"member": ref("Practitioner", nursePr)}}})
	if _, err := h.App.Identity.LinkFHIR(ctx, identity.Actor{Operator: true}, n.ID, "Practitioner/"+doc); !errors.Is(err, identity.ErrFHIRUserTaken) {
		t.Errorf("two accounts for one practitioner: %v", err)
	}
	if _, err := h.App.Identity.LinkFHIR(ctx, identity.Actor{Operator: true}, n.ID, "Practitioner/"+nursePr); err != nil {
		t.Fatal(err)
	}
	ntok, _, err := h.App.Identity.StartSession(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if r := call(h, "GET", "/fhir/R4/Observation/"+psy, ntok.Reveal(), nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("a nurse reads a psychotherapy note: %d", r.StatusCode)
	}
	if r := call(h, "GET", "/fhir/R4/Observation/"+plain, ntok.Reveal(), nil); r.StatusCode != http.StatusOK {
		t.Errorf("the nurse's ordinary read: %d", r.StatusCode)
	}
	consent := func(status string, deny map[string]any) map[string]any {
		return map[string]any{"resourceType": "Consent", "status": status,
			"scope":    map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
			"category": []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
			"patient":  ref("Patient", pid), "policyRule": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}}},
			"provision": map[string]any{"type": "permit", "provision": []any{deny}}}
	}
	byActor := map[string]any{"type": "deny", "actor": []any{map[string]any{
		"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}}},
		"reference": ref("Practitioner", doc)}}}
	cid := create(consent("active", byActor))
	get(plain, 404)
	r := call(h, "GET", "/fhir/R4/Observation?subject=Patient/"+pid, physician, nil)
	if strings.Contains(string(r.Body), plain) {
		t.Errorf("search shows a record the Consent denies: %s", r.Body)
	}
	// Withdrawn: access again at the next request.
	withdrawn := consent("inactive", byActor)
	withdrawn["id"] = cid
	if r := call(h, "PUT", "/fhir/R4/Consent/"+cid, svc, withdrawn); r.StatusCode != http.StatusOK {
		t.Fatalf("withdraw: %d %s", r.StatusCode, r.Body)
	}
	get(plain, 200)
	// A denial of psychotherapy notes hides only those.
	create(consent("active", map[string]any{"type": "deny", "securityLabel": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}}}))
	get(plain, 200)
	get(psy, 404)
}
