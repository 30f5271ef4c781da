package access

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// maskExamples is the official R4 examples, in shared/ beside the repository.
const maskExamples = "../../../shared/data/fhir-r4-examples"

// label is the meta.security coding Apply adds.
const maskedJSON = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"MASKED","display":"masked"}`

func mustMasks(t testing.TB, ms []Mask) Masks {
	t.Helper()
	m, err := NewMasks(ms)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMaskApply runs compact inputs through Apply and compares the exact
// output, which also proves that member order is kept.
func TestMaskApply(t *testing.T) {
	defaults := mustMasks(t, DefaultMasks())
	custom := mustMasks(t, []Mask{
		{Role: "r", Type: "Observation", Remove: []string{"value[x]", "note.text"}},
		{Role: "r", Type: "DocumentReference", Remove: []string{"content.attachment.data"}},
		{Role: "r", Type: "Appointment", Remove: []string{"comment"}},
		{Role: "r", Type: "Appointment", Remove: []string{"comment", "patientInstruction"}}, // adds up, deduplicated
	})
	for _, c := range []struct {
		name      string
		m         Masks
		role, in  string
		want      string // "" = the input itself, same slice
		wantError string
	}{
		// Each shipped default.
		{name: "billing Observation: values, interpretation, notes, per component too", m: defaults, role: "billing",
			in:   `{"resourceType":"Observation","id":"o1","text":{"status":"generated","div":"<div>6.3 mmol/l High</div>"},"status":"final","code":{"text":"Glucose"},"valueQuantity":{"value":6.3,"unit":"mmol/l"},"interpretation":[{"text":"High"}],"note":[{"text":"fasting"}],"referenceRange":[{"text":"3.1-6.2"}],"component":[{"code":{"text":"a"},"valueString":"x","interpretation":[{"text":"N"}]}]}`,
			want: `{"resourceType":"Observation","id":"o1","meta":{"security":[` + maskedJSON + `]},"status":"final","code":{"text":"Glucose"},"referenceRange":[{"text":"3.1-6.2"}],"component":[{"code":{"text":"a"}}]}`},
		{name: "billing DiagnosticReport: conclusion, coded conclusion, rendered form, results, images", m: defaults, role: "billing",
			in:   `{"resourceType":"DiagnosticReport","id":"d1","status":"final","code":{"text":"CBC"},"result":[{"reference":"Observation/o1"}],"media":[{"comment":"mass","link":{"reference":"Media/m1"}}],"conclusion":"anaemia","conclusionCode":[{"text":"anaemia"}],"presentedForm":[{"contentType":"text/plain","data":"YW5hZW1pYQ=="}]}`,
			want: `{"resourceType":"DiagnosticReport","id":"d1","meta":{"security":[` + maskedJSON + `]},"status":"final","code":{"text":"CBC"}}`},
		{name: "billing DocumentReference: the document, not its metadata", m: defaults, role: "billing",
			in:   `{"resourceType":"DocumentReference","id":"r1","status":"current","content":[{"attachment":{"contentType":"text/plain","data":"bm90ZQ==","title":"HIV clinic note","size":4}},{"attachment":{"contentType":"application/pdf","url":"https://x.example/n.pdf"},"format":{"code":"urn:x"}}]}`,
			want: `{"resourceType":"DocumentReference","id":"r1","meta":{"security":[` + maskedJSON + `]},"status":"current","content":[{"attachment":{"contentType":"text/plain","size":4}},{"attachment":{"contentType":"application/pdf"},"format":{"code":"urn:x"}}]}`},
		{name: "lab technician Patient: identity kept, means of contact withheld", m: defaults, role: "lab-technician",
			in:   `{"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers"}],"birthDate":"1974-12-25","telecom":[{"system":"phone","value":"555"}],"address":[{"city":"PleasantVille"}],"contact":[{"name":{"family":"du Marché"}}],"photo":[{"url":"https://x.example/p.jpg"}]}`,
			want: `{"resourceType":"Patient","id":"p1","meta":{"security":[` + maskedJSON + `]},"name":[{"family":"Chalmers"}],"birthDate":"1974-12-25"}`},
		{name: "billing Patient untouched", m: defaults, role: "billing",
			in: `{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div>x</div>"},"name":[{"family":"Chalmers"}]}`},
		{name: "physician has no masks", m: defaults, role: "physician",
			in: `{"resourceType":"Observation","id":"o1","valueQuantity":{"value":6.3}}`},
		{name: "front desk has no masks", m: defaults, role: "front-desk",
			in: `{"resourceType":"Appointment","id":"a1","status":"booked","reasonCode":[{"text":"diabetes review"}],"comment":"bring meter"}`},

		// Choice elements, primitive twins, arrays, nesting.
		{name: "value[x] removes every choice key and its _twin", m: custom, role: "r",
			in:   `{"resourceType":"Observation","valueQuantity":{"value":1},"valueString":"a","_valueString":{"extension":[]},"valueCodeableConcept":{"text":"b"},"valuation":"kept","code":{"text":"c"}}`,
			want: `{"resourceType":"Observation","meta":{"security":[` + maskedJSON + `]},"valuation":"kept","code":{"text":"c"}}`},
		{name: "a path through an array; emptied objects and arrays are dropped", m: custom, role: "r",
			in:   `{"resourceType":"Observation","id":"o","note":[{"text":"a"},{"authorString":"x","text":"b"},{"text":"c"}]}`,
			want: `{"resourceType":"Observation","id":"o","meta":{"security":[` + maskedJSON + `]},"note":[{"authorString":"x"}]}`},
		{name: "every note emptied drops the element", m: custom, role: "r",
			in:   `{"resourceType":"Observation","id":"o","note":[{"text":"a"},{"text":"b"}],"status":"final"}`,
			want: `{"resourceType":"Observation","id":"o","meta":{"security":[` + maskedJSON + `]},"status":"final"}`},
		{name: "nested three levels through an array", m: custom, role: "r",
			in:   `{"resourceType":"DocumentReference","content":[{"attachment":{"data":"eA==","size":1}},{"attachment":{"url":"u"}}]}`,
			want: `{"resourceType":"DocumentReference","meta":{"security":[` + maskedJSON + `]},"content":[{"attachment":{"size":1}},{"attachment":{"url":"u"}}]}`},
		{name: "a primitive's _twin goes with it; masks of one type add up", m: custom, role: "r",
			in:   `{"resourceType":"Appointment","id":"a","status":"booked","comment":"HIV","_comment":{"id":"c1"},"patientInstruction":"fast"}`,
			want: `{"resourceType":"Appointment","id":"a","meta":{"security":[` + maskedJSON + `]},"status":"booked"}`},
		{name: "escaped names cannot dodge a mask", m: custom, role: "r",
			in:   `{"resourceType":"Obs\u0065rvation","id":"o","valu\u0065Quantity":{"value":1}}`,
			want: `{"resourceType":"Obs\u0065rvation","id":"o","meta":{"security":[` + maskedJSON + `]}}`},
		{name: "a masked type without masked elements is untouched, narrative kept", m: custom, role: "r",
			in: `{"resourceType":"Observation","id":"o","text":{"status":"generated","div":"<div/>"},"status":"final","note":[{"authorString":"x"}]}`},

		// Contained resources and Bundles.
		{name: "contained resources are masked by their own type; the container is labelled", m: defaults, role: "billing",
			in:   `{"resourceType":"Claim","id":"c1","text":{"status":"generated","div":"<div>glucose 6.3</div>"},"contained":[{"resourceType":"Observation","id":"g","text":{"status":"generated","div":"<div>6.3</div>"},"code":{"text":"glucose"},"valueQuantity":{"value":6.3}},{"resourceType":"Organization","id":"org","name":"Acme"}],"status":"active"}`,
			want: `{"resourceType":"Claim","id":"c1","meta":{"security":[` + maskedJSON + `]},"contained":[{"resourceType":"Observation","id":"g","code":{"text":"glucose"}},{"resourceType":"Organization","id":"org","name":"Acme"}],"status":"active"}`},
		{name: "unmasked contained resources leave the container untouched", m: defaults, role: "billing",
			in: `{"resourceType":"Claim","id":"c1","text":{"status":"generated","div":"<div/>"},"contained":[{"resourceType":"Observation","id":"g","code":{"text":"glucose"}}]}`},
		{name: "Bundle entries are masked and labelled one by one", m: defaults, role: "billing",
			in:   `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"p","resource":{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div/>"}}},{"fullUrl":"o","resource":{"resourceType":"Observation","id":"o","valueBoolean":true},"search":{"mode":"match"}}]}`,
			want: `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"p","resource":{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div/>"}}},{"fullUrl":"o","resource":{"resourceType":"Observation","id":"o","meta":{"security":[` + maskedJSON + `]}},"search":{"mode":"match"}}]}`},

		// The MASKED label.
		{name: "MASKED is not added twice", m: defaults, role: "billing",
			in:   `{"resourceType":"Observation","id":"o","meta":{"versionId":"2","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"MASKED"}]},"valueBoolean":true}`,
			want: `{"resourceType":"Observation","id":"o","meta":{"versionId":"2","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"MASKED"}]}}`},
		{name: "MASKED joins other labels", m: defaults, role: "billing",
			in:   `{"resourceType":"Observation","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],"tag":[{"code":"t"}]},"id":"o","valueBoolean":true}`,
			want: `{"resourceType":"Observation","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},` + maskedJSON + `],"tag":[{"code":"t"}]},"id":"o"}`},
		{name: "meta without security gains it; an empty list is filled", m: defaults, role: "billing",
			in:   `{"resourceType":"Observation","id":"o","meta":{"versionId":"1","security":[ ]},"valueBoolean":true}`,
			want: `{"resourceType":"Observation","id":"o","meta":{"versionId":"1","security":[` + maskedJSON + `]}}`},
		{name: "meta without security", m: defaults, role: "billing",
			in:   `{"resourceType":"Observation","id":"o","meta":{"versionId":"1"},"valueBoolean":true}`,
			want: `{"resourceType":"Observation","id":"o","meta":{"versionId":"1","security":[` + maskedJSON + `]}}`},
		{name: "whitespace between members is tolerated", m: defaults, role: "billing",
			in:   "{ \"resourceType\" : \"Observation\" ,\n \"valueBoolean\" : true ,\n \"status\" : \"final\" }",
			want: `{"resourceType":"Observation","meta":{"security":[` + maskedJSON + `]},"status":"final"}`},

		// Errors.
		{name: "malformed JSON", m: defaults, role: "billing", in: `{"resourceType":"Observation",`, wantError: "malformed JSON"},
		{name: "not an object", m: defaults, role: "billing", in: `["Observation"]`, wantError: "not a JSON object"},
		{name: "no resourceType", m: defaults, role: "billing", in: `{"type":"Observation"}`, wantError: "without resourceType"},
		{name: "two resourceTypes", m: defaults, role: "billing", in: `{"resourceType":"Patient","resourceType":"Observation"}`, wantError: "repeated"},
		{name: "meta not an object", m: defaults, role: "billing", in: `{"resourceType":"Observation","meta":[],"valueBoolean":true}`, wantError: "meta is not an object"},
		{name: "a role without masks does not parse", m: defaults, role: "nurse", in: `{"resourceType":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			got, err := c.m.Apply(c.role, in)
			if c.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantError) {
					t.Fatalf("error %v, want one containing %q", err, c.wantError)
				}
				if got != nil {
					t.Fatalf("got a body with the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if len(got) != len(in) || &got[0] != &in[0] {
					t.Fatalf("got a new body, want the input slice itself:\n%s", got)
				}
				return
			}
			if string(got) != c.want {
				t.Fatalf("got\n%s\nwant\n%s", got, c.want)
			}
			if !json.Valid(got) {
				t.Fatalf("invalid JSON out")
			}
			again, err := c.m.Apply(c.role, got)
			if err != nil || &again[0] != &got[0] {
				t.Fatalf("masking twice changed the body again (err %v)", err)
			}
		})
	}
}

// TestMaskDefaults checks that every shipped path removes its element and
// keeps the rest, on a resource holding all of them, and that the
// unmasked roles stay so.
func TestMaskDefaults(t *testing.T) {
	m := mustMasks(t, DefaultMasks())
	for _, d := range DefaultMasks() {
		for _, p := range d.Remove {
			t.Run(d.Role+"/"+d.Type+"/"+p, func(t *testing.T) {
				res := map[string]any{"resourceType": d.Type, "id": "x", "status": "final",
					"text": map[string]any{"status": "generated", "div": "<div/>"}}
				maskPut(res, strings.Split(p, "."))
				in, _ := json.Marshal(res)
				out, err := m.Apply(d.Role, in)
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]any
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatal(err)
				}
				if maskHas(got, strings.Split(p, ".")) {
					t.Errorf("%s still present: %s", p, out)
				}
				if got["status"] != "final" || got["id"] != "x" || got["text"] != nil || !maskLabelled(got) {
					t.Errorf("want status and id kept, text gone, MASKED label: %s", out)
				}
			})
		}
	}
	for _, role := range []string{"physician", "nurse", "front-desk", "auditor", "privacy-officer", "service", "patient", "super-admin"} {
		if m.For(role, "") {
			t.Errorf("%s has a shipped mask; DefaultMasks documents none", role)
		}
	}
}

// put sets the element at path (choice elements as valueString), keeping
// a sibling at each level ("kept") so that objects are not left empty.
func maskPut(obj map[string]any, path []string) {
	name, choice := maskChoice(path[0])
	if choice {
		name += "String"
	}
	if len(path) == 1 {
		obj[name] = "withheld"
		return
	}
	kid := map[string]any{"kept": true}
	obj[name] = []any{kid}
	maskPut(kid, path[1:])
}

// has reports whether any element on path is present, through arrays.
func maskHas(v any, path []string) bool {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if maskHas(e, path) {
				return true
			}
		}
	case map[string]any:
		name, choice := maskChoice(path[0])
		for k, e := range v {
			if k == name || choice && strings.HasPrefix(k, name) && len(k) > len(name) {
				if len(path) == 1 || maskHas(e, path[1:]) {
					return true
				}
			}
		}
	}
	return false
}

func maskLabelled(res map[string]any) bool {
	meta, _ := res["meta"].(map[string]any)
	sec, _ := meta["security"].([]any)
	n := 0
	for _, c := range sec {
		if c, _ := c.(map[string]any); c["system"] == MaskedSystem && c["code"] == MaskedCode {
			n++
		}
	}
	return n == 1
}

// TestMaskRealObservation masks the official R4 blood pressure example
// (pretty-printed, with meta.profile, interpretation and components) for
// billing and checks that exactly the masked elements went.
func TestMaskRealObservation(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(maskExamples, "Observation-blood-pressure.json"))
	if err != nil {
		t.Skipf("test data absent: %v", err)
	}
	out, err := mustMasks(t, DefaultMasks()).Apply("billing", in)
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !maskLabelled(got) {
		t.Fatalf("no MASKED label: %v", got["meta"])
	}
	if p := got["meta"].(map[string]any)["profile"]; !reflect.DeepEqual(p, want["meta"].(map[string]any)["profile"]) {
		t.Errorf("meta.profile changed: %v", p)
	}
	if bytes.Contains(out, []byte("valueQuantity")) || bytes.Contains(out, []byte("ObservationInterpretation")) || bytes.Contains(out, []byte("mmHg")) {
		t.Errorf("a value or interpretation survived:\n%s", out)
	}
	delete(want, "text")
	delete(want, "interpretation")
	delete(want, "meta")
	delete(got, "meta")
	for _, c := range want["component"].([]any) {
		delete(c.(map[string]any), "valueQuantity")
		delete(c.(map[string]any), "interpretation")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("more than the masked elements changed:\n%s", out)
	}
}

func TestNewMasksRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		m    Mask
		want string
	}{
		{"empty path", Mask{"billing", "Observation", []string{""}}, "empty path"},
		{"type repeated", Mask{"billing", "Observation", []string{"Observation.value[x]"}}, `write "value[x]"`},
		{"choice inside a path", Mask{"billing", "Observation", []string{"value[x].unit"}}, "must end the path"},
		{"capitalised element", Mask{"billing", "Observation", []string{"Value"}}, "not an element name"},
		{"empty segment", Mask{"billing", "Observation", []string{"component..value[x]"}}, "not an element name"},
		{"trailing dot", Mask{"billing", "Observation", []string{"note."}}, "not an element name"},
		{"twin named", Mask{"billing", "Observation", []string{"_valueString"}}, "not an element name"},
		{"bad choice", Mask{"billing", "Observation", []string{"value[y]"}}, "not an element name"},
		{"FHIRPath function", Mask{"billing", "Observation", []string{"note.where(x)"}}, "not an element name"},
		{"id", Mask{"billing", "Observation", []string{"id"}}, "cannot be masked"},
		{"meta", Mask{"billing", "Observation", []string{"meta"}}, "cannot be masked"},
		{"meta.security", Mask{"billing", "Observation", []string{"meta.security"}}, "cannot be masked"},
		{"resourceType", Mask{"billing", "Observation", []string{"resourceType"}}, "cannot be masked"},
		{"into the narrative", Mask{"billing", "Observation", []string{"text.div"}}, "removed whole"},
		{"into contained", Mask{"billing", "Claim", []string{"contained.valueQuantity"}}, "removed whole"},
		{"no paths", Mask{"billing", "Observation", nil}, "names no element"},
		{"no role", Mask{"", "Observation", []string{"note"}}, "role must be"},
		{"role spelled otherwise", Mask{"Front_Desk", "Observation", []string{"note"}}, "role must be"},
		{"lower-case type", Mask{"billing", "observation", []string{"note"}}, "resource type"},
		{"no type", Mask{"billing", "", []string{"note"}}, "resource type"},
		{"Bundle", Mask{"billing", "Bundle", []string{"entry"}}, "by their own types"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewMasks([]Mask{{"billing", "Observation", []string{"note"}}, c.m})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "field mask 2 ") {
				t.Errorf("error %q does not say which mask", err)
			}
		})
	}
}

func TestMasksFor(t *testing.T) {
	m := mustMasks(t, DefaultMasks())
	for _, c := range []struct {
		role, typ string
		want      bool
	}{
		{"billing", "Observation", true},
		{"billing", "DocumentReference", true},
		{"billing", "Patient", false},
		{"billing", "", true},
		{"lab-technician", "Patient", true},
		{"lab-technician", "Observation", false},
		{"physician", "Observation", false},
		{"physician", "", false},
		{"", "", false},
	} {
		if got := m.For(c.role, c.typ); got != c.want {
			t.Errorf("For(%q, %q) = %v, want %v", c.role, c.typ, got, c.want)
		}
	}
	var zero Masks
	in := []byte(`{"resourceType":"Observation","valueBoolean":true}`)
	if out, err := zero.Apply("billing", in); zero.For("billing", "") || err != nil || &out[0] != &in[0] {
		t.Error("the zero Masks masked something")
	}
}

// FuzzMaskApply checks that Apply never panics, returns invalid input
// only unchanged, returns valid JSON for valid input, and leaves nothing
// for a second pass.
func FuzzMaskApply(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Observation","valueQuantity":{"value":1},"component":[{"valueString":"a"}],"note":[{"text":"x"}]}`))
	f.Add([]byte(`{"resourceType":"Claim","contained":[{"resourceType":"Observation","valueBoolean":true}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"DocumentReference","content":[{"attachment":{"data":"eA=="}}]}}]}`))
	f.Add([]byte(`{"resourceType":"Obs\u0065rvation","meta":{"security":[]},"_valueString":{}}`))
	if in, err := os.ReadFile(filepath.Join(maskExamples, "Observation-blood-pressure.json")); err == nil {
		f.Add(in)
	}
	m := mustMasks(f, DefaultMasks())
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := m.Apply("billing", in)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			if len(out) != len(in) || len(in) > 0 && &out[0] != &in[0] {
				t.Fatalf("invalid input %q came back changed: %q", in, out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out of %q: %q", in, out)
		}
		again, err := m.Apply("billing", out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second pass changed %q to %q (err %v)", out, again, err)
		}
	})
}

// BenchmarkApply masks a ~2.5 KB official R4 Observation for billing,
// the larger blood pressure example with components, and measures the
// paths that do nothing: a type the role has no mask for, and a role
// without masks.
func BenchmarkApply(b *testing.B) {
	m := mustMasks(b, DefaultMasks())
	for _, c := range []struct{ name, role, file string }{
		{"Observation", "billing", "Observation-f001.json"},
		{"ObservationComponents", "billing", "Observation-blood-pressure.json"},
		{"UnmaskedType", "billing", "Patient-example.json"},
		{"UnmaskedRole", "physician", "Observation-f001.json"},
	} {
		b.Run(c.name, func(b *testing.B) {
			in, err := os.ReadFile(filepath.Join(maskExamples, c.file))
			if err != nil {
				b.Skipf("test data absent: %v", err)
			}
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Apply(c.role, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMaskMatchesReference holds Apply to a plain reference version of
// the same rules, written over decoded JSON, on every official R4
// example and on Synthea transaction Bundles with clinical notes, for the
// shipped masks and a wider set that reaches deeper paths.
func TestMaskMatchesReference(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(maskExamples, "*.json"))
	notes, _ := filepath.Glob(filepath.Join(maskExamples, "../ms-anonymizer-samples/*_*_*.json"))
	files = append(files, notes...)
	if len(files) == 0 {
		t.Skip("test data absent: " + maskExamples)
	}
	wide := append(DefaultMasks(),
		Mask{Role: "billing", Type: "Patient", Remove: []string{"name.given", "telecom.value", "extension", "birthDate"}},
		Mask{Role: "billing", Type: "MedicationRequest", Remove: []string{"dosageInstruction.timing.repeat", "dosageInstruction.doseAndRate.dose[x]", "note"}},
		Mask{Role: "billing", Type: "Encounter", Remove: []string{"reasonCode.coding.display", "diagnosis", "hospitalization.dischargeDisposition"}},
		Mask{Role: "billing", Type: "Claim", Remove: []string{"item.productOrService.text", "diagnosis.diagnosis[x]", "supportingInfo"}},
		Mask{Role: "billing", Type: "Questionnaire", Remove: []string{"item.item.text", "item.answerOption.value[x]", "contained"}},
	)
	for _, set := range []struct {
		name  string
		masks []Mask
	}{{"shipped", DefaultMasks()}, {"wide", wide}} {
		m := mustMasks(t, set.masks)
		byType := map[string][][]string{}
		for _, mk := range set.masks {
			if mk.Role == "billing" {
				for _, p := range mk.Remove {
					byType[mk.Type] = append(byType[mk.Type], strings.Split(p, "."))
				}
			}
		}
		masked := 0
		for _, f := range files {
			if filepath.Base(f) == "package.json" {
				continue
			}
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Apply("billing", in)
			if err != nil {
				t.Errorf("%s %s: %v", set.name, filepath.Base(f), err)
				continue
			}
			var want, got any
			if err := json.Unmarshal(in, &want); err != nil {
				t.Fatal(err)
			}
			if json.Unmarshal(out, &got) != nil {
				t.Errorf("%s %s: invalid JSON out", set.name, filepath.Base(f))
				continue
			}
			if refResource(byType, want.(map[string]any), true) {
				masked++
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: Apply differs from the reference", set.name, filepath.Base(f))
			}
		}
		t.Logf("%s: %d of %d files masked", set.name, masked, len(files))
	}
}

// refResource applies the rules to a decoded resource, reporting whether
// it withheld anything itself or in a contained resource.
func refResource(byType map[string][][]string, r map[string]any, top bool) bool {
	typ, _ := r["resourceType"].(string)
	withheld := false
	for _, p := range byType[typ] {
		withheld = refRemove(r, p) || withheld
	}
	if cs, ok := r["contained"].([]any); ok {
		for _, c := range cs {
			if c, ok := c.(map[string]any); ok {
				withheld = refResource(byType, c, false) || withheld
			}
		}
	}
	if es, ok := r["entry"].([]any); ok && typ == "Bundle" {
		for _, e := range es {
			e, _ := e.(map[string]any)
			if res, ok := e["resource"].(map[string]any); ok {
				refResource(byType, res, true)
			}
		}
	}
	if withheld {
		delete(r, "text")
		if top {
			meta, _ := r["meta"].(map[string]any)
			if meta == nil {
				meta = map[string]any{}
				r["meta"] = meta
			}
			sec, _ := meta["security"].([]any)
			for _, c := range sec {
				if c, _ := c.(map[string]any); c["system"] == MaskedSystem && c["code"] == MaskedCode {
					return true
				}
			}
			meta["security"] = append(sec, map[string]any{"system": MaskedSystem, "code": MaskedCode, "display": "masked"})
		}
	}
	return withheld
}

// refRemove removes path from v (through arrays), dropping objects and
// arrays it leaves empty, and reports whether it removed anything.
func refRemove(v any, path []string) bool {
	changed := false
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			changed = refRemove(e, path) || changed
		}
	case map[string]any:
		name, choice := maskChoice(path[0])
		for k, e := range v {
			bare := strings.TrimPrefix(k, "_")
			if len(path) == 1 && (bare == name || choice && len(bare) > len(name) && strings.HasPrefix(bare, name) && bare[len(name)] >= 'A' && bare[len(name)] <= 'Z') {
				delete(v, k)
				changed = true
			} else if len(path) > 1 && k == name && refRemove(e, path[1:]) {
				changed = true
				if pruned := refPrune(e); pruned == nil {
					delete(v, k)
				} else {
					v[k] = pruned
				}
			}
		}
	}
	return changed
}

// refPrune drops empty objects from an array; it returns nil for an empty
// object or array.
func refPrune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	case []any:
		var kept []any
		for _, e := range x {
			if m, ok := e.(map[string]any); !ok || len(m) > 0 {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return kept
	}
	return v
}
