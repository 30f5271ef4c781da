// Package indextest is the search conformance suite every store backend
// must pass, in the manner of storetest: FHIR R4 searches (R4 search.html)
// run end to end, from the query string through search.Parse, the blind
// index tokens written by index.Indexer and the backend's Search, to the
// decrypted matches of index.Engine, each compared with the resource ids
// it must return, in order.
package indextest

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
	"github.com/wardhealth/ward/internal/store"
)

// The tenants of the suite: every case searches tenant; other holds the
// resources a case loads elsewhere, which must never be found.
const (
	tenant = "acme"
	other  = "other"
)

// loadStart is when the first resource of a case is written; each later
// write (resources, then Then ops) happens one day after the previous, so
// _lastUpdated values are known: the i-th write is at loadStart + i days.
var loadStart = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// searchNow is the engine's clock, used by the ap prefix: R4 widens ap by
// 10% of the gap between now and the date, so now sits close to the dates
// the ap cases search (January 2013) to keep that margin small.
var searchNow = time.Date(2013, 1, 24, 0, 0, 0, 0, time.UTC)

// maxPages stops a paging loop that never ends.
const maxPages = 100

// searchCase is one search and what it must return.
type searchCase struct {
	Name      string
	Resources []string // JSON with explicit ids, written in order (OpUpdate)
	// OtherTenant are resources written to another tenant first: the
	// search must never see them.
	OtherTenant []string
	Then        []op // writes after Resources, in order
	Type        string
	Query       string // a query string, as after the "?"
	Lenient     bool
	// SameTime writes everything at the same instant (ties in
	// _lastUpdated) instead of one day apart.
	SameTime    bool
	Compartment *index.Compartment
	// Page follows Result.Next to the last page; Want then lists the
	// matches of every page.
	Page      bool
	WantPages int      // with Page: how many pages (0: not checked)
	Want      []string // ids of the matches, in order
	// WantIncluded are the _include and _revinclude resources, as
	// Type/id, in any order.
	WantIncluded []string
	WantTotal    *int64   // Result.Total of the first page, when not nil
	WantIgnored  []string // Query.Ignored (lenient parses)
	// WantErr expects a *search.Error, from Parse or the engine, naming
	// WantErrParam (set WantErr for errors naming no parameter).
	WantErr      bool
	WantErrParam string
}

// op is a write after a case's resources: Put (an update, JSON with an
// id) or Delete ("Type/id").
type op struct {
	Put    string
	Delete string
}

// Run runs every case against a fresh backend from open, with a keyring
// whose wrapped keys open's KeyStore keeps (usually the backend itself)
// under a local KMS key generated for the run.
func Run(t *testing.T, open func(t *testing.T) (store.Backend, keyring.KeyStore)) {
	t.Helper()
	kek := newKEK(t)
	names := make(map[string]bool)
	for _, c := range cases() {
		if names[c.Name] {
			t.Fatalf("two cases named %q", c.Name)
		}
		names[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			c.run(t, kek, open)
		})
	}
}

func newKEK(t *testing.T) *localkms.KMS {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if err := localkms.Create(path, localkms.Development); err != nil {
		t.Fatal(err)
	}
	kek, err := localkms.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

// clock is the store's clock, set before each write.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *searchCase) run(t *testing.T, kek *localkms.KMS, open func(t *testing.T) (store.Backend, keyring.KeyStore)) {
	ctx := t.Context()
	b, ks := open(t)
	kr := keyring.New(kek, ks, keyring.Options{})
	clk := &clock{}
	st := store.New(b, kr, store.Options{Index: index.NewIndexer(kr), Now: clk.now})
	eng := index.NewEngine(st, kr, func() time.Time { return searchNow })

	for i, r := range c.OtherTenant {
		clk.set(c.at(i))
		put(ctx, t, st, other, r)
	}
	for i, r := range c.Resources {
		clk.set(c.at(i))
		put(ctx, t, st, tenant, r)
	}
	for i, o := range c.Then {
		clk.set(c.at(len(c.Resources) + i))
		switch {
		case o.Put != "":
			put(ctx, t, st, tenant, o.Put)
		case o.Delete != "":
			typ, id, _ := strings.Cut(o.Delete, "/")
			if _, err := st.Write(ctx, tenant, []store.Op{{Kind: store.OpDelete, Type: typ, ID: id}}); err != nil {
				t.Fatalf("delete %s: %v", o.Delete, err)
			}
		}
	}

	params, err := url.ParseQuery(c.Query)
	if err != nil {
		t.Fatalf("query %q: %v", c.Query, err)
	}
	q, err := search.Parse(c.Type, params, c.Lenient)
	if err != nil {
		c.checkErr(t, err, "Parse", params)
		return
	}
	if !slices.Equal(q.Ignored, c.WantIgnored) {
		t.Errorf("Ignored = %q, want %q", q.Ignored, c.WantIgnored)
	}

	var got, included []string
	seen := make(map[string]bool)
	total := int64(-1)
	pos := index.Position{}
	pages := 0
	for {
		res, err := eng.Search(ctx, tenant, q, c.Compartment, pos)
		if err != nil {
			c.checkErr(t, err, "Search", params)
			return
		}
		if pages == 0 {
			total = res.Total
		}
		pages++
		if q.Count > 0 && len(res.Matches) > q.Count {
			t.Errorf("page %d has %d matches, more than _count=%d", pages, len(res.Matches), q.Count)
		}
		for _, m := range res.Matches {
			if m.Type != c.Type {
				t.Errorf("match %s/%s is not a %s", m.Type, m.ID, c.Type)
			}
			if m.Resource == nil || m.Resource.ID() != m.ID || m.Resource.Type() != m.Type {
				t.Errorf("match %s/%s carries another resource", m.Type, m.ID)
			}
			key := m.Type + "/" + m.ID
			if seen[key] {
				t.Errorf("%s returned twice (page %d)", key, pages)
			}
			seen[key] = true
			got = append(got, m.ID)
		}
		for _, m := range res.Included {
			key := m.Type + "/" + m.ID
			if seen[key] {
				t.Errorf("included %s is also a match or included before", key)
			}
			seen[key] = true
			included = append(included, key)
		}
		if !c.Page || res.Next == nil {
			break
		}
		if len(res.Matches) == 0 {
			t.Fatalf("page %d is empty but links a next page", pages)
		}
		if pages == maxPages {
			t.Fatalf("more than %d pages", maxPages)
		}
		pos = *res.Next
	}
	if c.WantErr || c.WantErrParam != "" {
		t.Fatalf("got %d matches, want an error naming %q", len(got), c.WantErrParam)
	}
	if !slices.Equal(got, c.Want) {
		t.Errorf("matches = %q\n                  want %q", got, c.Want)
	}
	sort.Strings(included)
	want := slices.Sorted(slices.Values(c.WantIncluded))
	if !slices.Equal(included, want) {
		t.Errorf("included = %q, want %q", included, want)
	}
	if c.WantTotal != nil && total != *c.WantTotal {
		t.Errorf("Total = %d, want %d", total, *c.WantTotal)
	}
	if c.WantPages != 0 && pages != c.WantPages {
		t.Errorf("%d pages, want %d", pages, c.WantPages)
	}
}

// at is when the case's i-th write happens.
func (c *searchCase) at(i int) time.Time {
	if c.SameTime {
		return loadStart
	}
	return loadStart.Add(time.Duration(i) * 24 * time.Hour)
}

// checkErr checks an error of Parse or Search against the case: a
// *search.Error naming the expected parameter, whose message holds none
// of the query's values (they may be PHI).
func (c *searchCase) checkErr(t *testing.T, err error, from string, params url.Values) {
	t.Helper()
	var se *search.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: %v, want a *search.Error", from, err)
	}
	if !c.WantErr && c.WantErrParam == "" {
		t.Fatalf("%s: unexpected error %v", from, err)
	}
	if se.Param != c.WantErrParam {
		t.Errorf("%s: error names %q, want %q (%v)", from, se.Param, c.WantErrParam, err)
	}
	for _, vs := range params {
		for _, v := range vs {
			if len(v) >= 3 && strings.Contains(se.Msg, v) {
				t.Errorf("%s: error message %q holds the query value %q", from, se.Msg, v)
			}
		}
	}
}

// put writes a resource with its explicit id.
func put(ctx context.Context, t *testing.T, st *store.Store, tenant, resource string) {
	t.Helper()
	r, err := fhir.Parse([]byte(resource))
	if err != nil {
		t.Fatalf("fixture does not parse: %v\n%s", err, resource)
	}
	if r.ID() == "" {
		t.Fatalf("fixture without an id:\n%s", resource)
	}
	if _, err := st.Write(ctx, tenant, []store.Op{{Kind: store.OpUpdate, Doc: r}}); err != nil {
		t.Fatalf("write %s/%s: %v", r.Type(), r.ID(), err)
	}
}

func total(n int64) *int64 { return &n }

func join[T any](groups ...[]T) []T {
	var out []T
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func put1(resource string) op { return op{Put: resource} }

func del(ref string) op { return op{Delete: ref} }

// Fixtures: realistic R4 resources, in groups a case loads together. The
// comments give what the cases rely on.

// Patients. Their _lastUpdated, loaded alone, are 2024-03-01T09:00Z
// (pMuller) to 2024-03-06T09:00Z (pAnon).
const (
	// Family with an umlaut; one MRN; active; has a GP, an organization
	// and a profile; born on a day.
	pMuller = `{"resourceType":"Patient","id":"p1",
	 "meta":{"profile":["http://example.org/fhir/StructureDefinition/vip-patient"]},
	 "identifier":[{"system":"http://hospital.example.org/mrn","value":"MRN-001"}],
	 "active":true,"name":[{"use":"official","family":"Müller","given":["Hans"]}],
	 "telecom":[{"system":"email","value":"hans.mueller@example.org","use":"home"}],
	 "gender":"male","birthDate":"1970-05-15",
	 "address":[{"city":"Berlin","country":"DE"}],
	 "generalPractitioner":[{"reference":"Practitioner/dr1"}],
	 "managingOrganization":{"reference":"Organization/org1"}}`
	// Born in a month (month precision); inactive.
	pMullins = `{"resourceType":"Patient","id":"p2",
	 "identifier":[{"system":"http://hospital.example.org/mrn","value":"MRN-002"}],
	 "active":false,"name":[{"family":"Mullins","given":["Anna"]}],
	 "gender":"female","birthDate":"1985-01",
	 "address":[{"city":"Boston","state":"MA"}],
	 "managingOrganization":{"reference":"Organization/org1"}}`
	// No gender; the same MRN value as p1 in another system; two given
	// names; born on 2013-01-14.
	pSmith = `{"resourceType":"Patient","id":"p3",
	 "identifier":[{"system":"http://other.example.org/ids","value":"MRN-001"}],
	 "name":[{"family":"Smith","given":["John","Jacob"]}],
	 "birthDate":"2013-01-14",
	 "generalPractitioner":[{"reference":"Practitioner/dr2"}]}`
	// Upper-case family, accented given name and city; an identifier
	// without a system; born in a year (year precision).
	pSmithers = `{"resourceType":"Patient","id":"p4",
	 "identifier":[{"value":"MRN-001"}],
	 "name":[{"family":"SMITHERS","given":["Zoë"]}],
	 "gender":"female","birthDate":"2013",
	 "address":[{"city":"Zürich","country":"CH"}]}`
	// Letters NFKD leaves whole (ø); born the day before 2013.
	pOstergaard = `{"resourceType":"Patient","id":"p5",
	 "name":[{"family":"Østergaard","given":["Søren"]}],
	 "gender":"other","birthDate":"2012-12-31",
	 "deceasedDateTime":"2020-02-02T10:00:00Z"}`
	// Nothing but a gender.
	pAnon = `{"resourceType":"Patient","id":"p6","gender":"unknown"}`
)

var patients = []string{pMuller, pMullins, pSmith, pSmithers, pOstergaard, pAnon}

const (
	// A family name longer than the index's prefix tokens.
	pLongName = `{"resourceType":"Patient","id":"p7","name":[{"family":"Wolfeschlegelsteinhausenbergerdorff","given":["Hubert"]}]}`
	// A local patient whose type and id are those of o-ext's subject on
	// another server.
	pExternalTwin = `{"resourceType":"Patient","id":"ext1","name":[{"family":"Twin"}]}`
)

// Practitioners and an organization.
const (
	drHouse = `{"resourceType":"Practitioner","id":"dr1",
	 "identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],
	 "name":[{"family":"House","given":["Gregory"],"prefix":["Dr."]}]}`
	drQuinn = `{"resourceType":"Practitioner","id":"dr2",
	 "name":[{"family":"Quinn","given":["Michaela"]}]}`
	orgPPTH = `{"resourceType":"Organization","id":"org1","active":true,
	 "name":"Princeton-Plainsboro Teaching Hospital","alias":["PPTH"]}`
)

var staff = []string{drHouse, drQuinn, orgPPTH}

// Laboratory observations (codes, subjects and performers).
const (
	oGlucose = `{"resourceType":"Observation","id":"o-glu","status":"final",
	 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	 "code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose [Mass/volume] in Blood"}],"text":"Glucose"},
	 "subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/dr1"}],
	 "effectiveDateTime":"2013-01-14T10:00:00Z",
	 "valueQuantity":{"value":95,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}`
	oHbA1c = `{"resourceType":"Observation","id":"o-hba1c","status":"final",
	 "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	 "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c/Hemoglobin.total in Blood"}]},
	 "subject":{"reference":"Patient/p1"},
	 "valueQuantity":{"value":6.1,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}`
	// The same code as o-glu in a local system.
	oLocal = `{"resourceType":"Observation","id":"o-local","status":"preliminary",
	 "code":{"coding":[{"system":"http://acme.example.org/codes","code":"2339-0","display":"Local glucose"}]},
	 "subject":{"reference":"Patient/p3"}}`
	// A code with text only; performed by the patient.
	oTextOnly = `{"resourceType":"Observation","id":"o-text","status":"amended",
	 "code":{"text":"Blood pressure panel"},
	 "subject":{"reference":"Patient/p2"},"performer":[{"reference":"Patient/p2"}]}`
	// An absolute reference to a patient on another server.
	oExternal = `{"resourceType":"Observation","id":"o-ext","status":"final",
	 "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},
	 "subject":{"reference":"http://other.example.org/fhir/Patient/ext1"}}`
	// A subject known only by identifier.
	oIdentified = `{"resourceType":"Observation","id":"o-ident","status":"final",
	 "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},
	 "subject":{"identifier":{"system":"http://hospital.example.org/mrn","value":"MRN-777"}}}`
	// A subject that does not exist.
	oDangling = `{"resourceType":"Observation","id":"o-dangling","status":"cancelled",
	 "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},
	 "subject":{"reference":"Patient/ghost"}}`
)

// A coding with a system and a display but no code.
const oDisplayOnly = `{"resourceType":"Observation","id":"o-display","status":"final",
 "code":{"coding":[{"system":"http://loinc.org","display":"Glucose"}]},
 "subject":{"reference":"Patient/p1"}}`

var labs = []string{oGlucose, oHbA1c, oLocal, oTextOnly, oExternal, oIdentified, oDangling}

// dated returns a body temperature observation of p1 with the given
// effective[x] member ("" for none).
func dated(id, effective string) string {
	if effective != "" {
		effective = "," + effective
	}
	return `{"resourceType":"Observation","id":"` + id + `","status":"final",
	 "code":{"coding":[{"system":"http://loinc.org","code":"8310-5","display":"Body temperature"}]},
	 "subject":{"reference":"Patient/p1"}` + effective + `}`
}

// Observations at every date precision, and periods, around January
// 2013 (the R4 examples' month).
var dates = []string{
	dated("d-day", `"effectiveDateTime":"2013-01-14"`),
	dated("d-sec", `"effectiveDateTime":"2013-01-14T10:00:00Z"`),
	dated("d-year", `"effectiveDateTime":"2013"`),
	dated("d-prev", `"effectiveDateTime":"2012-12-31T23:59:59Z"`),
	dated("d-next", `"effectiveDateTime":"2013-02-01"`),
	dated("d-period", `"effectivePeriod":{"start":"2013-01-10","end":"2013-01-20"}`),
	dated("d-long", `"effectivePeriod":{"start":"2012-12-15","end":"2013-02-15"}`),
	dated("d-open", `"effectivePeriod":{"start":"2013-01-25"}`),
	dated("d-none", ""),
}

// Dates outside the index's date buckets (1800 to 2200) and a period
// too long for year buckets.
var farDates = []string{
	dated("d-old", `"effectiveDateTime":"1799-12-31"`),
	dated("d-far", `"effectivePeriod":{"start":"2199-12-31","end":"2200-01-02"}`),
	dated("d-wide", `"effectivePeriod":{"start":"1950-01-01","end":"2000-12-31"}`),
}

// risk returns a RiskAssessment of p1 with the given prediction.
func risk(id, prediction string) string {
	return `{"resourceType":"RiskAssessment","id":"` + id + `","status":"final",
	 "subject":{"reference":"Patient/p1"},"prediction":[` + prediction + `]}`
}

// Numbers: RiskAssessment probability.
var risks = []string{
	risk("r10", `{"probabilityDecimal":0.1}`),
	risk("r25", `{"probabilityDecimal":0.25}`),
	risk("r50", `{"probabilityDecimal":0.5}`),
	risk("r80", `{"probabilityDecimal":0.8}`),
	risk("r-range", `{"probabilityRange":{"low":{"value":0.2},"high":{"value":0.4}}}`),
	risk("r-none", `{"qualitativeRisk":{"text":"low"}}`),
}

// measured returns an observation of p1 with the given value[x] member.
func measured(id, value string) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"final",
	 "code":{"text":"measurement"},"subject":{"reference":"Patient/p1"},` + value + `}`
}

// Quantities in UCUM units the search converts (mass), one it does not,
// one without a coded unit and one in a local unit system.
var quantities = []string{
	measured("q-mg", `"valueQuantity":{"value":250,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}`),
	measured("q-g", `"valueQuantity":{"value":0.5,"unit":"g","system":"http://unitsofmeasure.org","code":"g"}`),
	measured("q-kg", `"valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}`),
	measured("q-mmhg", `"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}`),
	measured("q-unit", `"valueQuantity":{"value":5.4,"unit":"mmol/L"}`),
	measured("q-local", `"valueQuantity":{"value":250,"unit":"milligram","system":"http://acme.example.org/units","code":"mg"}`),
	measured("q-none", `"valueString":"pending"`),
}

// Encounters: a period of two hours, an ongoing one, none.
var encounters = []string{
	`{"resourceType":"Encounter","id":"e1","status":"finished",
	 "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
	 "subject":{"reference":"Patient/p1"},
	 "participant":[{"individual":{"reference":"Practitioner/dr1"}}],
	 "period":{"start":"2013-01-14T09:00:00Z","end":"2013-01-14T11:00:00Z"},
	 "serviceProvider":{"reference":"Organization/org1"}}`,
	`{"resourceType":"Encounter","id":"e2","status":"in-progress",
	 "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
	 "subject":{"reference":"Patient/p2"},
	 "participant":[{"individual":{"reference":"Practitioner/dr2"}}],
	 "period":{"start":"2013-01-20"}}`,
	`{"resourceType":"Encounter","id":"e3","status":"cancelled",
	 "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
	 "subject":{"reference":"Patient/p3"}}`,
}

// Conditions: onset as a month, as an age (UCUM years), as text.
var conditions = []string{
	`{"resourceType":"Condition","id":"c1",
	 "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
	 "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"}]},
	 "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
	 "onsetDateTime":"2010-06","asserter":{"reference":"Practitioner/dr1"}}`,
	`{"resourceType":"Condition","id":"c2",
	 "code":{"coding":[{"system":"http://snomed.info/sct","code":"195967001","display":"Asthma"}]},
	 "subject":{"reference":"Patient/p3"},
	 "onsetAge":{"value":4,"unit":"years","system":"http://unitsofmeasure.org","code":"a"}}`,
	`{"resourceType":"Condition","id":"c3","code":{"text":"Chronic back pain"},
	 "subject":{"reference":"Patient/p2"},"onsetString":"childhood"}`,
}

// Medication requests.
var orders = []string{
	`{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order",
	 "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"860975","display":"metformin hydrochloride 500 MG Oral Tablet"}]},
	 "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
	 "authoredOn":"2013-01-15","requester":{"reference":"Practitioner/dr1"}}`,
	`{"resourceType":"MedicationRequest","id":"m2","status":"completed","intent":"order",
	 "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"745679","display":"albuterol 0.09 MG/ACTUAT Inhaler"}]},
	 "subject":{"reference":"Patient/p3"},
	 "authoredOn":"2012-11-02","requester":{"reference":"Practitioner/dr2"}}`,
}

// replace returns resource with old replaced by new, once; it panics if
// old is absent, so a fixture edit cannot silently test nothing.
func replace(resource, old, new string) string {
	if !strings.Contains(resource, old) {
		panic("indextest: fixture lacks " + old)
	}
	return strings.Replace(resource, old, new, 1)
}

// cases is the suite. Without _sort the engine returns matches in the
// order their resources were first written.
func cases() []searchCase {
	return join(stringCases(), tokenCases(), referenceCases(), dateCases(), numberCases(),
		uriAndMissingCases(), metaCases(), resultCases(), includeCases(), chainCases(),
		compartmentCases(), consistencyCases(), errorCases())
}

func stringCases() []searchCase {
	return []searchCase{
		{Name: "string/prefix ignores case and accents", Resources: patients, Type: "Patient",
			Query: "family=muller", Want: []string{"p1"}},
		{Name: "string/query accents and case are normalised too", Resources: patients, Type: "Patient",
			Query: "family=MÜLL", Want: []string{"p1", "p2"}},
		{Name: "string/prefix", Resources: patients, Type: "Patient",
			Query: "family=smith", Want: []string{"p3", "p4"}},
		{Name: "string/no match", Resources: patients, Type: "Patient",
			Query: "family=smyth", Want: nil},
		{Name: "string/not a prefix", Resources: patients, Type: "Patient",
			Query: "family=ith", Want: nil},
		{Name: "string/letters without decomposition fold", Resources: patients, Type: "Patient",
			Query: "given=soren", Want: []string{"p5"}},
		{Name: "string/name covers given", Resources: patients, Type: "Patient",
			Query: "name=zoe", Want: []string{"p4"}},
		{Name: "string/address covers city", Resources: patients, Type: "Patient",
			Query: "address=zurich", Want: []string{"p4"}},
		{Name: "string/organization alias", Resources: staff, Type: "Organization",
			Query: "name=ppth", Want: []string{"org1"}},
		{Name: "string/exact", Resources: patients, Type: "Patient",
			Query: "family:exact=Smith", Want: []string{"p3"}},
		{Name: "string/exact is case sensitive", Resources: patients, Type: "Patient",
			Query: "family:exact=smith", Want: nil},
		{Name: "string/exact keeps accents", Resources: patients, Type: "Patient",
			Query: "given:exact=Zoë", Want: []string{"p4"}},
		{Name: "string/exact without the accent", Resources: patients, Type: "Patient",
			Query: "given:exact=Zoe", Want: nil},
		{Name: "string/contains", Resources: patients, Type: "Patient",
			Query: "family:contains=ITH", Want: []string{"p3", "p4"}},
		{Name: "string/contains normalised", Resources: patients, Type: "Patient",
			Query: "family:contains=ergå", Want: []string{"p5"}},
		{Name: "string/contains no match", Resources: patients, Type: "Patient",
			Query: "family:contains=xyz", Want: nil},
		{Name: "string/contains needs three characters", Resources: patients, Type: "Patient",
			Query: "family:contains=it", WantErrParam: "family:contains"},
		{Name: "string/or", Resources: patients, Type: "Patient",
			Query: "family=smithers,muller", Want: []string{"p1", "p4"}},
		{Name: "string/and", Resources: patients, Type: "Patient",
			Query: "given=john&given=jacob", Want: []string{"p3"}},
		{Name: "string/and no match", Resources: patients, Type: "Patient",
			Query: "given=john&given=anna", Want: nil},
		{Name: "string/escaped comma is one value", Resources: patients, Type: "Patient",
			Query: `family=smith\,muller`, Want: nil},
		{Name: "string/prefix longer than the indexed prefixes", Resources: join(patients, []string{pLongName}), Type: "Patient",
			Query: "family=wolfeschlegelsteinhausenberger&_total=accurate", Want: []string{"p7"}, WantTotal: total(1)},
		{Name: "string/long prefix differing after the indexed prefixes", Resources: join(patients, []string{pLongName}), Type: "Patient",
			Query: "family=wolfeschlegelsteinhausenbergex&_total=accurate", Want: nil, WantTotal: total(0)},
		{Name: "string/value-string", Resources: quantities, Type: "Observation",
			Query: "value-string=PEND", Want: []string{"q-none"}},
	}
}

func tokenCases() []searchCase {
	return []searchCase{
		{Name: "token/code in any system", Resources: labs, Type: "Observation",
			Query: "code=2339-0", Want: []string{"o-glu", "o-local", "o-ext", "o-dangling"}},
		{Name: "token/system|code", Resources: labs, Type: "Observation",
			Query: "code=http://loinc.org|2339-0", Want: []string{"o-glu", "o-ext", "o-dangling"}},
		{Name: "token/system|code other system", Resources: labs, Type: "Observation",
			Query: "code=http://acme.example.org/codes|2339-0", Want: []string{"o-local"}},
		{Name: "token/system|code no match", Resources: labs, Type: "Observation",
			Query: "code=http://loinc.org|9999-9", Want: nil},
		{Name: "token/system| any code", Resources: labs, Type: "Observation",
			Query: "code=http://loinc.org|", Want: []string{"o-glu", "o-hba1c", "o-ext", "o-ident", "o-dangling"}},
		{Name: "token/|code without system", Resources: patients, Type: "Patient",
			Query: "identifier=|MRN-001", Want: []string{"p4"}},
		{Name: "token/|code never matches a coded system", Resources: labs, Type: "Observation",
			Query: "code=|2339-0", Want: nil},
		{Name: "token/identifier any system", Resources: patients, Type: "Patient",
			Query: "identifier=MRN-001", Want: []string{"p1", "p3", "p4"}},
		{Name: "token/identifier system|value", Resources: patients, Type: "Patient",
			Query: "identifier=http://hospital.example.org/mrn|MRN-001", Want: []string{"p1"}},
		{Name: "token/identifier system|", Resources: patients, Type: "Patient",
			Query: "identifier=http://hospital.example.org/mrn|", Want: []string{"p1", "p2"}},
		{Name: "token/boolean", Resources: patients, Type: "Patient",
			Query: "active=false", Want: []string{"p2"}},
		{Name: "token/code", Resources: patients, Type: "Patient",
			Query: "gender=male", Want: []string{"p1"}},
		{Name: "token/contact point", Resources: patients, Type: "Patient",
			Query: "email=hans.mueller@example.org", Want: []string{"p1"}},
		{Name: "token/or", Resources: patients, Type: "Patient",
			Query: "gender=female,other", Want: []string{"p2", "p4", "p5"}},
		{Name: "token/or of system|code", Resources: labs, Type: "Observation",
			Query: "code=http://loinc.org|4548-4,http://loinc.org|8867-4", Want: []string{"o-hba1c", "o-ident"}},
		{Name: "token/and of two parameters", Resources: labs, Type: "Observation",
			Query: "code=2339-0&status=final", Want: []string{"o-glu", "o-ext"}},
		{Name: "token/and of one parameter", Resources: patients, Type: "Patient",
			Query: "identifier=MRN-001&identifier=http://hospital.example.org/mrn|", Want: []string{"p1"}},
		{Name: "token/not includes resources without the element", Resources: patients, Type: "Patient",
			Query: "gender:not=male", Want: []string{"p2", "p3", "p4", "p5", "p6"}},
		{Name: "token/not of several codes", Resources: patients, Type: "Patient",
			Query: "gender:not=male,female", Want: []string{"p3", "p5", "p6"}},
		{Name: "token/not system|code", Resources: labs, Type: "Observation",
			Query: "code:not=http://loinc.org|2339-0", Want: []string{"o-hba1c", "o-local", "o-text", "o-ident"}},
		{Name: "token/not matching everything", Resources: labs, Type: "Observation",
			Query: "status:not=final&status:not=preliminary&status:not=amended&status:not=cancelled", Want: nil},
		{Name: "token/text word of display", Resources: labs, Type: "Observation",
			Query: "code:text=glucose", Want: []string{"o-glu", "o-local"}},
		{Name: "token/text prefix of a later word and of text", Resources: labs, Type: "Observation",
			Query: "code:text=BLO", Want: []string{"o-glu", "o-hba1c", "o-text"}},
		{Name: "token/text not within a word", Resources: labs, Type: "Observation",
			Query: "code:text=lucose", Want: nil},
		{Name: "token/text is not the code", Resources: labs, Type: "Observation",
			Query: "code:text=2339-0", Want: nil},
		{Name: "token/system| matches a coding without a code", Resources: join(labs, []string{oDisplayOnly}), Type: "Observation",
			Query: "code=http://loinc.org|&_total=accurate", Want: []string{"o-glu", "o-hba1c", "o-ext", "o-ident", "o-dangling", "o-display"},
			WantTotal: total(6)},
		{Name: "token/not system| excludes a coding without a code", Resources: join(labs, []string{oDisplayOnly}), Type: "Observation",
			Query: "code:not=http://loinc.org|", Want: []string{"o-local", "o-text"}},
		{Name: "token/category", Resources: labs, Type: "Observation",
			Query: "category=laboratory", Want: []string{"o-glu", "o-hba1c"}},
		{Name: "token/medication code", Resources: orders, Type: "MedicationRequest",
			Query: "code=http://www.nlm.nih.gov/research/umls/rxnorm|860975&intent=order", Want: []string{"m1"}},
	}
}

func referenceCases() []searchCase {
	obs := join(labs, patients)
	return []searchCase{
		{Name: "reference/type and id", Resources: obs, Type: "Observation",
			Query: "subject=Patient/p1", Want: []string{"o-glu", "o-hba1c"}},
		{Name: "reference/no match", Resources: obs, Type: "Observation",
			Query: "subject=Patient/p4", Want: nil},
		{Name: "reference/bare id on several target types", Resources: obs, Type: "Observation",
			Query: "subject=p1", Want: []string{"o-glu", "o-hba1c"}},
		{Name: "reference/bare id on one target type", Resources: encounters, Type: "Encounter",
			Query: "service-provider=org1", Want: []string{"e1"}},
		{Name: "reference/type modifier", Resources: obs, Type: "Observation",
			Query: "subject:Patient=p2", Want: []string{"o-text"}},
		{Name: "reference/type modifier of another type", Resources: obs, Type: "Observation",
			Query: "subject:Group=p1", Want: nil},
		{Name: "reference/version is ignored", Resources: obs, Type: "Observation",
			Query: "subject=Patient/p3/_history/7", Want: []string{"o-local"}},
		{Name: "reference/or", Resources: obs, Type: "Observation",
			Query: "subject=Patient/p2,Patient/p3", Want: []string{"o-local", "o-text"}},
		{Name: "reference/and", Resources: obs, Type: "Observation",
			Query: "subject=Patient/p2&performer=Patient/p2", Want: []string{"o-text"}},
		{Name: "reference/absolute url", Resources: obs, Type: "Observation",
			Query: "subject=http://other.example.org/fhir/Patient/ext1", Want: []string{"o-ext"}},
		{Name: "reference/relative does not match an absolute one", Resources: obs, Type: "Observation",
			Query: "subject=Patient/ext1", Want: nil},
		{Name: "reference/dangling references are searchable", Resources: obs, Type: "Observation",
			Query: "patient=Patient/ghost", Want: []string{"o-dangling"}},
		{Name: "reference/identifier system|value", Resources: obs, Type: "Observation",
			Query: "subject:identifier=http://hospital.example.org/mrn|MRN-777", Want: []string{"o-ident"}},
		{Name: "reference/identifier value", Resources: obs, Type: "Observation",
			Query: "subject:identifier=MRN-777", Want: []string{"o-ident"}},
		{Name: "reference/identifier other system", Resources: obs, Type: "Observation",
			Query: "subject:identifier=http://other.example.org/ids|MRN-777", Want: nil},
		{Name: "reference/identifier system|", Resources: obs, Type: "Observation",
			Query: "subject:identifier=http://hospital.example.org/mrn|", Want: []string{"o-ident"}},
		{Name: "reference/identifier is not the reference", Resources: obs, Type: "Observation",
			Query: "subject:identifier=MRN-001", Want: nil},
	}
}

// eMoves is an encounter in two locations years apart: it matches ANDed
// date clauses with different values.
const eMoves = `{"resourceType":"Encounter","id":"e-moves","status":"finished",
 "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
 "subject":{"reference":"Patient/p1"},
 "location":[{"location":{"reference":"Location/ward-a"},"period":{"start":"2008-05-01","end":"2008-05-03"}},
  {"location":{"reference":"Location/ward-b"},"period":{"start":"2021-01-10","end":"2021-01-12"}}]}`

func dateCases() []searchCase {
	return []searchCase{
		// January 2013 against values at day, second and year precision and periods.
		// ANDed clauses on one parameter (the engine merges their token sets).
		{Name: "date/and of disjoint rays matches long values", Resources: dates, Type: "Observation",
			Query: "date=lt2013-01-05&date=gt2013-01-25", Want: []string{"d-year", "d-long"}},
		{Name: "date/and of two ap windows", Resources: dates, Type: "Observation",
			Query: "date=ap2013-01-11&date=ap2013-01-19", Want: []string{"d-year", "d-period", "d-long"}},
		{Name: "date/and met by different values of a repeating element", Resources: []string{eMoves}, Type: "Encounter",
			Query: "location-period=gt2009&location-period=lt2011", Want: []string{"e-moves"}},
		{Name: "date/eq month contains the value", Resources: dates, Type: "Observation",
			Query: "date=2013-01", Want: []string{"d-day", "d-sec", "d-period"}},
		{Name: "date/eq explicit prefix", Resources: dates, Type: "Observation",
			Query: "date=eq2013-01", Want: []string{"d-day", "d-sec", "d-period"}},
		{Name: "date/ne", Resources: dates, Type: "Observation",
			Query: "date=ne2013-01", Want: []string{"d-year", "d-prev", "d-next", "d-long", "d-open"}},
		{Name: "date/gt", Resources: dates, Type: "Observation",
			Query: "date=gt2013-01", Want: []string{"d-year", "d-next", "d-long", "d-open"}},
		{Name: "date/lt", Resources: dates, Type: "Observation",
			Query: "date=lt2013-01", Want: []string{"d-prev", "d-long"}},
		{Name: "date/ge", Resources: dates, Type: "Observation",
			Query: "date=ge2013-01", Want: []string{"d-day", "d-sec", "d-year", "d-next", "d-period", "d-long", "d-open"}},
		{Name: "date/le", Resources: dates, Type: "Observation",
			Query: "date=le2013-01", Want: []string{"d-day", "d-sec", "d-prev", "d-period", "d-long"}},
		{Name: "date/sa", Resources: dates, Type: "Observation",
			Query: "date=sa2013-01", Want: []string{"d-next"}},
		{Name: "date/eb", Resources: dates, Type: "Observation",
			Query: "date=eb2013-01", Want: []string{"d-prev"}},
		{Name: "date/ap", Resources: dates, Type: "Observation",
			Query: "date=ap2013-01-14", Want: []string{"d-day", "d-sec", "d-year", "d-period", "d-long"}},
		{Name: "date/ap elsewhere", Resources: dates, Type: "Observation",
			Query: "date=ap2013-01-17", Want: []string{"d-year", "d-period", "d-long"}},
		{Name: "date/day", Resources: dates, Type: "Observation",
			Query: "date=2013-01-14", Want: []string{"d-day", "d-sec"}},
		{Name: "date/second", Resources: dates, Type: "Observation",
			Query: "date=2013-01-14T10:00:00Z", Want: []string{"d-sec"}},
		{Name: "date/second with offset", Resources: dates, Type: "Observation",
			Query: "date=2013-01-14T11:00:00%2B01:00", Want: []string{"d-sec"}},
		{Name: "date/year", Resources: dates, Type: "Observation",
			Query: "date=2013", Want: []string{"d-day", "d-sec", "d-year", "d-next", "d-period"}},
		{Name: "date/lt second", Resources: dates, Type: "Observation",
			Query: "date=lt2013-01-14T10:00:00Z", Want: []string{"d-day", "d-year", "d-prev", "d-period", "d-long"}},
		{Name: "date/no match", Resources: dates, Type: "Observation",
			Query: "date=2014-06", Want: nil},
		{Name: "date/before the date buckets", Resources: farDates, Type: "Observation",
			Query: "date=1799", Want: []string{"d-old"}},
		{Name: "date/lt the date buckets", Resources: farDates, Type: "Observation",
			Query: "date=lt1800-01-01", Want: []string{"d-old"}},
		{Name: "date/beyond the date buckets", Resources: farDates, Type: "Observation",
			Query: "date=ge2200-01-01", Want: []string{"d-far"}},
		{Name: "date/last bucketed year", Resources: farDates, Type: "Observation",
			Query: "date=2199-12", Want: nil},
		{Name: "date/last bucketed day overlapped", Resources: farDates, Type: "Observation",
			Query: "date=ge2199-12-31", Want: []string{"d-far"}},
		{Name: "date/long period within a range", Resources: farDates, Type: "Observation",
			Query: "date=sa1800&date=eb2100", Want: []string{"d-wide"}},
		{Name: "date/long period not within a year", Resources: farDates, Type: "Observation",
			Query: "date=1970", Want: nil},
		{Name: "date/birthdate month", Resources: patients, Type: "Patient",
			Query: "birthdate=2013-01", Want: []string{"p3"}},
		{Name: "date/birthdate year precision value", Resources: patients, Type: "Patient",
			Query: "birthdate=2013", Want: []string{"p3", "p4"}},
		{Name: "date/birthdate month precision value", Resources: patients, Type: "Patient",
			Query: "birthdate=1985-01-20", Want: nil},
		{Name: "date/and is a range", Resources: patients, Type: "Patient",
			Query: "birthdate=ge1980&birthdate=lt2013", Want: []string{"p2", "p5"}},
		{Name: "date/or", Resources: patients, Type: "Patient",
			Query: "birthdate=1970,2013", Want: []string{"p1", "p3", "p4"}},
		{Name: "date/period", Resources: encounters, Type: "Encounter",
			Query: "date=2013-01-14", Want: []string{"e1"}},
		{Name: "date/open period reaches any future", Resources: encounters, Type: "Encounter",
			Query: "date=gt2100-01-01", Want: []string{"e2"}},
		{Name: "date/open period is not within a month", Resources: encounters, Type: "Encounter",
			Query: "date=2013-01", Want: []string{"e1"}},
		{Name: "date/month value not within a day", Resources: conditions, Type: "Condition",
			Query: "onset-date=2010-06-15", Want: nil},
		{Name: "date/month value within a year", Resources: conditions, Type: "Condition",
			Query: "onset-date=2010", Want: []string{"c1"}},
		{Name: "date/day value", Resources: orders, Type: "MedicationRequest",
			Query: "authoredon=le2013-01-01", Want: []string{"m2"}},
	}
}

func numberCases() []searchCase {
	return []searchCase{
		{Name: "number/eq", Resources: risks, Type: "RiskAssessment",
			Query: "probability=0.25", Want: []string{"r25"}},
		{Name: "number/eq includes the low end of the precision", Resources: risks, Type: "RiskAssessment",
			Query: "probability=0.3", Want: []string{"r25"}},
		{Name: "number/eq excludes the high end of the precision", Resources: risks, Type: "RiskAssessment",
			Query: "probability=0.2", Want: nil},
		{Name: "number/eq more precise", Resources: risks, Type: "RiskAssessment",
			Query: "probability=0.250", Want: []string{"r25"}},
		{Name: "number/exponent", Resources: risks, Type: "RiskAssessment",
			Query: "probability=1e-1", Want: []string{"r10"}},
		{Name: "number/ne", Resources: risks, Type: "RiskAssessment",
			Query: "probability=ne0.25", Want: []string{"r10", "r50", "r80", "r-range"}},
		{Name: "number/gt", Resources: risks, Type: "RiskAssessment",
			Query: "probability=gt0.25", Want: []string{"r50", "r80", "r-range"}},
		{Name: "number/lt", Resources: risks, Type: "RiskAssessment",
			Query: "probability=lt0.25", Want: []string{"r10", "r-range"}},
		{Name: "number/ge", Resources: risks, Type: "RiskAssessment",
			Query: "probability=ge0.25", Want: []string{"r25", "r50", "r80", "r-range"}},
		{Name: "number/le", Resources: risks, Type: "RiskAssessment",
			Query: "probability=le0.25", Want: []string{"r10", "r25", "r-range"}},
		{Name: "number/sa", Resources: risks, Type: "RiskAssessment",
			Query: "probability=sa0.25", Want: []string{"r50", "r80"}},
		{Name: "number/eb", Resources: risks, Type: "RiskAssessment",
			Query: "probability=eb0.25", Want: []string{"r10"}},
		{Name: "number/ap", Resources: risks, Type: "RiskAssessment",
			Query: "probability=ap0.75", Want: []string{"r80"}},
		{Name: "number/ap no match", Resources: risks, Type: "RiskAssessment",
			Query: "probability=ap0.65", Want: nil},
		{Name: "number/or", Resources: risks, Type: "RiskAssessment",
			Query: "probability=0.5,0.8", Want: []string{"r50", "r80"}},
		{Name: "quantity/mg value found in g", Resources: quantities, Type: "Observation",
			Query: "value-quantity=0.25|http://unitsofmeasure.org|g", Want: []string{"q-mg"}},
		{Name: "quantity/g value found in mg", Resources: quantities, Type: "Observation",
			Query: "value-quantity=500|http://unitsofmeasure.org|mg", Want: []string{"q-g"}},
		{Name: "quantity/kg value found in g", Resources: quantities, Type: "Observation",
			Query: "value-quantity=70000|http://unitsofmeasure.org|g", Want: []string{"q-kg"}},
		{Name: "quantity/other unit dimension", Resources: quantities, Type: "Observation",
			Query: "value-quantity=0.25|http://unitsofmeasure.org|L", Want: nil},
		{Name: "quantity/code in any system", Resources: quantities, Type: "Observation",
			Query: "value-quantity=250||mg", Want: []string{"q-mg", "q-local"}},
		{Name: "quantity/local system", Resources: quantities, Type: "Observation",
			Query: "value-quantity=250|http://acme.example.org/units|mg", Want: []string{"q-local"}},
		{Name: "quantity/unconverted unit", Resources: quantities, Type: "Observation",
			Query: "value-quantity=120|http://unitsofmeasure.org|mm[Hg]", Want: []string{"q-mmhg"}},
		{Name: "quantity/human unit", Resources: quantities, Type: "Observation",
			Query: "value-quantity=5.4||mmol/L", Want: []string{"q-unit"}},
		{Name: "quantity/number alone", Resources: quantities, Type: "Observation",
			Query: "value-quantity=5.4", Want: []string{"q-unit"}},
		{Name: "quantity/number alone is irrespective of the unit", Resources: quantities, Type: "Observation",
			Query: "value-quantity=250", Want: []string{"q-mg", "q-local"}},
		{Name: "quantity/number alone with a prefix uses the number as written", Resources: quantities, Type: "Observation",
			Query: "value-quantity=gt200", Want: []string{"q-mg", "q-local"}},
		{Name: "quantity/gt across units", Resources: quantities, Type: "Observation",
			Query: "value-quantity=gt0.1|http://unitsofmeasure.org|g", Want: []string{"q-mg", "q-g", "q-kg"}},
		{Name: "quantity/lt in kg", Resources: quantities, Type: "Observation",
			Query: "value-quantity=lt1|http://unitsofmeasure.org|kg", Want: []string{"q-mg", "q-g"}},
		{Name: "quantity/ne keeps the unit", Resources: quantities, Type: "Observation",
			Query: "value-quantity=ne0.5|http://unitsofmeasure.org|g", Want: []string{"q-mg", "q-kg"}},
		{Name: "quantity/ap", Resources: quantities, Type: "Observation",
			Query: "value-quantity=ap75|http://unitsofmeasure.org|kg", Want: []string{"q-kg"}},
		{Name: "quantity/age in months", Resources: conditions, Type: "Condition",
			Query: "onset-age=48||mo", Want: []string{"c2"}},
		{Name: "quantity/age no match", Resources: conditions, Type: "Condition",
			Query: "onset-age=5|http://unitsofmeasure.org|a", Want: nil},
	}
}

func uriAndMissingCases() []searchCase {
	return []searchCase{
		{Name: "uri/exact", Resources: patients, Type: "Patient",
			Query: "_profile=http://example.org/fhir/StructureDefinition/vip-patient", Want: []string{"p1"}},
		{Name: "uri/no prefix match", Resources: patients, Type: "Patient",
			Query: "_profile=http://example.org/fhir/StructureDefinition/vip", Want: nil},
		{Name: "uri/missing", Resources: patients, Type: "Patient",
			Query: "_profile:missing=true", Want: []string{"p2", "p3", "p4", "p5", "p6"}},
		{Name: "missing/string true", Resources: patients, Type: "Patient",
			Query: "family:missing=true", Want: []string{"p6"}},
		{Name: "missing/string false", Resources: patients, Type: "Patient",
			Query: "family:missing=false", Want: []string{"p1", "p2", "p3", "p4", "p5"}},
		{Name: "missing/token true", Resources: patients, Type: "Patient",
			Query: "gender:missing=true", Want: []string{"p3"}},
		{Name: "missing/token false", Resources: patients, Type: "Patient",
			Query: "gender:missing=false", Want: []string{"p1", "p2", "p4", "p5", "p6"}},
		{Name: "missing/reference true", Resources: patients, Type: "Patient",
			Query: "general-practitioner:missing=true", Want: []string{"p2", "p4", "p5", "p6"}},
		{Name: "missing/reference false", Resources: patients, Type: "Patient",
			Query: "general-practitioner:missing=false", Want: []string{"p1", "p3"}},
		{Name: "missing/date", Resources: patients, Type: "Patient",
			Query: "birthdate:missing=true", Want: []string{"p6"}},
		{Name: "missing/number", Resources: risks, Type: "RiskAssessment",
			Query: "probability:missing=true", Want: []string{"r-none"}},
		{Name: "missing/quantity", Resources: quantities, Type: "Observation",
			Query: "value-quantity:missing=true", Want: []string{"q-none"}},
		{Name: "missing/and a value", Resources: patients, Type: "Patient",
			Query: "gender:missing=false&birthdate=2013", Want: []string{"p4"}},
		{Name: "missing/takes true or false", Resources: patients, Type: "Patient",
			Query: "gender:missing=yes", WantErrParam: "gender:missing"},
	}
}

func metaCases() []searchCase {
	return []searchCase{
		{Name: "_id", Resources: patients, Type: "Patient",
			Query: "_id=p3", Want: []string{"p3"}},
		{Name: "_id/or", Resources: patients, Type: "Patient",
			Query: "_id=p5,p2,nope", Want: []string{"p2", "p5"}},
		{Name: "_id/and", Resources: patients, Type: "Patient",
			Query: "_id=p1,p2&_id=p2,p3", Want: []string{"p2"}},
		{Name: "_id/and disjoint", Resources: patients, Type: "Patient",
			Query: "_id=p1&_id=p3", Want: nil},
		{Name: "_id/absent", Resources: patients, Type: "Patient",
			Query: "_id=p7", Want: nil},
		{Name: "_id/other type", Resources: join(patients, labs), Type: "Observation",
			Query: "_id=p1", Want: nil},
		{Name: "_id/with another clause", Resources: patients, Type: "Patient",
			Query: "_id=p1,p2,p3&gender=female", Want: []string{"p2"}},
		{Name: "_lastUpdated/day", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=2024-03-02", Want: []string{"p2"}},
		{Name: "_lastUpdated/month", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=2024-03", Want: []string{"p1", "p2", "p3", "p4", "p5", "p6"}},
		{Name: "_lastUpdated/ge", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=ge2024-03-04", Want: []string{"p4", "p5", "p6"}},
		{Name: "_lastUpdated/lt", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=lt2024-03-03", Want: []string{"p1", "p2"}},
		{Name: "_lastUpdated/gt excludes the same second", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=gt2024-03-02T09:00:00Z", Want: []string{"p3", "p4", "p5", "p6"}},
		{Name: "_lastUpdated/le includes the same second", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=le2024-03-02T09:00:00Z", Want: []string{"p1", "p2"}},
		{Name: "_lastUpdated/ne", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=ne2024-03-02", Want: []string{"p1", "p3", "p4", "p5", "p6"}},
		{Name: "_lastUpdated/sa and eb", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=sa2024-03-02&_lastUpdated=eb2024-03-05", Want: []string{"p3", "p4"}},
		{Name: "_lastUpdated/none after", Resources: patients, Type: "Patient",
			Query: "_lastUpdated=gt2024-03-06", Want: nil},
		{Name: "_lastUpdated/moves on update", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMullins, `"Anna"`, `"Anne"`))},
			Query: "_lastUpdated=ge2024-03-07", Want: []string{"p2"}},
	}
}

// Paging and sorting run on six patients whose rid order (p1..p6) is not
// the order of any parameter.
func resultCases() []searchCase {
	shuffled := []string{pSmithers, pMullins, pAnon, pMuller, pOstergaard, pSmith}
	return []searchCase{
		{Name: "order/insertion without _sort", Resources: shuffled, Type: "Patient",
			Query: "", Want: []string{"p4", "p2", "p6", "p1", "p5", "p3"}},
		{Name: "sort/_id", Resources: shuffled, Type: "Patient",
			Query: "_sort=_id", Want: []string{"p1", "p2", "p3", "p4", "p5", "p6"}},
		{Name: "sort/-_id", Resources: shuffled, Type: "Patient",
			Query: "_sort=-_id", Want: []string{"p6", "p5", "p4", "p3", "p2", "p1"}},
		{Name: "sort/_lastUpdated", Resources: shuffled, Type: "Patient",
			Query: "_sort=_lastUpdated", Want: []string{"p4", "p2", "p6", "p1", "p5", "p3"}},
		{Name: "sort/-_lastUpdated", Resources: shuffled, Type: "Patient",
			Query: "_sort=-_lastUpdated", Want: []string{"p3", "p5", "p1", "p6", "p2", "p4"}},
		{Name: "sort/-_lastUpdated after an update", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pSmith, `"Jacob"`, `"Jakob"`))},
			Query: "_sort=-_lastUpdated", Want: []string{"p3", "p6", "p5", "p4", "p2", "p1"}},
		{Name: "sort/birthdate across precisions, missing last", Resources: shuffled, Type: "Patient",
			Query: "_sort=birthdate", Want: []string{"p1", "p2", "p5", "p4", "p3", "p6"}},
		{Name: "sort/-birthdate, missing last", Resources: shuffled, Type: "Patient",
			Query: "_sort=-birthdate", Want: []string{"p3", "p4", "p5", "p2", "p1", "p6"}},
		{Name: "sort/family normalised", Resources: shuffled, Type: "Patient",
			Query: "_sort=family", Want: []string{"p1", "p2", "p5", "p3", "p4", "p6"}},
		{Name: "sort/two keys", Resources: shuffled, Type: "Patient",
			Query: "_sort=gender,-birthdate", Want: []string{"p4", "p2", "p1", "p5", "p6", "p3"}},
		{Name: "sort/with a filter", Resources: shuffled, Type: "Patient",
			Query: "_sort=-family&family=smi,mul", Want: []string{"p4", "p3", "p2", "p1"}},
		{Name: "sort/token then -_id", Resources: labs, Type: "Observation",
			Query: "_sort=status,-_id", Want: []string{"o-text", "o-dangling", "o-ident", "o-hba1c", "o-glu", "o-ext", "o-local"}},
		{Name: "sort/number", Resources: risks, Type: "RiskAssessment",
			Query: "_sort=-probability&probability:missing=false", Want: []string{"r80", "r50", "r25", "r-range", "r10"}},
		{Name: "page/insertion order", Resources: shuffled, Type: "Patient",
			Query: "_count=2", Page: true, WantPages: 3, Want: []string{"p4", "p2", "p6", "p1", "p5", "p3"}},
		{Name: "page/first page only", Resources: shuffled, Type: "Patient",
			Query: "_count=2", Want: []string{"p4", "p2"}},
		{Name: "page/_id", Resources: shuffled, Type: "Patient",
			Query: "_count=4&_sort=_id", Page: true, WantPages: 2, Want: []string{"p1", "p2", "p3", "p4", "p5", "p6"}},
		{Name: "page/-_id one per page", Resources: shuffled, Type: "Patient",
			Query: "_count=1&_sort=-_id", Page: true, WantPages: 6, Want: []string{"p6", "p5", "p4", "p3", "p2", "p1"}},
		{Name: "page/-_lastUpdated", Resources: shuffled, Type: "Patient",
			Query: "_count=4&_sort=-_lastUpdated", Page: true, WantPages: 2, Want: []string{"p3", "p5", "p1", "p6", "p2", "p4"}},
		{Name: "page/sorted in memory", Resources: shuffled, Type: "Patient",
			Query: "_count=4&_sort=birthdate", Page: true, WantPages: 2, Want: []string{"p1", "p2", "p5", "p4", "p3", "p6"}},
		{Name: "page/filtered", Resources: shuffled, Type: "Patient",
			Query: "_count=2&gender:not=male", Page: true, WantPages: 3, Want: []string{"p4", "p2", "p6", "p5", "p3"}},
		{Name: "page/exactly full", Resources: shuffled, Type: "Patient",
			Query: "_count=2&family=smi", Page: true, WantPages: 1, Want: []string{"p4", "p3"}},
		{Name: "page/candidates rejected after the last match", Resources: patients, Type: "Patient",
			Query: "_count=1&birthdate=2013-01", Page: true, WantPages: 1, Want: []string{"p3"}},
		{Name: "page/over a deletion", Resources: shuffled, Type: "Patient",
			Then:  []op{del("Patient/p6")},
			Query: "_count=2&_sort=_id", Page: true, WantPages: 3, Want: []string{"p1", "p2", "p3", "p4", "p5"}},
		{Name: "page/no matches", Resources: shuffled, Type: "Patient",
			Query: "_count=2&family=nobody", Page: true, WantPages: 1, Want: nil},
		{Name: "page/_lastUpdated ties in insertion order", Resources: shuffled, SameTime: true, Type: "Patient",
			Query: "_count=4&_sort=_lastUpdated", Page: true, WantPages: 2, Want: []string{"p4", "p2", "p6", "p1", "p5", "p3"}},
		{Name: "page/-_lastUpdated ties in reverse insertion order", Resources: shuffled, SameTime: true, Type: "Patient",
			Query: "_count=4&_sort=-_lastUpdated", Page: true, WantPages: 2, Want: []string{"p3", "p5", "p1", "p6", "p2", "p4"}},
		{Name: "page/sparse matches across store batches", Resources: sparsePatients(150, 25), Type: "Patient",
			Query: "_count=2&birthdate=2013-01", Page: true, WantPages: 3, Want: sparseIDs(150, 25)},
		{Name: "page/sparse matches across store batches by _id", Resources: sparsePatients(150, 25), Type: "Patient",
			Query: "_count=2&birthdate=2013-01&_sort=-_id", Page: true, WantPages: 3, Want: reversed(sparseIDs(150, 25))},
		{Name: "page/more than a store batch", Resources: manyPatients(60), Type: "Patient",
			Query: "_count=7&gender=female", Page: true, WantPages: 5, Want: evenPatients(60)},
		{Name: "total/accurate from tokens", Resources: shuffled, Type: "Patient",
			Query: "gender=female&_total=accurate", Want: []string{"p4", "p2"}, WantTotal: total(2)},
		{Name: "total/accurate after checks", Resources: shuffled, Type: "Patient",
			Query: "birthdate=2013-01&_total=accurate", Want: []string{"p3"}, WantTotal: total(1)},
		{Name: "total/accurate with paging", Resources: shuffled, Type: "Patient",
			Query: "_count=2&_total=accurate", Want: []string{"p4", "p2"}, WantTotal: total(6)},
		{Name: "total/accurate sorted in memory", Resources: shuffled, Type: "Patient",
			Query: "_count=1&_sort=family&_total=accurate", Want: []string{"p1"}, WantTotal: total(6)},
		{Name: "total/accurate of :not", Resources: shuffled, Type: "Patient",
			Query: "gender:not=male&_total=accurate&_count=1", Want: []string{"p4"}, WantTotal: total(5)},
		{Name: "total/accurate of :contains", Resources: shuffled, Type: "Patient",
			Query: "family:contains=ith&_total=accurate", Want: []string{"p4", "p3"}, WantTotal: total(2)},
		{Name: "total/accurate of :text", Resources: labs, Type: "Observation",
			Query: "code:text=blood&_total=accurate&_count=1", Want: []string{"o-glu"}, WantTotal: total(3)},
		{Name: "total/accurate of :missing", Resources: shuffled, Type: "Patient",
			Query: "general-practitioner:missing=true&_total=accurate", Want: []string{"p4", "p2", "p6", "p5"}, WantTotal: total(4)},
		{Name: "total/none by default", Resources: shuffled, Type: "Patient",
			Query: "gender=female", Want: []string{"p4", "p2"}, WantTotal: total(-1)},
		{Name: "total/_count=0", Resources: shuffled, Type: "Patient",
			Query: "_count=0&_total=accurate", Want: nil, WantTotal: total(6)},
		{Name: "summary/count", Resources: shuffled, Type: "Patient",
			Query: "_summary=count", Want: nil, WantTotal: total(6)},
		{Name: "summary/count of a filter", Resources: shuffled, Type: "Patient",
			Query: "_summary=count&family=smith", Want: nil, WantTotal: total(2)},
		{Name: "summary/count nothing", Resources: shuffled, Type: "Patient",
			Query: "_summary=count&family=nobody", Want: nil, WantTotal: total(0)},
	}
}

// manyPatients returns n patients pm000..., female when their number is
// even.
func manyPatients(n int) []string {
	out := make([]string, n)
	for i := range out {
		g := "male"
		if i%2 == 0 {
			g = "female"
		}
		out[i] = `{"resourceType":"Patient","id":"pm` + pad3(i) + `","gender":"` + g + `"}`
	}
	return out
}

// sparsePatients returns n patients ps000..., born on 2013-01-14 when
// their number is a multiple of every, else in 2013 (a year: a candidate
// for a search on January 2013, then rejected).
func sparsePatients(n, every int) []string {
	out := make([]string, n)
	for i := range out {
		born := "2013"
		if i%every == 0 {
			born = "2013-01-14"
		}
		out[i] = `{"resourceType":"Patient","id":"ps` + pad3(i) + `","birthDate":"` + born + `"}`
	}
	return out
}

func sparseIDs(n, every int) []string {
	var out []string
	for i := 0; i < n; i += every {
		out = append(out, "ps"+pad3(i))
	}
	return out
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func evenPatients(n int) []string {
	var out []string
	for i := 0; i < n; i += 2 {
		out = append(out, "pm"+pad3(i))
	}
	return out
}

func pad3(i int) string {
	return string([]byte{byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)})
}

func includeCases() []searchCase {
	world := join(staff, patients, labs)
	return []searchCase{
		{Name: "include/subject", Resources: world, Type: "Observation",
			Query: "_id=o-glu&_include=Observation:subject", Want: []string{"o-glu"},
			WantIncluded: []string{"Patient/p1"}},
		{Name: "include/each once, dangling and external left out", Resources: world, Type: "Observation",
			Query:        "code=2339-0&_include=Observation:subject:Patient&_include=Observation:performer",
			Want:         []string{"o-glu", "o-local", "o-ext", "o-dangling"},
			WantIncluded: []string{"Patient/p1", "Patient/p3", "Practitioner/dr1"}},
		{Name: "include/absolute reference is not a local resource", Resources: join(world, []string{pExternalTwin}), Type: "Observation",
			Query: "_id=o-ext&_include=Observation:subject", Want: []string{"o-ext"}},
		{Name: "include/target type", Resources: world, Type: "Observation",
			Query: "subject=Patient/p2&_include=Observation:performer:Practitioner", Want: []string{"o-text"}},
		{Name: "include/several parameters", Resources: world, Type: "Patient",
			Query: "_id=p1&_include=Patient:general-practitioner&_include=Patient:organization", Want: []string{"p1"},
			WantIncluded: []string{"Practitioner/dr1", "Organization/org1"}},
		{Name: "include/shared target once", Resources: world, Type: "Patient",
			Query: "_id=p1,p2&_include=Patient:organization", Want: []string{"p1", "p2"},
			WantIncluded: []string{"Organization/org1"}},
		{Name: "include/not a match again", Resources: world, Type: "Observation",
			Query: "_id=o-text&_include=Observation:subject&_include=Observation:performer", Want: []string{"o-text"},
			WantIncluded: []string{"Patient/p2"}},
		{Name: "include/across pages", Resources: world, Type: "Observation",
			Query: "subject=Patient/p1&_count=1&_include=Observation:performer", Page: true,
			Want: []string{"o-glu", "o-hba1c"}, WantIncluded: []string{"Practitioner/dr1"}},
		{Name: "include/target type with nothing of it", Resources: world, Type: "Observation",
			Query: "_id=o-glu&_include=Observation:subject:Group", Want: []string{"o-glu"}},
		{Name: "revinclude/target type", Resources: world, Type: "Patient",
			Query: "_id=p2&_revinclude=Observation:subject:Patient", Want: []string{"p2"},
			WantIncluded: []string{"Observation/o-text"}},
		{Name: "revinclude/across pages", Resources: world, Type: "Patient",
			Query: "_id=p1,p2,p3&_count=2&_revinclude=Observation:subject", Page: true, Want: []string{"p1", "p2", "p3"},
			WantIncluded: []string{"Observation/o-glu", "Observation/o-hba1c", "Observation/o-text", "Observation/o-local"}},
		{Name: "include/deleted target", Resources: world, Type: "Patient",
			Then:  []op{del("Practitioner/dr1")},
			Query: "_id=p1&_include=Patient:general-practitioner", Want: []string{"p1"}},
		{Name: "include/nothing without matches", Resources: world, Type: "Patient",
			Query: "_id=p9&_include=Patient:general-practitioner", Want: nil},
		{Name: "revinclude", Resources: world, Type: "Patient",
			Query: "_id=p1&_revinclude=Observation:subject", Want: []string{"p1"},
			WantIncluded: []string{"Observation/o-glu", "Observation/o-hba1c"}},
		{Name: "revinclude/several sources", Resources: join(world, conditions, encounters), Type: "Patient",
			Query: "family=smith&_revinclude=Observation:patient&_revinclude=Condition:subject&_revinclude=Encounter:subject",
			Want:  []string{"p3", "p4"}, WantIncluded: []string{"Observation/o-local", "Condition/c2", "Encounter/e3"}},
		{Name: "revinclude/practitioner", Resources: join(staff, encounters, orders), Type: "Practitioner",
			Query: "family=house&_revinclude=Encounter:participant&_revinclude=MedicationRequest:requester",
			Want:  []string{"dr1"}, WantIncluded: []string{"Encounter/e1", "MedicationRequest/m1"}},
		{Name: "revinclude/deleted source", Resources: world, Type: "Patient",
			Then:  []op{del("Observation/o-hba1c")},
			Query: "_id=p1&_revinclude=Observation:subject", Want: []string{"p1"},
			WantIncluded: []string{"Observation/o-glu"}},
		{Name: "revinclude/moved reference", Resources: world, Type: "Patient",
			Then:  []op{put1(replace(oHbA1c, `"Patient/p1"`, `"Patient/p2"`))},
			Query: "_id=p2&_revinclude=Observation:subject", Want: []string{"p2"},
			WantIncluded: []string{"Observation/o-hba1c", "Observation/o-text"}},
	}
}

func chainCases() []searchCase {
	world := join(staff, patients, labs, encounters)
	return []searchCase{
		{Name: "chain/typed", Resources: world, Type: "Observation",
			Query: "subject:Patient.name=muller", Want: []string{"o-glu", "o-hba1c"}},
		{Name: "chain/untyped", Resources: world, Type: "Observation",
			Query: "subject.family=smith", Want: []string{"o-local"}},
		{Name: "chain/token", Resources: world, Type: "Observation",
			Query: "subject:Patient.gender=female", Want: []string{"o-text"}},
		{Name: "chain/identifier", Resources: world, Type: "Observation",
			Query: "subject.identifier=http://hospital.example.org/mrn|MRN-001", Want: []string{"o-glu", "o-hba1c"}},
		{Name: "chain/or in the inner value", Resources: world, Type: "Observation",
			Query: "subject:Patient.family=mullins,smith", Want: []string{"o-local", "o-text"}},
		{Name: "chain/and with a plain clause", Resources: world, Type: "Observation",
			Query: "subject:Patient.family=muller&code=4548-4", Want: []string{"o-hba1c"}},
		{Name: "chain/no target", Resources: world, Type: "Observation",
			Query: "subject.family=nobody", Want: nil},
		{Name: "chain/target without referrers", Resources: world, Type: "Observation",
			Query: "subject:Patient.family=smithers", Want: nil},
		{Name: "chain/practitioner", Resources: world, Type: "Encounter",
			Query: "participant:Practitioner.family=quinn", Want: []string{"e2"}},
		{Name: "chain/organization", Resources: world, Type: "Patient",
			Query: "organization.name=princeton", Want: []string{"p1", "p2"}},
		{Name: "chain/deleted target", Resources: world, Type: "Observation",
			Then:  []op{del("Patient/p1")},
			Query: "subject:Patient.family=muller", Want: nil},
		{Name: "chain/updated target", Resources: world, Type: "Observation",
			Then:  []op{put1(replace(pMullins, `"Mullins"`, `"Muller"`))},
			Query: "subject:Patient.family=muller&_sort=_id", Want: []string{"o-glu", "o-hba1c", "o-text"}},
		{Name: "chain/summary count", Resources: world, Type: "Observation",
			Query: "subject:Patient.family=muller&_summary=count", Want: nil, WantTotal: total(2)},
	}
}

func compartmentCases() []searchCase {
	world := join(staff, patients, labs, encounters, conditions, orders)
	return []searchCase{
		{Name: "compartment/patient observations", Resources: world, Type: "Observation",
			Compartment: &index.Compartment{Type: "Patient", ID: "p1"},
			Query:       "", Want: []string{"o-glu", "o-hba1c"}},
		{Name: "compartment/subject and performer once", Resources: world, Type: "Observation",
			Compartment: &index.Compartment{Type: "Patient", ID: "p2"},
			Query:       "", Want: []string{"o-text"}},
		{Name: "compartment/with a filter", Resources: world, Type: "Observation",
			Compartment: &index.Compartment{Type: "Patient", ID: "p1"},
			Query:       "code=http://loinc.org|4548-4", Want: []string{"o-hba1c"}},
		{Name: "compartment/filter outside it", Resources: world, Type: "Observation",
			Compartment: &index.Compartment{Type: "Patient", ID: "p1"},
			Query:       "code=http://acme.example.org/codes|2339-0", Want: nil},
		{Name: "compartment/encounters", Resources: world, Type: "Encounter",
			Compartment: &index.Compartment{Type: "Patient", ID: "p2"},
			Query:       "", Want: []string{"e2"}},
		{Name: "compartment/conditions and orders", Resources: world, Type: "MedicationRequest",
			Compartment: &index.Compartment{Type: "Patient", ID: "p3"},
			Query:       "_count=5", Want: []string{"m2"}},
		{Name: "compartment/practitioner", Resources: world, Type: "Encounter",
			Compartment: &index.Compartment{Type: "Practitioner", ID: "dr1"},
			Query:       "", Want: []string{"e1"}},
		{Name: "compartment/empty", Resources: world, Type: "Condition",
			Compartment: &index.Compartment{Type: "Patient", ID: "p6"},
			Query:       "", Want: nil},
		{Name: "compartment/paged with a total", Resources: world, Type: "Observation",
			Compartment: &index.Compartment{Type: "Patient", ID: "p1"},
			Query:       "_count=1&_total=accurate", Page: true, WantPages: 2, Want: []string{"o-glu", "o-hba1c"}, WantTotal: total(2)},
		{Name: "compartment/of a patient that does not exist", Resources: world, Type: "Observation",
			Compartment: &index.Compartment{Type: "Patient", ID: "ghost"},
			Query:       "", Want: []string{"o-dangling"}},
		{Name: "compartment/type not in it", Resources: world, Type: "Organization",
			Compartment: &index.Compartment{Type: "Patient", ID: "p1"},
			Query:       "", WantErrParam: "Patient"},
	}
}

func consistencyCases() []searchCase {
	return []searchCase{
		{Name: "deleted/not found by its values", Resources: labs, Type: "Observation",
			Then:  []op{del("Observation/o-glu")},
			Query: "code=http://loinc.org|2339-0", Want: []string{"o-ext", "o-dangling"}},
		{Name: "deleted/not found by _id", Resources: labs, Type: "Observation",
			Then:  []op{del("Observation/o-glu")},
			Query: "_id=o-glu", Want: nil},
		{Name: "deleted/not found by type", Resources: patients, Type: "Patient",
			Then:  []op{del("Patient/p2"), del("Patient/p5")},
			Query: "", Want: []string{"p1", "p3", "p4", "p6"}},
		{Name: "deleted/not found by :not or :missing", Resources: patients, Type: "Patient",
			Then:  []op{del("Patient/p3"), del("Patient/p6")},
			Query: "gender:not=male", Want: []string{"p2", "p4", "p5"}},
		{Name: "deleted/not found by :missing=true", Resources: patients, Type: "Patient",
			Then:  []op{del("Patient/p3")},
			Query: "gender:missing=true", Want: nil},
		{Name: "deleted/not counted", Resources: labs, Type: "Observation",
			Then:  []op{del("Observation/o-glu")},
			Query: "code=2339-0&_total=accurate", Want: []string{"o-local", "o-ext", "o-dangling"}, WantTotal: total(3)},
		{Name: "deleted/not in _lastUpdated", Resources: patients, Type: "Patient",
			Then:  []op{del("Patient/p1")},
			Query: "_lastUpdated=ge2024-03-07", Want: nil},
		{Name: "deleted/recreated with new values", Resources: patients, Type: "Patient",
			Then:  []op{del("Patient/p2"), put1(replace(pMullins, `"Mullins"`, `"Newman"`))},
			Query: "family=newman,mullins", Want: []string{"p2"}},
		{Name: "updated/string old value gone", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMuller, `"Müller"`, `"Meyer"`))},
			Query: "family=muller", Want: nil},
		{Name: "updated/string new value found", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMuller, `"Müller"`, `"Meyer"`))},
			Query: "family=meyer", Want: []string{"p1"}},
		{Name: "updated/contains old value gone", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMuller, `"Müller"`, `"Meyer"`))},
			Query: "family:contains=lle", Want: nil},
		{Name: "updated/token keeps the first position", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMuller, `"male"`, `"female"`))},
			Query: "gender=female", Want: []string{"p1", "p2", "p4"}},
		{Name: "updated/token old value gone", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMuller, `"male"`, `"female"`))},
			Query: "gender=male", Want: nil},
		{Name: "updated/date", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pSmith, `"2013-01-14"`, `"2001-07-04"`))},
			Query: "birthdate=2013-01-14", Want: nil},
		{Name: "updated/date new value", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pSmith, `"2013-01-14"`, `"2001-07-04"`))},
			Query: "birthdate=2001", Want: []string{"p3"}},
		{Name: "updated/element removed is missing", Resources: patients, Type: "Patient",
			Then:  []op{put1(replace(pMuller, `"gender":"male",`, ``))},
			Query: "gender:missing=true", Want: []string{"p1", "p3"}},
		{Name: "updated/several times, last values only", Resources: patients, Type: "Patient",
			Then: []op{
				put1(replace(pMuller, `"Müller"`, `"Meyer"`)),
				put1(replace(pMuller, `"Müller"`, `"Maier"`)),
				put1(replace(pMuller, `"Müller"`, `"Mayr"`)),
			},
			Query: "family=meyer,maier,muller,mayr&_total=accurate", Want: []string{"p1"}, WantTotal: total(1)},
		{Name: "updated/number", Resources: risks, Type: "RiskAssessment",
			Then:  []op{put1(risk("r10", `{"probabilityDecimal":0.9}`))},
			Query: "probability=lt0.2,gt0.85", Want: []string{"r10"}},
		{Name: "updated/number old value gone", Resources: risks, Type: "RiskAssessment",
			Then:  []op{put1(risk("r10", `{"probabilityDecimal":0.9}`))},
			Query: "probability=0.1", Want: nil},
		{Name: "updated/reference", Resources: labs, Type: "Observation",
			Then:  []op{put1(replace(oGlucose, `"Patient/p1"`, `"Patient/p2"`))},
			Query: "subject=Patient/p1", Want: []string{"o-hba1c"}},
		{Name: "tenant/other tenant's resources never found", Resources: []string{pMuller},
			OtherTenant: []string{replace(pMullins, `"Mullins"`, `"Müller"`), replace(pSmith, `"p3"`, `"p1x"`)},
			Type:        "Patient", Query: "family=muller,smith", Want: []string{"p1"}},
		{Name: "tenant/other tenant's referrers never revincluded", Resources: []string{pMuller, oGlucose},
			OtherTenant: []string{replace(oHbA1c, `"o-hba1c"`, `"o-other"`)},
			Type:        "Patient", Query: "_id=p1&_revinclude=Observation:subject", Want: []string{"p1"},
			WantIncluded: []string{"Observation/o-glu"}},
		{Name: "tenant/other tenant's targets never chained", Resources: []string{pMuller, replace(oHbA1c, `"Patient/p1"`, `"Patient/p9"`)},
			OtherTenant: []string{replace(pMuller, `"p1"`, `"p9"`)},
			Type:        "Observation", Query: "subject:Patient.family=muller", Want: nil},
		{Name: "tenant/other tenant's targets never included", Resources: []string{replace(oHbA1c, `"Patient/p1"`, `"Patient/p9"`)},
			OtherTenant: []string{replace(pMuller, `"p1"`, `"p9"`)},
			Type:        "Observation", Query: "_include=Observation:subject", Want: []string{"o-hba1c"}},
		{Name: "tenant/other tenant's ids never found", Resources: []string{pMuller},
			OtherTenant: []string{pMullins},
			Type:        "Patient", Query: "_id=p1,p2&_total=accurate", Want: []string{"p1"}, WantTotal: total(1)},
	}
}

func errorCases() []searchCase {
	r := []string{pMuller}
	e := func(name, typ, query, param string) searchCase {
		return searchCase{Name: "error/" + name, Resources: r, Type: typ, Query: query, WantErrParam: param}
	}
	return []searchCase{
		e("unknown parameter", "Patient", "colour=blue", "colour"),
		e("unknown parameter among known ones", "Patient", "family=muller&colour=blue", "colour"),
		e("unknown modifier", "Patient", "family:fuzzy=muller", "family:fuzzy"),
		e("modifier not for the type", "Patient", "gender:exact=male", "gender:exact"),
		e("modifier not supported", "Observation", "code:below=http://loinc.org|2339-0", "code:below"),
		e("type modifier not a target", "Observation", "subject:Medication=m1", "subject:Medication"),
		e("bad date", "Patient", "birthdate=2013-13", "birthdate"),
		e("bad day", "Patient", "birthdate=2013-02-30", "birthdate"),
		e("bad date prefix", "Patient", "birthdate=xx2013", "birthdate"),
		e("prefix without a date", "Patient", "birthdate=ge", "birthdate"),
		e("bad _lastUpdated", "Patient", "_lastUpdated=yesterday", "_lastUpdated"),
		e("bad number", "RiskAssessment", "probability=high", "probability"),
		e("bad number prefix", "RiskAssessment", "probability=zz0.5", "probability"),
		e("bad quantity", "Observation", "value-quantity=5|http://unitsofmeasure.org|", "value-quantity"),
		e("bad token", "Patient", "identifier=a|b|c", "identifier"),
		e("bad reference type", "Observation", "subject=Medication/m1", "subject"),
		e("bad reference", "Observation", "subject=Patient/", "subject"),
		e("bad _id", "Patient", "_id=p1|p2", "_id"),
		e("empty value in a list", "Patient", "gender=male,", "gender"),
		e("chain too deep", "Observation", "subject.organization.name=ppth", "subject.organization.name"),
		e("chain on a token", "Observation", "code.name=x", "code.name"),
		e("chain to an unknown parameter", "Observation", "subject.colour=blue", "subject.colour"),
		e("composite parameter", "Observation", "code-value-quantity=2339-0$gt5", "code-value-quantity"),
		e("_has", "Patient", "_has:Observation:patient:code=2339-0", "_has:Observation:patient:code"),
		e("_count too large", "Patient", "_count=1001", "_count"),
		e("_count negative", "Patient", "_count=-1", "_count"),
		e("_sort unknown", "Patient", "_sort=colour", "_sort"),
		e("_sort repeated", "Patient", "_sort=_id&_sort=family", "_sort"),
		e("_total", "Patient", "_total=all", "_total"),
		e("_summary", "Patient", "_summary=true", "_summary"),
		e("_cursor", "Patient", "_cursor=abc", "_cursor"),
		e("_include of another type", "Observation", "_include=Patient:general-practitioner", "_include"),
		e("_include of a token", "Observation", "_include=Observation:code", "_include"),
		e("_include:iterate", "Observation", "_include:iterate=Observation:subject", "_include:iterate"),
		e("_revinclude to another type", "Patient", "_revinclude=Observation:performer:Practitioner", "_revinclude"),
		e("_id:not", "Patient", "_id:not=p1", "_id"),
		{Name: "error/unknown type", Resources: r, Type: "Patent", Query: "family=muller", WantErr: true},
		{Name: "lenient/unknown parameter ignored", Resources: patients, Type: "Patient", Lenient: true,
			Query: "colour=blue&family=smith", Want: []string{"p3", "p4"}, WantIgnored: []string{"colour"}},
		{Name: "lenient/unknown modifier ignored", Resources: patients, Type: "Patient", Lenient: true,
			Query: "family:fuzzy=x&gender=female", Want: []string{"p2", "p4"}, WantIgnored: []string{"family:fuzzy"}},
		{Name: "lenient/unknown chained parameter ignored", Resources: labs, Type: "Observation", Lenient: true,
			Query: "subject.colour=blue&code=8867-4", Want: []string{"o-ident"}, WantIgnored: []string{"subject.colour"}},
		{Name: "lenient/several ignored", Resources: patients, Type: "Patient", Lenient: true,
			Query: "zeta=1&alpha=2&_count:x=3", Want: []string{"p1", "p2", "p3", "p4", "p5", "p6"},
			WantIgnored: []string{"_count:x", "alpha", "zeta"}},
		{Name: "lenient/malformed values still fail", Resources: patients, Type: "Patient", Lenient: true,
			Query: "colour=blue&birthdate=2013-13", WantErrParam: "birthdate"},
		{Name: "lenient/unsupported still fails", Resources: patients, Type: "Patient", Lenient: true,
			Query: "_has:Observation:patient:code=2339-0", WantErrParam: "_has:Observation:patient:code"},
	}
}
