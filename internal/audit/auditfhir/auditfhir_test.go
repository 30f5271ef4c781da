package auditfhir_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/auditfhir"
	"github.com/wardhealth/ward/internal/fhir"
)

// Every kind of event ward records becomes an AuditEvent that the strict
// R4 parser accepts, with the fields an auditor filters on.
func TestAuditEventsAreValidR4(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 2, 11, 123e6, time.UTC)
	cases := []struct {
		name string
		e    audit.Event
		want []string // substrings of the JSON
	}{
		{"read", audit.Event{Time: at, Tenant: "t1", ActorID: "c-1", ActorKind: "client", Role: "service", Action: "R", Subtype: "read",
			EntityType: "Observation", EntityID: "o-1", Version: 3, Outcome: 200, SourceIP: "10.0.0.4", EntryPoint: "api", RequestID: "r1"},
			[]string{`"code":"rest"`, `"system":"http://hl7.org/fhir/restful-interaction","code":"read"`, `"reference":"Observation/o-1/_history/3"`,
				`"outcome":"0"`, `"address":"10.0.0.4","type":"2"`, `"recorded":"2026-11-23T10:02:11.123Z"`, `"value":"c-1"`}},
		{"read for a patient, with session and purpose", audit.Event{Time: at, ActorID: "c-1", Action: "R", Subtype: "read", EntityType: "Observation", EntityID: "o-1",
			PatientID: "p-7", SessionID: "0123456789abcdef", Purpose: "TREAT", Outcome: 200},
			[]string{`"reference":"Patient/p-7"`, `"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1"`,
				`"purposeOfEvent":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]`,
				`"valueString":"0123456789abcdef"`}},
		{"search with names only", audit.Event{Time: at, ActorID: "c-1", Action: "R", Subtype: "search-type", EntityType: "Patient", Query: "family,gender", Outcome: 200},
			[]string{`"code":"search-type"`, `"query":"ZmFtaWx5LGdlbmRlcg=="`}},
		{"failed create", audit.Event{Time: at, ActorID: "c-1", Action: "C", Subtype: "create", EntityType: "Patient", Outcome: 400},
			[]string{`"outcome":"4"`, `"outcomeDesc":"HTTP 400"`}},
		{"authentication failure", audit.Event{Time: at, Action: "E", Subtype: "authenticate", Outcome: 401},
			[]string{`"code":"110100"`, `"code":"authenticate"`, `"outcome":"4"`}},
		{"operator creates a client", audit.Event{Time: at, ActorID: "os:root", ActorKind: "operator", Action: "E", Subtype: "client-create",
			EntityType: "Client", EntityID: "c-9", Outcome: 201, EntryPoint: "cli"},
			[]string{`"value":"Client/c-9"`, `"display":"ward (cli)"`}},
		{"server error", audit.Event{Time: at, ActorID: "c-1", Action: "U", Subtype: "update", EntityType: "Patient", EntityID: "p-1", Outcome: 503},
			[]string{`"outcome":"8"`}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := auditfhir.AuditEvent(uint64(i), c.e, fhir.IsResourceType)
			if err != nil {
				t.Fatal(err)
			}
			r, err := fhir.Parse(b)
			if err != nil {
				t.Fatalf("not valid R4: %v\n%s", err, b)
			}
			if r.Type() != "AuditEvent" || !json.Valid(b) {
				t.Fatalf("type %s", r.Type())
			}
			for _, w := range c.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("lacks %s:\n%s", w, b)
				}
			}
		})
	}
}
