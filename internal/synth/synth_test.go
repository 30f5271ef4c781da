package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.sha256")

func newGen(t testing.TB, seed int64, opts Options) *Generator {
	t.Helper()
	g, err := New(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// variants are option sets every structural test runs over.
var variants = []struct {
	name string
	opts Options
}{
	{"default", DefaultOptions()},
	{"patients only", Options{}},
	{"no encounters", Options{Conditions: 3, Observations: 5, MedicationRequests: 2, Notes: 2}},
	{"dense", Options{Encounters: 7, Conditions: 30, Observations: 60, MedicationRequests: 40, Notes: 9, AsOf: time.Date(2031, 2, 28, 15, 0, 0, 0, time.UTC)}},
}

// TestValid parses every generated resource and Bundle with ward's
// strict validator.
func TestValid(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			g := newGen(t, 7, v.opts)
			n := 200
			if v.name == "dense" {
				n = 30
			}
			resources := 0
			for i := range n {
				rec := g.Patient(i)
				rs := rec.Resources()
				if len(rs) != g.ResourcesPerPatient() {
					t.Fatalf("patient %d: %d resources, want %d", i, len(rs), g.ResourcesPerPatient())
				}
				for _, r := range rs {
					res, err := fhir.Parse(r.JSON)
					if err != nil {
						t.Fatalf("patient %d %s: %v\n%s", i, r.Type, err, r.JSON)
					}
					if res.Type() != r.Type || res.ID() != r.ID {
						t.Fatalf("patient %d: parsed %s/%s, want %s/%s", i, res.Type(), res.ID(), r.Type, r.ID)
					}
					resources++
				}
				raw := rec.AppendBundle(nil)
				res, err := fhir.Parse(raw)
				if err != nil {
					t.Fatalf("patient %d Bundle: %v", i, err)
				}
				b, err := res.Bundle()
				if err != nil || b.Type != "transaction" || len(b.Entries) != len(rs) {
					t.Fatalf("patient %d Bundle: %v, type %q, %d entries", i, err, b.Type, len(b.Entries))
				}
				for k, e := range b.Entries {
					if e.Request == nil || e.Request.Method != "POST" || e.Request.URL != rs[k].Type ||
						e.FullURL != "urn:uuid:"+rs[k].ID || e.Resource.Type() != rs[k].Type || e.Resource.ID() != "" {
						t.Fatalf("patient %d entry %d: %+v", i, k, e)
					}
				}
			}
			t.Logf("%d patients, %d resources valid", n, resources)
		})
	}
}

func hashBundles(t *testing.T, g *Generator, n, procs int) string {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	h := sha256.New()
	st, err := g.WriteBundles(context.Background(), h, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	if st.Patients != n || st.Resources != n*g.ResourcesPerPatient() {
		t.Fatalf("stats %+v", st)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashNDJSON(t *testing.T, g *Generator, n, procs int) string {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	h := sha256.New()
	out := map[string]io.Writer{}
	for _, typ := range ResourceTypes() {
		out[typ] = h
	}
	if _, err := g.WriteNDJSON(context.Background(), out, 0, n); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDeterministic checks that the bytes depend on the seed and
// options only: not on GOMAXPROCS, not on the run, and not on the Go
// release or platform (the golden hash).
func TestDeterministic(t *testing.T) {
	const n = 300
	g := newGen(t, 1, DefaultOptions())
	b1, b4 := hashBundles(t, g, n, 1), hashBundles(t, newGen(t, 1, DefaultOptions()), n, 4)
	if b1 != b4 {
		t.Errorf("Bundles differ between GOMAXPROCS 1 and 4: %s, %s", b1, b4)
	}
	n1, n4 := hashNDJSON(t, g, n, 1), hashNDJSON(t, g, n, 4)
	if n1 != n4 {
		t.Errorf("NDJSON differs between GOMAXPROCS 1 and 4: %s, %s", n1, n4)
	}
	if other := hashBundles(t, newGen(t, 2, DefaultOptions()), n, 2); other == b1 {
		t.Error("seeds 1 and 2 give the same Bundles")
	}
	opts := DefaultOptions()
	opts.Observations++
	if other := hashBundles(t, newGen(t, 1, opts), n, 2); other == b1 {
		t.Error("different options give the same Bundles")
	}

	golden := filepath.Join("testdata", "golden.sha256")
	got := "bundles " + b1 + "\nndjson " + n1 + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output of seed 1, %d patients, changed:\n%swant\n%s(run with -update if the change is intended)", n, got, want)
	}
}

// TestPatientIndependence checks that Patient(i) and sub-ranges equal
// the corresponding part of a full run.
func TestPatientIndependence(t *testing.T) {
	g := newGen(t, 42, DefaultOptions())
	var full bytes.Buffer
	if _, err := g.WriteBundles(context.Background(), &full, 0, 100); err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(full.Bytes(), []byte("\n"))
	lines = lines[:len(lines)-1] // after the last newline
	if len(lines) != 100 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, i := range []int{99, 0, 57, 1, 16, 17} {
		got := append(g.Patient(i).AppendBundle(nil), '\n')
		if !bytes.Equal(got, lines[i]) {
			t.Errorf("Patient(%d) differs from line %d of the full run", i, i)
		}
	}
	var part bytes.Buffer
	if _, err := g.WriteBundles(context.Background(), &part, 40, 57); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part.Bytes(), bytes.Join(lines[40:57], nil)) {
		t.Error("WriteBundles(40, 57) differs from lines 40..56 of the full run")
	}
}

// TestBundleReferences checks that every reference in a Bundle is the
// fullUrl of one of its entries, and that clinical times fall inside
// the encounter they reference.
func TestBundleReferences(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			g := newGen(t, 9, v.opts)
			n := 100
			if v.name == "dense" {
				n = 20
			}
			for i := range n {
				var b struct {
					Entry []struct {
						FullURL  string          `json:"fullUrl"`
						Resource json.RawMessage `json:"resource"`
					} `json:"entry"`
				}
				raw := g.Patient(i).AppendBundle(nil)
				if err := json.Unmarshal(raw, &b); err != nil {
					t.Fatal(err)
				}
				urls := map[string]bool{}
				periods := map[string][2]time.Time{}
				for _, e := range b.Entry {
					if urls[e.FullURL] || !strings.HasPrefix(e.FullURL, "urn:uuid:") {
						t.Fatalf("patient %d: fullUrl %q repeated or not a urn:uuid", i, e.FullURL)
					}
					urls[e.FullURL] = true
					var enc struct {
						ResourceType string
						Period       struct{ Start, End time.Time }
					}
					if err := json.Unmarshal(e.Resource, &enc); err != nil {
						t.Fatal(err)
					}
					if enc.ResourceType == "Encounter" {
						if !enc.Period.Start.Before(enc.Period.End) {
							t.Fatalf("patient %d: encounter ends before it starts", i)
						}
						periods[e.FullURL] = [2]time.Time{enc.Period.Start, enc.Period.End}
					}
				}
				for _, ref := range collectRefs(t, raw, nil) {
					if !urls[ref] {
						t.Fatalf("patient %d: reference %q does not resolve in its Bundle", i, ref)
					}
				}
				for _, e := range b.Entry {
					var r struct {
						ResourceType string
						Encounter    struct{ Reference string }
						Effective    time.Time `json:"effectiveDateTime"`
						Authored     time.Time `json:"authoredOn"`
						Recorded     time.Time `json:"recordedDate"`
					}
					if err := json.Unmarshal(e.Resource, &r); err != nil {
						t.Fatal(err)
					}
					at := r.Effective
					switch r.ResourceType {
					case "MedicationRequest":
						at = r.Authored
					case "Condition":
						at = r.Recorded
					}
					p, ok := periods[r.Encounter.Reference]
					if !ok || at.IsZero() {
						continue
					}
					if at.Before(p[0]) || at.After(p[1]) {
						t.Fatalf("patient %d: %s at %v outside its encounter %v", i, r.ResourceType, at, p)
					}
				}
			}
		})
	}
}
