package fhir

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that what it accepts
// survives Marshal → Parse → Marshal unchanged and equal to the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","id":"a","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}],"birthDate":"1970"}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50e3},"subject":{"reference":"Patient/1"}}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:x","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`,
		`{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"2","type":"display"}]}]}`,
		`{"resourceType":"Patient","contained":[{"resourceType":"Organization","name":"\u00e9\ud83d\ude00"}],"extension":[{"url":"http://e","valueString":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{
		"fhir-r4-examples/Patient-example.json",
		"fhir-r4-examples/Observation-example.json",
		"fhir-r4-examples/Bundle-bundle-transaction.json",
		"fhir-r4-examples/Questionnaire-f201.json",
		"fhir-r4-examples/Parameters-example.json",
	} {
		if data, err := os.ReadFile(filepath.Join(dataDir, name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		b1, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if same, err := sameJSON(data, b1); err != nil || !same {
			t.Fatalf("output differs from accepted input (%v):\n%s\n%s", err, data, b1)
		}
		r2, err := Parse(b1)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, b1)
		}
		b2, err := r2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("Marshal not stable:\n%s\n%s", b1, b2)
		}
		r.PatientIDs()
		r.RewriteReferences(func(s string) (string, bool) { return s, true })
		if b, err := r.Bundle(); err == nil {
			for _, e := range b.Entries {
				if e.Resource != nil {
					e.Resource.PatientIDs()
				}
			}
		}
	})
}
