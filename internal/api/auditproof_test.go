package api_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/audit/ledger"
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
