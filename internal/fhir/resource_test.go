package fhir

import (
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustParse(t testing.TB, s string) *Resource {
	t.Helper()
	r, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func mustMarshal(t testing.TB, r *Resource) string {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAccessors(t *testing.T) {
	r := mustParse(t, `{"resourceType":"Patient","id":"p1","active":true}`)
	if r.Type() != "Patient" || r.ID() != "p1" {
		t.Errorf("Type, ID = %q, %q", r.Type(), r.ID())
	}
	r = mustParse(t, `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`)
	if r.Type() != "Observation" || r.ID() != "" {
		t.Errorf("Type, ID = %q, %q", r.Type(), r.ID())
	}
	var zero *Resource
	if zero.Type() != "" || zero.ID() != "" || zero.PatientIDs() != nil {
		t.Error("nil Resource accessors")
	}
	zero.SetID("x")
	zero.SetMeta("1", time.Now())
	zero.RewriteReferences(func(string) (string, bool) { return "", false })
	if _, err := zero.Marshal(); err == nil {
		t.Error("Marshal of nil Resource succeeded")
	}
	if _, err := zero.Bundle(); !errors.Is(err, ErrNotBundle) {
		t.Error("Bundle of nil Resource")
	}
}

func TestSetID(t *testing.T) {
	cases := []struct{ name, in, id, want string }{
		{"insert after resourceType", `{"resourceType":"Patient","active":true}`, "n1", `{"resourceType":"Patient","id":"n1","active":true}`},
		{"replace in place", `{"resourceType":"Patient","active":true,"id":"old"}`, "n1", `{"resourceType":"Patient","active":true,"id":"n1"}`},
		{"remove", `{"resourceType":"Patient","id":"old","active":true}`, "", `{"resourceType":"Patient","active":true}`},
		{"remove absent", `{"resourceType":"Patient","active":true}`, "", `{"resourceType":"Patient","active":true}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustParse(t, tc.in)
			r.SetID(tc.id)
			if got := mustMarshal(t, r); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if r.ID() != tc.id {
				t.Errorf("ID() = %q", r.ID())
			}
		})
	}
}

func TestSetMeta(t *testing.T) {
	at := time.Date(2024, 3, 5, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	const lu = `"lastUpdated":"2024-03-05T06:08:09.123Z"`
	cases := []struct{ name, in, version, want string }{
		{"new meta after id", `{"resourceType":"Patient","id":"p","active":true}`, "1",
			`{"resourceType":"Patient","id":"p","meta":{"versionId":"1",` + lu + `},"active":true}`},
		{"new meta without id", `{"resourceType":"Patient","active":true}`, "1",
			`{"resourceType":"Patient","meta":{"versionId":"1",` + lu + `},"active":true}`},
		{"keeps other meta", `{"resourceType":"Patient","meta":{"extension":[{"url":"http://e","valueString":"x"}],"source":"s","profile":["http://p"],"tag":[{"code":"t"}]}}`, "2",
			`{"resourceType":"Patient","meta":{"extension":[{"url":"http://e","valueString":"x"}],"versionId":"2",` + lu + `,"source":"s","profile":["http://p"],"tag":[{"code":"t"}]}}`},
		{"replaces existing", `{"resourceType":"Patient","meta":{"lastUpdated":"2000-01-01T00:00:00Z","versionId":"9","security":[{"code":"R"}]}}`, "10",
			`{"resourceType":"Patient","meta":{` + lu + `,"versionId":"10","security":[{"code":"R"}]}}`},
		{"empty version removes it", `{"resourceType":"Patient","meta":{"versionId":"9","source":"s"}}`, "",
			`{"resourceType":"Patient","meta":{` + lu + `,"source":"s"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mustParse(t, tc.in)
			r.SetMeta(tc.version, at)
			got := mustMarshal(t, r)
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if _, err := Parse([]byte(got)); err != nil {
				t.Errorf("output does not parse: %v", err)
			}
		})
	}
}

func TestPatientIDs(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"observation subject", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`, []string{"p1"}},
		{"observation subject and performers, history dropped, deduplicated", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
			"performer":[{"reference":"Practitioner/d"},{"reference":"Patient/p2/_history/3"},{"reference":"Patient/p1"}],
			"subject":{"reference":"Patient/p1"}}`, []string{"p1", "p2"}},
		{"observation group subject", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Group/g"}}`, nil},
		{"ignored reference forms", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
			"performer":[{"reference":"http://other/fhir/Patient/x"},{"reference":"#c"},{"reference":"urn:uuid:8f1b2c3d-0000-4000-8000-000000000000"},
			{"reference":"Patient?identifier=a|b"},{"reference":"Patient/"},{"display":"no reference"},{"reference":"Patient/a/b"}]}`, nil},
		{"encounter", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/e1"}}`, []string{"e1"}},
		{"patient with link", `{"resourceType":"Patient","id":"self","link":[{"other":{"reference":"Patient/other"},"type":"seealso"},{"other":{"reference":"RelatedPerson/r"},"type":"seealso"}]}`, []string{"self", "other"}},
		{"patient without id", `{"resourceType":"Patient","active":true}`, nil},
		{"outside the compartment", `{"resourceType":"Organization","id":"o","partOf":{"reference":"Patient/p1"}}`, nil},
		{"nested path", `{"resourceType":"Appointment","status":"booked","participant":[{"actor":{"reference":"Practitioner/d"},"status":"accepted"},{"actor":{"reference":"Patient/a1"},"status":"accepted"}]}`, []string{"a1"}},
		{"union expression", `{"resourceType":"AuditEvent","type":{"code":"x"},"recorded":"2020-01-01T00:00:00Z","source":{"observer":{"display":"x"}},
			"agent":[{"who":{"reference":"Patient/w"},"requestor":true}],"entity":[{"what":{"reference":"Patient/v"}}]}`, []string{"w", "v"}},
		{"definition order", `{"resourceType":"Coverage","status":"active","payor":[{"reference":"Patient/payor"}],"beneficiary":{"reference":"Patient/ben"},"policyHolder":{"reference":"Patient/ph"}}`, []string{"ph", "ben", "payor"}},
		{"escaped reference", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient\/p\u0031"}}`, []string{"p1"}},
		{"contained not counted", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/c"}}]}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustParse(t, tc.in).PatientIDs()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PatientIDs = %q, want %q", got, tc.want)
			}
		})
	}
}

// Every type in the Patient compartment has at least one path, and the
// generated paths exist in the schema and end on References.
func TestCompartmentTable(t *testing.T) {
	n := 0
	for rt := firstResource; rt <= lastResource; rt++ {
		for _, path := range types[rt].patient {
			n++
			cur := rt
			for _, step := range strings.Split(path, ".") {
				i := types[cur].lookup(step)
				if i < 0 {
					t.Fatalf("%s: %s: no element %s", types[rt].name, path, step)
				}
				cur = types[cur].elems[i].typ
			}
			if cur != tReference {
				t.Errorf("%s: %s ends on %s", types[rt].name, path, types[cur].name)
			}
		}
	}
	if n < 66 {
		t.Errorf("%d compartment paths", n)
	}
}

func TestRewriteReferences(t *testing.T) {
	in := `{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"contained":[{"resourceType":"Specimen","id":"s","subject":{"reference":"urn:uuid:1"}}],
		"subject":{"reference":"urn:uuid:1","display":"x"},
		"specimen":{"reference":"#s"},
		"performer":[{"reference":"urn:uuid:2"},{"_reference":{"extension":[{"url":"http://e","valueString":"x"}]}}],
		"extension":[{"url":"http://e","valueReference":{"reference":"urn:uuid:2"}}],
		"identifier":[{"assigner":{"reference":"urn:uuid:\u0033"}}]}`
	r := mustParse(t, in)
	var seen []string
	r.RewriteReferences(func(ref string) (string, bool) {
		seen = append(seen, ref)
		if id, ok := strings.CutPrefix(ref, "urn:uuid:"); ok {
			return "Patient/p" + id, true
		}
		return "", false
	})
	wantSeen := []string{"urn:uuid:1", "urn:uuid:1", "#s", "urn:uuid:2", "urn:uuid:2", "urn:uuid:3"}
	if !reflect.DeepEqual(seen, wantSeen) {
		t.Errorf("visited %q, want %q", seen, wantSeen)
	}
	out := mustMarshal(t, r)
	for _, want := range []string{
		`"contained":[{"resourceType":"Specimen","id":"s","subject":{"reference":"Patient/p1"}}]`,
		`"subject":{"reference":"Patient/p1","display":"x"}`,
		`"specimen":{"reference":"#s"}`,
		`"performer":[{"reference":"Patient/p2"},`,
		`"valueReference":{"reference":"Patient/p2"}`,
		`"assigner":{"reference":"Patient/p3"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if got := r.PatientIDs(); !reflect.DeepEqual(got, []string{"p1", "p2"}) {
		t.Errorf("PatientIDs after rewrite = %q", got)
	}

	// Bundle entries' resources are left to the caller.
	b := mustParse(t, `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:2"}},"request":{"method":"POST","url":"Observation"}}],"link":[{"relation":"self","url":"http://x"}]}`)
	calls := 0
	b.RewriteReferences(func(string) (string, bool) { calls++; return "", false })
	if calls != 0 {
		t.Errorf("RewriteReferences entered a Bundle entry (%d calls)", calls)
	}
}

func TestBundle(t *testing.T) {
	in := `{"resourceType":"Bundle","id":"b","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:0b3c6c7e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","name":[{"family":"A"}]},
		 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=x|1"}},
		{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:0b3c6c7e-0000-4000-8000-000000000001"}},
		 "request":{"method":"PUT","url":"Observation/o1","ifMatch":"W/\"2\"","ifNoneMatch":"*","ifModifiedSince":"2020-01-01T00:00:00Z"}},
		{"request":{"method":"DELETE","url":"Patient/gone"}}]}`
	r := mustParse(t, in)
	b, err := r.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if b.Type != "transaction" || len(b.Entries) != 3 {
		t.Fatalf("Bundle = %+v", b)
	}
	e0, e1, e2 := b.Entries[0], b.Entries[1], b.Entries[2]
	if e0.FullURL != "urn:uuid:0b3c6c7e-0000-4000-8000-000000000001" || e0.Resource.Type() != "Patient" ||
		*e0.Request != (Request{Method: "POST", URL: "Patient", IfNoneExist: "identifier=x|1"}) {
		t.Errorf("entry 0 = %+v %+v", e0, e0.Request)
	}
	if e1.FullURL != "" || e1.Resource.Type() != "Observation" ||
		*e1.Request != (Request{Method: "PUT", URL: "Observation/o1", IfMatch: `W/"2"`, IfNoneMatch: "*", IfModifiedSince: "2020-01-01T00:00:00Z"}) {
		t.Errorf("entry 1 = %+v %+v", e1, e1.Request)
	}
	if e2.Resource != nil || e2.Request.Method != "DELETE" {
		t.Errorf("entry 2 = %+v", e2)
	}

	// Changes through an entry show in the entry alone and in the Bundle.
	e0.Resource.SetID("p1")
	e0.Resource.SetMeta("1", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	e1.Resource.SetID("o1")
	e1.Resource.RewriteReferences(func(ref string) (string, bool) {
		if ref == e0.FullURL {
			return "Patient/p1", true
		}
		return "", false
	})
	if got, want := mustMarshal(t, e0.Resource), `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2024-01-02T03:04:05.000Z"},"name":[{"family":"A"}]}`; got != want {
		t.Errorf("entry resource = %s\nwant %s", got, want)
	}
	if got := e1.Resource.PatientIDs(); !reflect.DeepEqual(got, []string{"p1"}) {
		t.Errorf("entry PatientIDs = %q", got)
	}
	whole := mustMarshal(t, r)
	for _, want := range []string{`"resource":{"resourceType":"Patient","id":"p1","meta":`, `"subject":{"reference":"Patient/p1"}`, `{"resourceType":"Observation","id":"o1",`} {
		if !strings.Contains(whole, want) {
			t.Errorf("Bundle lacks %s:\n%s", want, whole)
		}
	}
	// Changing the Bundle itself keeps entries attached.
	r.SetID("b2")
	r.SetMeta("7", time.Now())
	e0.Resource.SetID("p9")
	if whole := mustMarshal(t, r); !strings.Contains(whole, `"id":"p9"`) || !strings.Contains(whole, `"id":"b2"`) {
		t.Errorf("Bundle lost its entries' link: %s", whole)
	}
	again, _ := r.Bundle()
	if again.Entries[0].Resource.ID() != "p9" {
		t.Error("second Bundle() call does not see the change")
	}

	if _, err := mustParse(t, `{"resourceType":"Patient"}`).Bundle(); !errors.Is(err, ErrNotBundle) {
		t.Errorf("Bundle of a Patient: %v", err)
	}
	empty, err := mustParse(t, `{"resourceType":"Bundle","type":"batch"}`).Bundle()
	if err != nil || empty.Type != "batch" || len(empty.Entries) != 0 {
		t.Errorf("empty Bundle = %+v, %v", empty, err)
	}
}

// The Synthea Bundles resolve to one patient per entry in the compartment.
func TestPatientIDsSynthea(t *testing.T) {
	files := dataFiles(t, "synthea-r4")
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	r := mustParse(t, string(data))
	b, err := r.Bundle()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{} // fullUrl -> Type/id
	for i, e := range b.Entries {
		e.Resource.SetID("e" + strconv.Itoa(i))
		ids[e.FullURL] = e.Resource.Type() + "/" + e.Resource.ID()
	}
	in := 0
	for _, e := range b.Entries {
		e.Resource.RewriteReferences(func(ref string) (string, bool) { s, ok := ids[ref]; return s, ok })
		if p := e.Resource.PatientIDs(); len(p) == 1 {
			in++
		} else if len(p) > 1 {
			t.Errorf("%s: patients %q", e.Resource.Type(), p)
		}
	}
	if in < len(b.Entries)/2 {
		t.Errorf("only %d of %d entries in a patient compartment", in, len(b.Entries))
	}
	if _, err := Parse([]byte(mustMarshal(t, r))); err != nil {
		t.Errorf("rewritten Bundle does not parse: %v", err)
	}
}
