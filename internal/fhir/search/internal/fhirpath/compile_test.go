package fhirpath

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestBranches(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []Branch
	}{
		{"single", "Patient.name", []Branch{{"Patient.name", "Patient"}}},
		{"per type", "Patient.name | Practitioner.name", []Branch{{"Patient.name", "Patient"}, {"Practitioner.name", "Practitioner"}}},
		{"parenthesised as", "(A.value as Quantity) | (B.value as Range)", []Branch{{"(A.value as Quantity)", "A"}, {"(B.value as Range)", "B"}}},
		{"context", "name | alias", []Branch{{"name", ""}, {"alias", ""}}},
		{"grouped union stays whole", "(Patient.name | Patient.alias).given", []Branch{{"(Patient.name | Patient.alias).given", "Patient"}}},
		{"boolean", "Patient.deceased.exists() and Patient.deceased != false", []Branch{{"Patient.deceased.exists() and Patient.deceased != false", "Patient"}}},
		{"common", "Resource.meta.tag", []Branch{{"Resource.meta.tag", "Resource"}}},
		{"where with string", "Patient.telecom.where(system='a|b') | Person.telecom", []Branch{{"Patient.telecom.where(system='a|b')", "Patient"}, {"Person.telecom", "Person"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Branches(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Branches(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	cases := []struct {
		name, base, src string
		want            string // Path.String()
		types           []string
	}{
		{"element", "Patient", "Patient.name.family", `[child "name" child "family"]`, []string{"string"}},
		{"common", "Observation", "Resource.meta.lastUpdated", `[child "meta" child "lastUpdated"]`, []string{"instant"}},
		{"context relative", "InsurancePlan", "name | alias", `[union [child "name"] [child "alias"]]`, []string{"string"}},
		{"choice", "Observation", "Observation.effective", `[child "effective" {effectiveDateTime,effectiveInstant,effectivePeriod,effectiveTiming}]`, []string{"dateTime", "instant", "Period", "Timing"}},
		{"as narrows a choice", "Observation", "(Observation.value as Quantity)", `[child "value" {valueQuantity}]`, []string{"Quantity"}},
		{"as function", "Condition", "Condition.onset.as(Age)", `[child "onset" {onsetAge}]`, []string{"Age"}},
		{"ofType", "Condition", "Condition.abatement.ofType(dateTime)", `[child "abatement" {abatementDateTime}]`, []string{"dateTime"}},
		{"as then child", "Observation", "(Observation.value as CodeableConcept).text", `[child "value" {valueCodeableConcept} child "text"]`, []string{"string"}},
		{"resolve is", "Observation", "Observation.subject.where(resolve() is Patient)", `[child "subject" where [resolve is "Patient"]]`, []string{"Reference"}},
		{"where equals", "Patient", "Patient.telecom.where(system='email')", `[child "telecom" where [eq [child "system"] [str "email"]]]`, []string{"ContactPoint"}},
		{"indexer", "Bundle", "Bundle.entry[0].resource", `[child "entry" index 0 child "resource"]`, []string{"Resource"}},
		{"boolean expression", "Patient", "Patient.deceased.exists() and Patient.deceased != false",
			`[and [child "deceased" {deceasedBoolean,deceasedDateTime} exists] [ne [child "deceased" {deceasedBoolean,deceasedDateTime}] [bool "false"]]]`, []string{"System.Boolean"}},
		{"extension", "Patient", "Patient.extension('http://x/race').extension.value.as(Coding)", `[extension "http://x/race" child "extension" child "value" {valueCoding}]`, []string{"Coding"}},
		{"extension where", "Patient", "Patient.extension.where(url = 'http://x').value.as(Coding).code", `[child "extension" where [eq [child "url"] [str "http://x"]] child "value" {valueCoding} child "code"]`, []string{"code"}},
		{"first", "Patient", "Patient.name.first().given", `[child "name" index 0 child "given"]`, []string{"string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, types, err := Compile(tc.src, tc.base)
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tc.want {
				t.Errorf("Compile(%q) =\n %s\nwant\n %s", tc.src, p, tc.want)
			}
			if tc.types != nil && !slices.Equal(types, tc.types) {
				t.Errorf("types = %q, want %q", types, tc.types)
			}
		})
	}
}

func TestCompileUnsupported(t *testing.T) {
	cases := []struct{ name, base, src string }{
		{"unknown element", "Patient", "Patient.nmae"},
		{"other type", "Patient", "Practitioner.name"},
		{"never of type", "Observation", "(Observation.code as Quantity)"},
		{"unsupported function", "Patient", "Patient.name.given.lower()"},
		{"unsupported operator", "Patient", "Patient.multipleBirth + 1"},
		{"variable", "Patient", "%resource.name"},
		{"resolve on a string", "Patient", "Patient.gender.resolve()"},
		{"navigate resolved", "Observation", "Observation.subject.resolve().name"},
		{"into any resource", "Bundle", "Bundle.entry.resource.id"},
		{"non-constant index", "Patient", "Patient.name[Patient.multipleBirth]"},
		{"syntax", "Patient", "Patient.name.("},
		{"unterminated string", "Patient", "Patient.telecom.where(system='x)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Compile(tc.src, tc.base)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("Compile(%q) error = %v, want ErrUnsupported", tc.src, err)
			}
		})
	}
	if _, _, err := Compile("Patient.name", "NoSuchType"); err == nil {
		t.Error("unknown base type accepted")
	}
}

// TestCompileUSCore compiles the expressions of the US Core 3.1.0
// search parameters: they use extension filters the R4 core ones do not.
// One is wrong in US Core itself: R4 Procedure has performed[x], not
// occurrence, and the compiler says so.
func TestCompileUSCore(t *testing.T) {
	files, _ := filepath.Glob("../../../../../../shared/data/us-core/SearchParameter-*.json")
	if len(files) == 0 {
		t.Skip("us-core data absent")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sp struct {
			Base       []string `json:"base"`
			Type       string   `json:"type"`
			Expression string   `json:"expression"`
		}
		if err := json.Unmarshal(b, &sp); err != nil {
			t.Fatal(err)
		}
		if sp.Expression == "" || sp.Type == "composite" {
			continue
		}
		for _, base := range sp.Base {
			_, _, err := Compile(sp.Expression, base)
			if bad := filepath.Base(f) == "SearchParameter-us-core-procedure-date.json"; bad != (err != nil) {
				t.Errorf("%s: %q: %v", filepath.Base(f), sp.Expression, err)
			}
			n++
		}
	}
	t.Logf("compiled %d US Core expressions", n)
}
