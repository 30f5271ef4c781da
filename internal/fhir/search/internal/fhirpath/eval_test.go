package fhirpath

import (
	"slices"
	"testing"

	"github.com/wardhealth/ward/internal/fhir"
)

// selected renders what a compiled expression selects: elements as JSON
// (strings unquoted), booleans as true/false.
func selected(t *testing.T, resource, base, expr string) []string {
	t.Helper()
	r, err := fhir.Parse([]byte(resource))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p, _, err := Compile(expr, base)
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	var ev Evaluator
	ev.Reset(r.Root())
	var out []string
	for _, it := range ev.Eval(p, nil) {
		if e, ok := it.Elem(); ok {
			if e.IsPrimitive() {
				out = append(out, e.Text())
			} else {
				out = append(out, string(e.AppendJSON(nil)))
			}
		} else if b, ok := it.Bool(); ok {
			out = append(out, map[bool]string{true: "true", false: "false"}[b])
		}
	}
	return out
}

func TestEval(t *testing.T) {
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"contained":[{"resourceType":"Patient","id":"p1"},{"resourceType":"Group","id":"g1","type":"person","actual":true}],
		"subject":{"reference":"Patient/123/_history/2"},
		"performer":[{"reference":"#p1"},{"reference":"#g1"},{"reference":"http://ex.org/fhir/Practitioner/9"},{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},{"identifier":{"value":"z"}},{"reference":"Patient?identifier=a|b"}],
		"valueQuantity":{"value":1.50,"unit":"mg"},
		"component":[{"code":{"text":"a"},"valueString":"s"},{"code":{"text":"a"},"valueInteger":3}]}`
	pat := `{"resourceType":"Patient","active":true,
		"extension":[{"url":"http://x/race","extension":[{"url":"ombCategory","valueCoding":{"code":"2106-3"}},{"url":"text","valueString":"White"}]},{"url":"http://x/other","valueString":"o"}],
		"telecom":[{"system":"phone","value":"1"},{"system":"email","value":"a@b"},{"value":"none"}],
		"name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://x/e","valueString":"v"}]},null]}],
		"deceasedDateTime":"2015-02-01"}`
	cases := []struct {
		name, resource, base, expr string
		want                       []string
	}{
		{"relative reference with history", obs, "Observation", "Observation.subject.where(resolve() is Patient)", []string{`{"reference":"Patient/123/_history/2"}`}},
		{"contained resolves to its type; urn and conditional do not", obs, "Observation", "Observation.performer.where(resolve() is Patient)", []string{`{"reference":"#p1"}`}},
		{"contained group", obs, "Observation", "Observation.performer.where(resolve() is Group)", []string{`{"reference":"#g1"}`}},
		{"absolute URL", obs, "Observation", "Observation.performer.where(resolve() is Practitioner)", []string{`{"reference":"http://ex.org/fhir/Practitioner/9"}`}},
		{"choice with as", obs, "Observation", "(Observation.value as Quantity)", []string{`{"value":1.50,"unit":"mg"}`}},
		{"choice miss", obs, "Observation", "(Observation.value as CodeableConcept)", nil},
		{"repeating as", obs, "Observation", "Observation.component.value.as(string)", []string{"s"}},
		{"union merges equal content", obs, "Observation", "Observation.code | Observation.component.code", []string{`{"text":"x"}`, `{"text":"a"}`}},
		{"null placeholders skipped", pat, "Patient", "Patient.name.given", []string{"A", "C"}},
		{"where equals", pat, "Patient", "Patient.telecom.where(system='email').value", []string{"a@b"}},
		{"extension by url", pat, "Patient", "Patient.extension('http://x/race').extension('text').value", []string{"White"}},
		{"extension where", pat, "Patient", "Patient.extension.where(url='http://x/other').value", []string{"o"}},
		{"deceased dateTime", pat, "Patient", "Patient.deceased.exists() and Patient.deceased != false", []string{"true"}},
		{"deceased absent", obs, "Observation", "Observation.status = 'final' and Observation.issued.exists()", []string{"false"}},
		{"or unknown", obs, "Observation", "Observation.issued.exists() or Observation.issued = 'x'", nil},
		{"not", pat, "Patient", "Patient.active.not()", []string{"false"}},
		{"is", pat, "Patient", "Patient.deceased is dateTime", []string{"true"}},
		{"number equality", obs, "Observation", "Observation.component.value.as(integer) = 3", []string{"true"}},
		{"index past end", pat, "Patient", "Patient.name[3]", nil},
		{"this", pat, "Patient", "Patient.telecom.value.where($this = 'none')", []string{"none"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := selected(t, tc.resource, tc.base, tc.expr)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s selects %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestRefType(t *testing.T) {
	cases := []struct {
		ref, typ, id string
		ok           bool
	}{
		{"Patient/123", "Patient", "123", true},
		{"Patient/123/_history/4", "Patient", "123", true},
		{"http://ex.org/fhir/Observation/a.b-c", "Observation", "a.b-c", true},
		{"https://ex.org/Patient/1/_history/2", "Patient", "1", true},
		{"http://hl7.org/fhir/StructureDefinition/Patient", "StructureDefinition", "Patient", true},
		{"#p1", "", "", false},
		{"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", "", "", false},
		{"Patient?identifier=x", "", "", false},
		{"Foo/1", "", "", false},
		{"x/Patient/1", "", "", false}, // relative with a prefix is not a reference to a resource
		{"Patient/", "", "", false},
		{"Patient/1/_history/", "", "", false},
		{"Patient/" + string(make([]byte, 65)), "", "", false},
		{"", "", "", false},
	}
	for _, tc := range cases {
		typ, id, ok := RefType(tc.ref)
		if typ != tc.typ || id != tc.id || ok != tc.ok {
			t.Errorf("RefType(%q) = %q, %q, %v; want %q, %q, %v", tc.ref, typ, id, ok, tc.typ, tc.id, tc.ok)
		}
	}
}

func TestIsType(t *testing.T) {
	cases := []struct {
		actual, want string
		ok           bool
	}{
		{"Quantity", "Quantity", true},
		{"Age", "Quantity", true},
		{"Duration", "Quantity", true},
		{"Quantity", "Age", false},
		{"Money", "Quantity", false},
		{"canonical", "uri", false},
		{"Patient", "Resource", true},
		{"Patient", "DomainResource", true},
		{"Bundle", "DomainResource", false},
		{"HumanName", "Resource", false},
	}
	for _, tc := range cases {
		if got := IsType(tc.actual, tc.want); got != tc.ok {
			t.Errorf("IsType(%s, %s) = %v", tc.actual, tc.want, got)
		}
	}
}

func TestPathString(t *testing.T) {
	p := Path{{Op: Child, Name: "value", Names: []string{"valueQuantity"}}, {Op: Index, N: 2}, {Op: Where, Args: []Path{{{Op: Int, N: 7}}}}}
	if got, want := p.String(), `[child "value" {valueQuantity} index 2 where [int 7]]`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if Op(99).String() != "op99" {
		t.Error(Op(99).String())
	}
}
