package search

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/wardhealth/ward/internal/fhir"
)

// FuzzExtract feeds arbitrary JSON through Parse and Extract: Extract must
// not panic on any resource Parse accepts, and its values must keep their
// invariants. Seeded with the R4 examples.
//
//	go test -run XXX -fuzz FuzzExtract -fuzztime 30s ./internal/fhir/search/
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dataDir, "fhir-r4-examples", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"resourceType":"Patient","name":[{"family":"Zoë","given":["A",null],"_given":[null,{"extension":[{"url":"u","valueString":"x"}]}]}],"birthDate":"2013-02","deceasedBoolean":true}`))
	f.Add([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e-300,"system":"http://unitsofmeasure.org","code":"h"},"subject":{"reference":"Patient/1/_history/2"}}`))
	f.Add([]byte(`{"resourceType":"Condition","subject":{"reference":"#x"},"onsetRange":{"low":{"value":-0.0}},"contained":[{"resourceType":"Patient","id":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := fhir.Parse(data)
		if err != nil {
			return
		}
		vs, err := Extract(r)
		if err != nil {
			t.Fatalf("Extract of a parsed resource: %v", err)
		}
		for _, v := range vs {
			checkValue(t, v)
		}
		if r.Type() == "Bundle" {
			if b, err := r.Bundle(); err == nil {
				for _, e := range b.Entries {
					if e.Resource != nil {
						if _, err := Extract(e.Resource); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	})
}

func checkValue(t *testing.T, v Value) {
	t.Helper()
	switch v.Kind {
	case String:
		if v.Text == "" || !utf8.ValidString(v.Text) || Normalize(v.Text) != v.Text {
			t.Fatalf("%s: bad string value %q", v.Param, v.Text)
		}
	case Date:
		if !v.Low.Before(v.High) {
			t.Fatalf("%s: empty date range", v.Param)
		}
	case Number, Quantity:
		if math.IsNaN(v.NumLow) || math.IsNaN(v.NumHigh) || !(v.NumLow < v.NumHigh) {
			t.Fatalf("%s: bad range [%v, %v)", v.Param, v.NumLow, v.NumHigh)
		}
	}
}

// FuzzValueParsers checks the parsers a query also goes through: no
// panics, Normalize idempotent, ranges never empty.
func FuzzValueParsers(f *testing.F) {
	for _, s := range []string{"2013", "2013-01-14T10:00:00.123+10:00", "1.50", "-1e2", "Zoë Ærø", " a\t b ", "1e999999", "2016-12-31T23:59:60Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Fatalf("Normalize not idempotent on %q: %q then %q", s, n, Normalize(n))
		}
		if lo, hi, ok := DateRange(s); ok && !lo.Before(hi) {
			t.Fatalf("DateRange(%q) empty", s)
		}
		if v, ok := NumberValue(s); ok {
			checkValue(t, v)
		}
		if v, ok := QuantityValue(s, ucumSystem, "min", ""); ok {
			checkValue(t, v)
		}
	})
}
