package search

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	gofhir "github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/types"

	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search/internal/fhirpath"
)

const dataDir = "../../../../shared/data"

// testResource is one resource of the test data: a file, or an entry of
// a Bundle file.
type testResource struct {
	name string
	res  *fhir.Resource
	json []byte
}

// loadResources parses the .json files of a data folder (every n-th of
// them when every > 1, the first limit when limit > 0); with entries,
// each Bundle entry's resource is a resource of its own (urn:uuid:
// references rewritten to Type/id, as a transaction stores them), and
// with whole, the files themselves too.
func loadResources(t testing.TB, folder string, every, limit int, entries, whole bool) []testResource {
	t.Helper()
	dir := filepath.Join(dataDir, folder)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("test data absent: %s", dir)
	}
	sort.Strings(files)
	if every > 1 {
		var some []string
		for i := 0; i < len(files); i += every {
			some = append(some, files[i])
		}
		files = some
	}
	if limit > 0 && len(files) > limit {
		files = files[:limit]
	}
	var out []testResource
	for _, f := range files {
		if filepath.Base(f) == "package.json" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fhir.Parse(b)
		if err != nil {
			continue // Questionnaire-qs1.json is invalid R4 (see 0001)
		}
		if whole {
			out = append(out, mustMarshal(t, filepath.Base(f), r))
		}
		if !entries || r.Type() != "Bundle" {
			continue
		}
		if whole {
			r, _ = fhir.Parse(b) // the entries are rewritten below: keep the whole file as read
		}
		bundle, err := r.Bundle()
		if err != nil {
			t.Fatal(err)
		}
		local := map[string]string{}
		for _, e := range bundle.Entries {
			if e.Resource != nil && e.FullURL != "" && e.Resource.ID() != "" {
				local[e.FullURL] = e.Resource.Type() + "/" + e.Resource.ID()
			}
		}
		for i, e := range bundle.Entries {
			if e.Resource == nil {
				continue
			}
			e.Resource.RewriteReferences(func(ref string) (string, bool) {
				s, ok := local[ref]
				return s, ok
			})
			out = append(out, mustMarshal(t, filepath.Base(f)+"#"+strconv.Itoa(i), e.Resource))
		}
	}
	return out
}

func mustMarshal(t testing.TB, name string, r *fhir.Resource) testResource {
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return testResource{name: name, res: r, json: b}
}

// typeResolver resolves a reference for the oracle the way the compiled
// expressions do: to a resource known only by the type its reference
// string names (or, for #id, the type of that contained resource).
type typeResolver struct{ root fhir.Elem }

func (r typeResolver) Resolve(_ context.Context, ref string) ([]byte, error) {
	typ := ""
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		typ = fhirpath.ContainedType(r.root, id)
	} else {
		typ, _, _ = fhirpath.RefType(ref)
	}
	if typ == "" {
		return nil, errors.New("unresolved")
	}
	return []byte(`{"resourceType":"` + typ + `"}`), nil
}

// oracleKey is the comparable form of one selected value: an object as
// its JSON, a primitive as its text, a date as the instant it starts (the
// oracle rewrites +00:00 as Z and keeps milliseconds only). Selections
// are compared as sets: gofhir/fhirpath keeps the duplicates of the left
// operand of `|` (the specification merges all), and search values are
// deduplicated anyway.
func oracleKey(s string) string {
	if lo, _, ok := DateRange(s); ok && len(s) > 4 {
		return "date:" + lo.Truncate(time.Millisecond).Format(time.RFC3339Nano)
	}
	return s
}

func mineKeys(items []fhirpath.Item) []string {
	var keys []string
	for _, it := range items {
		if e, ok := it.Elem(); ok {
			if e.IsPrimitive() {
				keys = append(keys, oracleKey(e.Text()))
			} else {
				keys = append(keys, string(e.AppendJSON(nil)))
			}
			continue
		}
		if b, ok := it.Bool(); ok {
			keys = append(keys, map[bool]string{true: "true", false: "false"}[b])
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func oracleKeys(c types.Collection) []string {
	var keys []string
	for _, v := range c {
		if o, ok := v.(*types.ObjectValue); ok {
			keys = append(keys, string(o.Data()))
			continue
		}
		keys = append(keys, oracleKey(v.String()))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// oracleStats counts an oracle run.
type oracleStats struct {
	params    map[string]bool // Type.code evaluated
	resources int
	agree     int
	nonEmpty  int
	disagree  int
	fullAgree int // multi-base definitions: the whole union agrees with the per-type expression
}

// runOracle evaluates every supported parameter of each resource with
// gofhir/fhirpath (the definitions' expressions for the type, unmodified)
// and with the compiled programs, and compares what they select.
func runOracle(t *testing.T, res []testResource, full bool, st *oracleStats) {
	compiled := map[string]*gofhir.Expression{}
	compile := func(expr string) *gofhir.Expression {
		if e, ok := compiled[expr]; ok {
			return e
		}
		e, err := gofhir.Compile(expr)
		if err != nil {
			t.Fatalf("oracle cannot compile %q: %v", expr, err)
		}
		compiled[expr] = e
		return e
	}
	fullExpr := map[string]string{} // definition URL -> expression with every base
	if full {
		for _, d := range loadDefinitions(t) {
			fullExpr[d.URL] = d.Expression
		}
	}
	var ev fhirpath.Evaluator
	for _, r := range res {
		st.resources++
		root := r.res.Root()
		ev.Reset(root)
		opt := gofhir.WithResolver(typeResolver{root})
		for _, p := range Params(r.res.Type()) {
			st.params[r.res.Type()+"."+p.Code] = true
			got := mineKeys(ev.Eval(programs[p.prog], nil))
			c, err := compile(p.Expression).EvaluateWithOptions(r.json, opt)
			if err != nil {
				t.Errorf("%s %s: oracle: %v", r.name, p.Code, err)
				continue
			}
			want := oracleKeys(c)
			if !slices.Equal(got, want) {
				st.disagree++
				t.Errorf("%s %s (%s):\n compiled %q\n oracle   %q", r.name, p.Code, p.Expression, got, want)
				continue
			}
			st.agree++
			if len(got) > 0 {
				st.nonEmpty++
			}
			if fx := fullExpr[p.Definition]; full && fx != "" && fx != p.Expression {
				c, err := compile(fx).EvaluateWithOptions(r.json, opt)
				if err != nil || !slices.Equal(oracleKeys(c), want) {
					t.Errorf("%s %s: the whole definition selects %q, the %s branches %q (%v)", r.name, p.Code, oracleKeys(c), r.res.Type(), want, err)
					continue
				}
				st.fullAgree++
			}
		}
	}
}

type definition struct {
	URL        string `json:"url"`
	Expression string `json:"expression"`
}

func loadDefinitions(t *testing.T) []definition {
	b, err := os.ReadFile(filepath.Join(dataDir, "fhir-r4-core", "search-parameters.json"))
	if err != nil {
		t.Skipf("definitions absent: %v", err)
	}
	var bundle struct {
		Entry []struct {
			Resource definition `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	out := make([]definition, len(bundle.Entry))
	for i, e := range bundle.Entry {
		out[i] = e.Resource
	}
	return out
}

// TestOracleExamples compares the compiled expressions with
// gofhir/fhirpath on every R4 example (Bundle entries included; every
// tenth file with -race or -short), and checks that splitting multi-type
// definitions per type changes nothing.
func TestOracleExamples(t *testing.T) {
	every := 1
	if raceEnabled || testing.Short() {
		every = 10
	}
	res := loadResources(t, "fhir-r4-examples", every, 0, true, true)
	st := oracleStats{params: map[string]bool{}}
	runOracle(t, res, true, &st)
	t.Logf("oracle: %d params × %d resources (R4 examples), %d selections agree (%d non-empty), %d disagree; %d whole multi-type definitions agree with their per-type branches",
		len(st.params), st.resources, st.agree, st.nonEmpty, st.disagree, st.fullAgree)
}

// TestOracleSynthea does the same over the entries of Synthea Bundles:
// four files by default (one with -race or -short), all 40 with
// WARD_ORACLE_ALL=1.
func TestOracleSynthea(t *testing.T) {
	limit := 4
	if raceEnabled || testing.Short() {
		limit = 1
	}
	if os.Getenv("WARD_ORACLE_ALL") != "" {
		limit = 0
	}
	res := loadResources(t, "synthea-r4", 1, limit, true, false)
	st := oracleStats{params: map[string]bool{}}
	runOracle(t, res, false, &st)
	t.Logf("oracle: %d params × %d resources (Synthea entries), %d selections agree (%d non-empty), %d disagree",
		len(st.params), st.resources, st.agree, st.nonEmpty, st.disagree)
}
