package api_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/fhir"
)

// checkpointOf fetches GET /audit/checkpoint and parses its note body.
func checkpointOf(t *testing.T, h *apitest.Harness) ledger.Checkpoint {
	t.Helper()
	if _, err := h.App.Audit.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/checkpoint", Status: 200,
		Events: []apitest.Event{{Action: "R", Subtype: "audit-checkpoint", Outcome: 200}}})
	var body struct{ Checkpoint string }
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	text, _, ok := strings.Cut(body.Checkpoint, "\n\n")
	if !ok {
		t.Fatalf("not a signed note: %q", body.Checkpoint)
	}
	cp, err := ledger.ParseCheckpoint([]byte(text + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestAuditProofs: the inclusion proof of an event and the consistency
// proof between two checkpoints, served over HTTP, verify against the
// signed checkpoints' root hashes.
func TestAuditProofs(t *testing.T) {
	h := apitest.New(t)
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: 201, AnyEvents: true})
	cp1 := checkpointOf(t, h)
	for range 5 {
		h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: 201, AnyEvents: true})
	}
	cp2 := checkpointOf(t, h)
	if cp2.Size <= cp1.Size {
		t.Fatalf("checkpoint sizes %d then %d", cp1.Size, cp2.Size)
	}

	var inc struct {
		Index    uint64 `json:"index"`
		TreeSize uint64 `json:"tree_size"`
		LeafHash []byte `json:"leaf_hash"`
		Proof    [][]byte
	}
	r := h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/proof/inclusion?index=" + strconv.FormatUint(cp1.Size-1, 10),
		Status: 200, Events: []apitest.Event{{Action: "R", Subtype: "audit-proof", Outcome: 200}}})
	if err := json.Unmarshal(r.Body, &inc); err != nil {
		t.Fatal(err)
	}
	if inc.TreeSize != cp2.Size {
		t.Fatalf("proof for tree size %d, want the latest checkpoint's %d", inc.TreeSize, cp2.Size)
	}
	if err := ledger.VerifyInclusion(inc.Index, inc.TreeSize, inc.LeafHash, inc.Proof, cp2.Hash); err != nil {
		t.Fatalf("inclusion proof does not verify: %v", err)
	}
	forged := bytes.Clone(inc.LeafHash)
	forged[0] ^= 1
	if ledger.VerifyInclusion(inc.Index, inc.TreeSize, forged, inc.Proof, cp2.Hash) == nil {
		t.Fatal("an altered leaf hash verifies")
	}

	var cons struct {
		From, To uint64
		Proof    [][]byte
	}
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/proof/consistency?from=" + strconv.FormatUint(cp1.Size, 10) + "&to=" + strconv.FormatUint(cp2.Size, 10),
		Status: 200, AnyEvents: true})
	if err := json.Unmarshal(r.Body, &cons); err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyConsistency(cp1.Size, cp2.Size, cons.Proof, cp1.Hash, cp2.Hash); err != nil {
		t.Fatalf("consistency proof does not verify: %v", err)
	}

	for _, bad := range []string{"/audit/proof/inclusion?index=x", "/audit/proof/inclusion?index=99999", "/audit/proof/consistency?from=0",
		"/audit/proof/consistency?from=2&to=1", "/audit/proof/inclusion?index=0&size=99999999", "/audit/proof/inclusion?index=0&bogus=1"} {
		h.Run(t, apitest.Scenario{Name: bad, Method: "GET", Path: bad, Status: 400, AnyEvents: true})
	}
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/checkpoint", NoToken: true, Status: 401, AnyEvents: true})
}

// TestAuditEventsEndpoint: the auditor role reads its tenant's trail,
// filtered and paged, as JSON or R4 AuditEvents; reading is audited; the
// auditor sees no clinical data and the service role no trail.
func TestAuditEventsEndpoint(t *testing.T) {
	h := apitest.New(t)
	r := h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: 201, AnyEvents: true})
	pid := r.JSON(t)["id"].(string)
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + pid, Status: 200, AnyEvents: true})
	otherID, otherSecret := h.CreateClient("other", "service")
	h.Do("POST", "/fhir/R4/Patient", strings.NewReader(patient), map[string]string{"Authorization": "Bearer " + h.IssueToken(otherID, otherSecret)})

	audID, audSecret := h.CreateClient("default", "auditor")
	aud := h.IssueToken(audID, audSecret)
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/events?entity=Patient/" + pid, Token: aud, Status: 200,
		Events: []apitest.Event{{Action: "R", Subtype: "audit-read", Outcome: 200}}})
	var page struct {
		Events []struct {
			Index      uint64 `json:"index"`
			Action     string `json:"action"`
			Subtype    string `json:"subtype"`
			Tenant     string `json:"tenant"`
			EntityID   string `json:"entity_id"`
			EntityType string `json:"entity_type"`
		}
		Next string
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Events {
		if e.Tenant != "default" || e.EntityID != pid {
			t.Errorf("event of another tenant or entity: %+v", e)
		}
		got = append(got, e.Action+" "+e.Subtype)
	}
	if strings.Join(got, ",") != "C create,R read" {
		t.Fatalf("events for the patient: %q, want the create and the read", got)
	}
	if bytes.Contains(r.Body, []byte("Testfamily")) {
		t.Fatal("the trail carries PHI")
	}

	// Paging: one event per page, following next.
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/events?entity=Patient/" + pid + "&_count=1", Token: aud, Status: 200, AnyEvents: true})
	page.Next = ""
	json.Unmarshal(r.Body, &page)
	if len(page.Events) != 1 || page.Next == "" {
		t.Fatalf("first page: %d events, next %q", len(page.Events), page.Next)
	}
	next := page.Next[strings.Index(page.Next, "/audit/"):]
	page.Next = ""
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: next, Token: aud, Status: 200, AnyEvents: true})
	json.Unmarshal(r.Body, &page)
	if len(page.Events) != 1 || page.Events[0].Action != "R" || page.Next != "" {
		t.Fatalf("second page: %+v", page)
	}

	// As R4 AuditEvent resources, each valid.
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/events?entity=Patient/" + pid + "&_format=fhir", Token: aud, Status: 200, AnyEvents: true})
	var b struct {
		Type  string
		Entry []struct{ Resource json.RawMessage }
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.Type != "searchset" || len(b.Entry) != 2 {
		t.Fatalf("FHIR page: %v %s", err, r.Body)
	}
	for _, e := range b.Entry {
		if res, err := fhir.Parse(e.Resource); err != nil || res.Type() != "AuditEvent" {
			t.Fatalf("not a valid AuditEvent (%v): %s", err, e.Resource)
		}
	}

	for _, bad := range []string{"outcome=abc", "outcome=42", "from=yesterday", "to=2026-13-01", "_count=0", "_count=1001", "_cursor=-1", "bogus=1"} {
		h.Run(t, apitest.Scenario{Name: bad, Method: "GET", Path: "/audit/events?" + bad, Token: aud, Status: 400, AnyEvents: true})
	}
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/events", Status: 403, AnyEvents: true}) // service role
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + pid, Token: aud, Status: 403,
		Excludes: []string{"Testfamily"}, AnyEvents: true})
}

// TestEventsNamePatientSessionPurpose: every access to a patient's record
// names the patient (reads, searches, writes, deletes, history), the
// token's session and the declared purpose of use; /audit/events filters
// by patient.
func TestEventsNamePatientSessionPurpose(t *testing.T) {
	h := apitest.New(t)
	r := h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: 201, AnyEvents: true})
	pid := r.JSON(t)["id"].(string)
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/` + pid + `"}}`
	r = h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Observation", Body: obs, Status: 201,
		Header: map[string]string{"X-Purpose-Of-Use": "TREAT"},
		Events: []apitest.Event{{Action: "C", EntityType: "Observation", Patient: pid}}})
	oid := r.JSON(t)["id"].(string)
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation/" + oid, Status: 200,
		Events: []apitest.Event{{Action: "R", Subtype: "read", Patient: pid}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation/" + oid + "/_history/1", Status: 200,
		Events: []apitest.Event{{Action: "R", Subtype: "vread", Patient: pid}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation?subject=Patient/" + pid + "&_include=Observation:subject", Status: 200,
		Events: []apitest.Event{{Action: "R", EntityType: "Observation", Patient: pid}, {Action: "R", EntityType: "Patient", Patient: pid}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation/" + oid + "/_history", Status: 200,
		Events: []apitest.Event{{Action: "R", Patient: pid}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation/nope", Status: 404,
		Events: []apitest.Event{{Action: "R", Patient: "-", Outcome: 404}}})
	h.Run(t, apitest.Scenario{Method: "DELETE", Path: "/fhir/R4/Observation/" + oid, Status: 204,
		Events: []apitest.Event{{Action: "D", Patient: pid}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + pid,
		Header: map[string]string{"X-Purpose-Of-Use": "not-a-purpose"}, Status: 400, Excludes: []string{"not-a-purpose"},
		Events: []apitest.Event{{Outcome: 400, Patient: pid}}})

	audID, audSecret := h.CreateClient("default", "auditor")
	aud := h.IssueToken(audID, audSecret)
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/events?patient=" + pid, Token: aud, Status: 200, AnyEvents: true})
	var page struct {
		Events []struct {
			Patient string `json:"patient"`
			Session string `json:"session"`
			Purpose string `json:"purpose"`
		}
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatal(err)
	}
	var purposes, sessions int
	for _, e := range page.Events {
		if e.Patient != pid {
			t.Errorf("event for another patient: %+v", e)
		}
		if e.Purpose == "TREAT" {
			purposes++
		}
		if len(e.Session) == 16 {
			sessions++
		}
	}
	// create Patient, create Observation, read, vread, search (2), history, delete, refused read
	if len(page.Events) != 9 || purposes != 1 || sessions != 9 {
		t.Fatalf("patient filter: %d events (want 9), %d with purpose TREAT (want 1), %d with a session id: %s", len(page.Events), purposes, sessions, r.Body)
	}
}

// TestProofOfPrunedEvent: once old events are archived and pruned, their
// inclusion proof is 410 Gone, not an internal error.
func TestProofOfPrunedEvent(t *testing.T) {
	h := apitest.New(t)
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: 201, AnyEvents: true})
	checkpointOf(t, h)
	signer, verifier, err := ledger.LoadKeyFile(h.Cfg.AuditKey)
	if err != nil {
		t.Fatal(err)
	}
	// A clock seven years ahead puts every event past the retention.
	later := func() time.Time { return time.Now().Add(7 * 366 * 24 * time.Hour) }
	const retention = 6 * 366 * 24 * time.Hour
	var arch bytes.Buffer
	info, err := ledger.WriteArchive(t.Context(), h.App.DB, signer, verifier, &arch, ledger.ArchiveOptions{Retention: retention, Now: later})
	if err != nil || info.To == 0 {
		t.Fatalf("archive: %+v %v", info, err)
	}
	if _, err := ledger.Prune(t.Context(), h.App.DB, verifier, &arch, ledger.PruneOptions{Retention: retention, Now: later}); err != nil {
		t.Fatal(err)
	}
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/proof/inclusion?index=0", Status: 410, Contains: []string{"archived and pruned"},
		Events: []apitest.Event{{Action: "R", Subtype: "audit-proof", Outcome: 410}}})
}
