package main

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates the schema from the shared data and
// compares it with the committed files, so the tables cannot drift from
// the generator. Skipped when the data folder is absent.
func TestGeneratedUpToDate(t *testing.T) {
	dir := "../../../../../shared/data/fhir-r4-core"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("definitions absent: %v", err)
	}
	s, err := build(dir)
	if err != nil {
		t.Fatal(err)
	}
	for file, src := range map[string][]byte{"schema_gen.go": s.emit(), "regex_gen_test.go": s.emitRegexTest()} {
		want, err := format.Source(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("../..", file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./internal/fhir", file)
		}
	}
	if len(s.unmapped) != 0 {
		t.Errorf("unmapped compartment expressions: %q", s.unmapped)
	}
}

func TestMapExpression(t *testing.T) {
	dir := "../../../../../shared/data/fhir-r4-core"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("definitions absent: %v", err)
	}
	s, err := build(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		typ, expr, want string
		ok              bool
	}{
		{"Observation", "Observation.subject", "subject", true},
		{"Observation", "Observation.subject.where(resolve() is Patient)", "subject", true},
		{"Appointment", "Appointment.participant.actor", "participant.actor", true},
		{"Observation", "(Observation.value as Reference)", "", false}, // no valueReference in R4
		{"Extension", "Extension.value.as(Reference)", "valueReference", true},
		{"Extension", "(Extension.value as Reference)", "valueReference", true},
		{"Extension", "Extension.value.ofType(Reference)", "valueReference", true},
		{"Observation", "Condition.subject", "", false},
		{"Observation", "Observation.code", "", false}, // not a Reference
		{"Observation", "Observation.subject.where(active = true)", "", false},
	}
	for _, tc := range cases {
		got, ok := s.mapExpression(s.byName[tc.typ], tc.expr)
		if got != tc.want || ok != tc.ok {
			t.Errorf("mapExpression(%s, %q) = %q, %v; want %q, %v", tc.typ, tc.expr, got, ok, tc.want, tc.ok)
		}
	}
}
