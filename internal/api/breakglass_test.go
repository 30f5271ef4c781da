package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/notify/smtptest"
)

// TestBreakGlassEndToEnd is issue 6's scenario: a physician outside the
// care team gets 404 on a patient's Observation, uses break-glass, gets
// the data; the privacy officer sees the alert and closes the review;
// the audit shows BTG for those reads; an in-process SMTP server
// receives a PHI-free e-mail.
func TestBreakGlassEndToEnd(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	h := apitest.New(t, func(c *config.Config) {
		c.SMTP = config.SMTP{Host: mail.Host, Port: strconv.Itoa(mail.Port), From: "ward@clinic.example", TLS: config.SMTPNoTLS}
	})
	ctx := context.Background()
	create := func(body map[string]any) string { t.Helper(); return createResource(t, h, body) }
	doc := create(map[string]any{"resourceType": "Practitioner"})
	pid := create(map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "Thistlewood", "given": []any{"Margaret"}}}})
	oid := create(map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "potassium"},
		"subject": map[string]any{"reference": "Patient/" + pid}})
	person := func(username, role, email, fhirUser string) (identity.Person, string, string) {
		t.Helper()
		return signedInPerson(t, h, identity.NewPerson{Username: username, Role: role, Email: email}, fhirUser)
	}
	dr, physician, pw := person("dr.er", identity.RolePhysician, "", "Practitioner/"+doc)
	_, officer, _ := person("po.lee", identity.RolePrivacyOfficer, "privacy@clinic.example", "")
	obsPath := "/fhir/R4/Observation/" + oid

	if r := call(h, "GET", obsPath, physician, nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("outside the care team: %d", r.StatusCode)
	}
	reason := "Margaret Thistlewood unconscious in the ED; need her recent labs now"
	req := map[string]any{"patient": pid, "reason": reason, "duration_minutes": 30}
	r := call(h, "POST", "/access/break-glass", physician, req)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_user_authentication") {
		t.Fatalf("break-glass without step-up: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "POST", "/access/break-glass", physician, map[string]any{"patient": pid, "reason": "too short"}); r.StatusCode == http.StatusCreated {
		t.Fatal("a short reason was accepted")
	}
	if r := call(h, "POST", "/auth/step-up", physician, map[string]string{"password": pw}); r.StatusCode != http.StatusOK {
		t.Fatalf("step-up: %d", r.StatusCode)
	}
	if r := call(h, "POST", "/access/break-glass", physician, map[string]any{"patient": pid, "reason": "too short"}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a short reason: %d %s", r.StatusCode, r.Body)
	}
	r = call(h, "POST", "/access/break-glass", physician, req)
	if r.StatusCode != http.StatusCreated || r.JSON(t)["warning"] != nil {
		t.Fatalf("break-glass: %d %s", r.StatusCode, r.Body)
	}
	grant := r.JSON(t)["grant"].(string)
	h.DrainEvents()

	// The data, audited with purpose of use BTG; writes stay refused.
	if r := call(h, "GET", obsPath, physician, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("read by break-glass: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/fhir/R4/Observation?subject=Patient/"+pid, physician, nil); !strings.Contains(string(r.Body), oid) {
		t.Errorf("search by break-glass: %s", r.Body)
	}
	btg := 0
	for _, e := range h.Events() {
		if e.EntityType == "Observation" && e.EntityID == oid {
			if e.Purpose != audit.PurposeBreakGlass {
				t.Errorf("a read by break-glass recorded purpose %q", e.Purpose)
			}
			btg++
		}
	}
	if btg != 2 {
		t.Errorf("%d BTG reads recorded, want 2", btg)
	}
	if r := call(h, "PUT", obsPath, physician, map[string]any{"resourceType": "Observation", "id": oid, "status": "amended", "code": map[string]any{"text": "potassium"},
		"subject": map[string]any{"reference": "Patient/" + pid}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("write by a read-only break-glass: %d", r.StatusCode)
	}

	// The privacy officer sees the alert and the open review.
	if r := call(h, "GET", "/audit/alerts", officer, nil); r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), "break-glass") {
		t.Errorf("alerts: %d %s", r.StatusCode, r.Body)
	}
	r = call(h, "GET", "/access/reviews", officer, nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), grant) {
		t.Fatalf("reviews: %d %s", r.StatusCode, r.Body)
	}
	reviewID := r.JSON(t)["reviews"].([]any)[0].(map[string]any)["id"].(string)
	if r := call(h, "GET", "/access/reviews", physician, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("the physician lists reviews: %d", r.StatusCode)
	}
	if r := call(h, "GET", "/access/reviews/"+reviewID, officer, nil); r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), reason) {
		t.Errorf("case: %d %s", r.StatusCode, r.Body)
	}
	// A review closes once the window is over; the grantee ends it early.
	if r := call(h, "POST", "/access/reviews/"+reviewID+"/close", officer, map[string]string{"disposition": "justified"}); r.StatusCode != http.StatusConflict {
		t.Errorf("close while active: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "DELETE", "/access/break-glass/"+grant, physician, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("end: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", obsPath, physician, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("after the grant ended: %d", r.StatusCode)
	}
	if r := call(h, "POST", "/access/reviews/"+reviewID+"/close", officer, map[string]string{"disposition": "justified", "notes": "confirmed with ED"}); r.StatusCode != http.StatusOK {
		t.Errorf("close: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/access/reviews", officer, nil); strings.Contains(string(r.Body), reviewID) {
		t.Errorf("the closed review is still open: %s", r.Body)
	}

	// One e-mail, to the privacy officer, without PHI.
	msgs := mail.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "privacy@clinic.example" {
		t.Fatalf("mail: %+v", msgs)
	}
	text := string(msgs[0].Data)
	if !strings.Contains(text, "Emergency access was used; review required") || !strings.Contains(text, "/access/reviews/"+reviewID) {
		t.Errorf("mail text: %s", text)
	}
	for _, phi := range []string{"Thistlewood", "Margaret", pid, "dr.er", dr.ID, "unconscious"} {
		if strings.Contains(text, phi) {
			t.Errorf("the e-mail carries %q", phi)
		}
	}
	// The trail names the start, the end and the review, and verifies.
	var subtypes []string
	err := ledger.Trail{R: h.App.DB, L: h.App.Audit}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		if strings.HasPrefix(e.Subtype, "break-glass") {
			subtypes = append(subtypes, e.Subtype)
		}
		if strings.Contains(e.Query+e.EntityID+e.UserAgent, "Thistlewood") {
			t.Errorf("an event carries the patient's name: %+v", e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"break-glass-start", "break-glass-end", "break-glass-review", "break-glass-review-close"} {
		if !strings.Contains(strings.Join(subtypes, ","), want) {
			t.Errorf("no %s event in %v", want, subtypes)
		}
	}
}
