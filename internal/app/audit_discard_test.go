//go:build auditdiscard

package app_test

import (
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/app"
)

// TestAuditDiscard: under the auditdiscard tag the API serves as usual
// and its requests leave nothing in the ledger.
func TestAuditDiscard(t *testing.T) {
	if !app.AuditDiscarded {
		t.Fatal("AuditDiscarded is false under the auditdiscard tag")
	}
	h := apitest.New(t)
	r := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(`{"resourceType":"Patient","gender":"female"}`), nil)
	if r.StatusCode != 201 {
		t.Fatalf("create: status %d: %s", r.StatusCode, r.Body)
	}
	if r := h.Do("GET", "/fhir/R4/Patient/"+r.JSON(t)["id"].(string), nil, nil); r.StatusCode != 200 {
		t.Fatalf("read: status %d", r.StatusCode)
	}
	if got := h.Events(); len(got) != 0 {
		t.Errorf("the ledger holds %d events from the API, want none", len(got))
	}
}
