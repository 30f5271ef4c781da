package search

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/fhir"
)

// show renders a value compactly for comparisons: the kind-specific
// fields only.
func show(v Value) string {
	switch v.Kind {
	case String:
		return fmt.Sprintf("%s:%s=%q/%q", v.Param, v.Of, v.Text, v.Raw)
	case Token:
		return fmt.Sprintf("%s:%s=%s|%s text=%q", v.Param, v.Of, v.System, v.Code, v.Text)
	case Reference:
		if v.Of == "Identifier" {
			return fmt.Sprintf("%s:identifier=%s|%s", v.Param, v.System, v.Code)
		}
		return fmt.Sprintf("%s:%s=%s type=%s id=%s v=%s", v.Param, v.Of, v.Ref, v.Type, v.ID, v.Version)
	case URI:
		return fmt.Sprintf("%s:%s=%s", v.Param, v.Of, v.Raw)
	case Date:
		return fmt.Sprintf("%s:%s=[%s,%s)", v.Param, v.Of, v.Low.Format("2006-01-02T15:04:05.999Z07:00"), v.High.Format("2006-01-02T15:04:05.999Z07:00"))
	case Number:
		return fmt.Sprintf("%s:%s=%s[%g,%g)", v.Param, v.Of, v.Num, v.NumLow, v.NumHigh)
	case Quantity:
		return fmt.Sprintf("%s:%s=%s[%g,%g) %s|%s unit=%s", v.Param, v.Of, v.Num, v.NumLow, v.NumHigh, v.System, v.Code, v.Unit)
	}
	return "?"
}

// valuesOf extracts and renders the values of the named parameters.
func valuesOf(t *testing.T, resource string, params ...string) []string {
	t.Helper()
	r, err := fhir.Parse([]byte(resource))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	vs, err := Extract(r)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		if slices.Contains(params, v.Param) {
			out = append(out, show(v))
		}
	}
	return out
}

func TestExtract(t *testing.T) {
	cases := []struct {
		name     string
		resource string
		params   []string
		want     []string
	}{
		{"string from HumanName parts", `{"resourceType":"Patient","name":[{"text":"Dr. Zoë Ann Smith Jr","family":"Smith","given":["Zoë","Ann"],"prefix":["Dr."],"suffix":["Jr"]}]}`,
			[]string{"name", "family", "given"}, []string{
				`family:string="smith"/"Smith"`,
				`given:string="zoe"/"Zoë"`, `given:string="ann"/"Ann"`,
				`name:HumanName="smith"/"Smith"`, `name:HumanName="zoe"/"Zoë"`, `name:HumanName="ann"/"Ann"`,
				`name:HumanName="dr."/"Dr."`, `name:HumanName="jr"/"Jr"`, `name:HumanName="dr. zoe ann smith jr"/"Dr. Zoë Ann Smith Jr"`,
			}},
		{"string from Address parts", `{"resourceType":"Patient","address":[{"line":["1 Main St","Apt 2"],"city":"Springfield","district":"Greene","state":"MO","postalCode":"65801","country":"US","text":"1 Main St"}]}`,
			[]string{"address", "address-city"}, []string{
				`address:Address="1 main st"/"1 Main St"`, `address:Address="apt 2"/"Apt 2"`, `address:Address="springfield"/"Springfield"`,
				`address:Address="greene"/"Greene"`, `address:Address="mo"/"MO"`, `address:Address="65801"/"65801"`, `address:Address="us"/"US"`,
				`address-city:string="springfield"/"Springfield"`,
			}},
		{"string from markdown", `{"resourceType":"Questionnaire","status":"draft","description":"Some *markdown*"}`,
			[]string{"description"}, []string{`description:markdown="some *markdown*"/"Some *markdown*"`}},
		{"token from CodeableConcept", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body Weight"},{"code":"bw"},{"system":"http://loinc.org","code":"29463-7","display":"Body Weight"}],"text":"Weight"}}`,
			[]string{"code"}, []string{
				`code:CodeableConcept=http://loinc.org|29463-7 text="body weight"`,
				`code:CodeableConcept=|bw text=""`,
				`code:CodeableConcept=| text="weight"`,
			}},
		{"token from Coding", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"meta":{"tag":[{"system":"http://t","code":"a"}],"security":[{"display":"Restricted"}]}}`,
			[]string{"_tag", "_security"}, []string{`_security:Coding=| text="restricted"`, `_tag:Coding=http://t|a text=""`}},
		{"token from Identifier", `{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"123","type":{"text":"Medical Record Number"}},{"value":"x"},{"type":{"text":"none"}}]}`,
			[]string{"identifier"}, []string{
				`identifier:Identifier=urn:oid:1.2.3|123 text="medical record number"`,
				`identifier:Identifier=|x text=""`,
				`identifier:Identifier=| text="none"`,
			}},
		{"token from ContactPoint", `{"resourceType":"Patient","telecom":[{"system":"phone","value":"555-1234","use":"home"},{"system":"email","value":"a@example.org"},{"system":"phone","use":"work"}]}`,
			[]string{"phone", "email", "telecom"}, []string{
				`email:ContactPoint=|a@example.org text=""`,
				`phone:ContactPoint=home|555-1234 text=""`,
				`telecom:ContactPoint=home|555-1234 text=""`, `telecom:ContactPoint=|a@example.org text=""`,
			}},
		{"token from code, boolean and id", `{"resourceType":"Patient","id":"p1","gender":"female","active":false}`,
			[]string{"gender", "active", "_id"}, []string{`active:boolean=|false text=""`, `gender:code=|female text=""`}},
		{"token from a boolean expression", `{"resourceType":"Patient","deceasedDateTime":"2020-01-01"}`,
			[]string{"deceased"}, []string{`deceased:boolean=|true text=""`}},
		{"deceased false when absent", `{"resourceType":"Patient"}`,
			[]string{"deceased"}, []string{`deceased:boolean=|false text=""`}},
		{"references", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
			"contained":[{"resourceType":"Practitioner","id":"c1"}],
			"subject":{"reference":"Patient/123/_history/2","identifier":{"system":"urn:mrn","value":"9"}},
			"performer":[{"reference":"#c1"},{"reference":"http://ex.org/fhir/Practitioner/7/_history/1"},{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","type":"Organization"},{"identifier":{"value":"npi-1"}},{"reference":"Practitioner?identifier=x"}]}`,
			[]string{"subject", "performer"}, []string{
				"performer:Reference=http://ex.org/fhir/Practitioner/7 type=Practitioner id=7 v=1",
				"performer:Reference=urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0 type=Organization id= v=",
				"performer:identifier=|npi-1",
				"subject:Reference=Patient/123 type=Patient id=123 v=2",
				"subject:identifier=urn:mrn|9",
			}},
		{"reference from canonical", `{"resourceType":"PlanDefinition","status":"draft","relatedArtifact":[{"type":"depends-on","resource":"http://ex.org/fhir/Library/lib1|2.0"},{"type":"depends-on","resource":"#contained"}]}`,
			[]string{"depends-on"}, []string{"depends-on:canonical=http://ex.org/fhir/Library/lib1 type=Library id=lib1 v=2.0"}},
		{"uri", `{"resourceType":"ValueSet","status":"draft","url":"http://ex.org/vs|1","meta":{"profile":["http://ex.org/p"],"source":"urn:src"}}`,
			[]string{"url", "_profile", "_source"}, []string{"_profile:canonical=http://ex.org/p", "_source:uri=urn:src", "url:uri=http://ex.org/vs|1"}},
		{"date precision", `{"resourceType":"Patient","birthDate":"1974-12"}`,
			[]string{"birthdate"}, []string{"birthdate:date=[1974-12-01T00:00:00Z,1975-01-01T00:00:00Z)"}},
		{"dateTime with zone", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2013-01-14T10:00:00+10:00","issued":"2013-01-14T10:00:00.123Z"}`,
			[]string{"date"}, []string{"date:dateTime=[2013-01-14T00:00:00Z,2013-01-14T00:00:01Z)"}},
		{"period", `{"resourceType":"Encounter","status":"finished","class":{"code":"x"},"period":{"start":"2013-01-14","end":"2013-01-15T10:00:00Z"}}`,
			[]string{"date"}, []string{"date:Period=[2013-01-14T00:00:00Z,2013-01-15T10:00:01Z)"}},
		{"open period", `{"resourceType":"Encounter","status":"in-progress","class":{"code":"x"},"period":{"start":"2013"}}`,
			[]string{"date"}, []string{"date:Period=[2013-01-01T00:00:00Z,10000-01-01T00:00:00Z)"}},
		{"timing outer limits", `{"resourceType":"ServiceRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"occurrenceTiming":{"event":["2013-02-01","2013-01-31T10:00:00Z"],"repeat":{"boundsPeriod":{"start":"2013-01-15","end":"2013-03-24"}}}}`,
			[]string{"occurrence"}, []string{"occurrence:Timing=[2013-01-15T00:00:00Z,2013-03-25T00:00:00Z)"}},
		{"date from a string choice gives nothing", `{"resourceType":"Procedure","status":"completed","subject":{"reference":"Patient/1"},"performedString":"last spring"}`,
			[]string{"date"}, nil},
		{"number", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},"prediction":[{"probabilityDecimal":0.02},{"probabilityRange":{"low":{"value":0.1},"high":{"value":0.25}}}]}`,
			[]string{"probability"}, []string{"probability:decimal=0.02[0.015,0.025)", "probability:Range=[0.05,0.255)"}},
		{"quantity canonicalised", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":185,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"}}`,
			[]string{"value-quantity"}, []string{"value-quantity:Quantity=83914.58845[83687.792265,84141.384635) http://unitsofmeasure.org|g unit=lbs"}},
		{"age", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"value":52,"unit":"yr","system":"http://unitsofmeasure.org","code":"a"}}`,
			[]string{"onset-age"}, []string{"onset-age:Age=1640995200[1.6252164e+09,1.656774e+09) http://unitsofmeasure.org|s unit=yr"}},
		{"money", `{"resourceType":"Invoice","status":"issued","totalNet":{"value":40.5,"currency":"EUR"}}`,
			[]string{"totalnet"}, []string{"totalnet:Money=40.5[40.45,40.55) urn:iso:std:iso:4217|EUR unit=EUR"}},
		{"quantity range", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetRange":{"low":{"value":2,"system":"http://unitsofmeasure.org","code":"a"},"high":{"value":3,"system":"http://unitsofmeasure.org","code":"a"}}}`,
			[]string{"onset-age"}, []string{"onset-age:Range=[4.73364e+07,1.104516e+08) http://unitsofmeasure.org|s unit="}},
		{"bundle composition", `{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Composition","id":"c1","status":"final","type":{"text":"x"},"date":"2013","author":[{"display":"a"}],"title":"t"}}]}`,
			[]string{"composition", "message"}, []string{"composition:Resource=Composition/c1 type=Composition id=c1 v="}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := valuesOf(t, tc.resource, tc.params...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	if _, err := Extract(nil); !errors.Is(err, ErrNoResource) {
		t.Errorf("Extract(nil) error = %v", err)
	}
	if _, err := Extract(&fhir.Resource{}); !errors.Is(err, ErrNoResource) {
		t.Errorf("Extract(empty) error = %v", err)
	}
	if _, ok := ExtractParam(nil, "name"); ok {
		t.Error("ExtractParam(nil)")
	}
}

func TestExtractParam(t *testing.T) {
	r, err := fhir.Parse([]byte(`{"resourceType":"Patient","id":"x","meta":{"lastUpdated":"2020-01-01T00:00:00Z"},"name":[{"family":"Smith"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	vs, ok := ExtractParam(r, "family")
	if !ok || len(vs) != 1 || vs[0].Text != "smith" || vs[0].Param != "family" {
		t.Errorf("ExtractParam(family) = %+v, %v", vs, ok)
	}
	// Metadata parameters are extracted on request, not by Extract.
	vs, ok = ExtractParam(r, "_lastUpdated")
	if !ok || len(vs) != 1 || vs[0].Low.Year() != 2020 {
		t.Errorf("ExtractParam(_lastUpdated) = %+v, %v", vs, ok)
	}
	all, _ := Extract(r)
	for _, v := range all {
		if v.Param == "_id" || v.Param == "_lastUpdated" {
			t.Errorf("Extract returned metadata parameter %s", v.Param)
		}
	}
	if _, ok := ExtractParam(r, "code"); ok {
		t.Error("ExtractParam of another type's parameter")
	}
}

// TestExtractInvariants runs Extract over every example and checks what
// every value must satisfy.
func TestExtractInvariants(t *testing.T) {
	res := loadResources(t, "fhir-r4-examples", 1, 0, true, true)
	n := 0
	for _, r := range res {
		vs, err := Extract(r.res)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			n++
			p, ok := Lookup(r.res.Type(), v.Param)
			if !ok || p.Type != v.Kind || p.Metadata {
				t.Errorf("%s: value for %s of kind %s", r.name, v.Param, v.Kind)
			}
			switch v.Kind {
			case String:
				if v.Text == "" || v.Text != Normalize(v.Raw) {
					t.Errorf("%s %s: string %q / %q", r.name, v.Param, v.Text, v.Raw)
				}
			case Token:
				if v.System == "" && v.Code == "" && v.Text == "" {
					t.Errorf("%s %s: empty token", r.name, v.Param)
				}
			case Reference:
				if v.Ref == "" && v.Code == "" {
					t.Errorf("%s %s: empty reference", r.name, v.Param)
				}
			case Date:
				if !v.Low.Before(v.High) {
					t.Errorf("%s %s: empty date range [%s, %s)", r.name, v.Param, v.Low, v.High)
				}
			case Number, Quantity:
				if !(v.NumLow < v.NumHigh) || math.IsNaN(v.NumLow) {
					t.Errorf("%s %s: empty range [%v, %v)", r.name, v.Param, v.NumLow, v.NumHigh)
				}
			case URI:
				if v.Raw == "" {
					t.Errorf("%s %s: empty uri", r.name, v.Param)
				}
			}
		}
	}
	t.Logf("%d values from %d resources", n, len(res))
}
