package search

import (
	"slices"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/fhir"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		name, typ, code string
		ok              bool
		kind            Kind
		expr            string
		targets         []string
		metadata        bool
	}{
		{"own", "Patient", "family", true, String, "Patient.name.family", nil, false},
		{"split union", "Practitioner", "family", true, String, "Practitioner.name.family", nil, false},
		{"reference", "Observation", "patient", true, Reference, "Observation.subject.where(resolve() is Patient)", []string{"Group", "Patient"}, false},
		{"choice as", "Condition", "onset-age", true, Quantity, "Condition.onset.as(Age) | Condition.onset.as(Range)", nil, false},
		{"common", "Observation", "_tag", true, Token, "Resource.meta.tag", nil, false},
		{"metadata id", "Patient", "_id", true, Token, "Resource.id", nil, true},
		{"metadata lastUpdated", "Bundle", "_lastUpdated", true, Date, "Resource.meta.lastUpdated", nil, true},
		{"boolean expression", "Patient", "deceased", true, Token, "Patient.deceased.exists() and Patient.deceased != false", nil, false},
		{"context-relative", "InsurancePlan", "name", true, String, "name | alias", nil, false},
		{"composite is not listed", "Observation", "code-value-quantity", false, 0, "", nil, false},
		{"special is not listed", "Location", "near", false, 0, "", nil, false},
		{"no expression", "Patient", "_text", false, 0, "", nil, false},
		{"unknown code", "Patient", "nope", false, 0, "", nil, false},
		{"unknown type", "Nope", "_id", false, 0, "", nil, false},
		{"other type's parameter", "Patient", "code", false, 0, "", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := Lookup(tc.typ, tc.code)
			if ok != tc.ok {
				t.Fatalf("Lookup(%s, %s) ok = %v", tc.typ, tc.code, ok)
			}
			if !ok {
				return
			}
			if p.Code != tc.code || p.Type != tc.kind || p.Expression != tc.expr || p.Metadata != tc.metadata {
				t.Errorf("Lookup(%s, %s) = %+v", tc.typ, tc.code, p)
			}
			if tc.targets != nil && !slices.Equal(p.Targets, tc.targets) {
				t.Errorf("targets %q, want %q", p.Targets, tc.targets)
			}
			if !p.MultipleOr || !p.MultipleAnd || !strings.HasPrefix(p.Definition, "http://hl7.org/fhir/SearchParameter/") {
				t.Errorf("Lookup(%s, %s) = %+v", tc.typ, tc.code, p)
			}
		})
	}
}

func TestParamFields(t *testing.T) {
	cases := []struct {
		typ, code string
		mods      Modifier
		prefixes  Prefix
	}{
		{"Patient", "name", Missing | Exact | Contains, 0},
		{"Patient", "identifier", Missing | Not | Text, 0},
		{"Observation", "subject", Missing | Identifier | TypeModifier, 0},
		{"Observation", "date", Missing, Eq | Ne | Gt | Lt | Ge | Le | Sa | Eb | Ap},
		{"Observation", "value-quantity", Missing, Eq | Ne | Gt | Lt | Ge | Le | Sa | Eb | Ap},
		{"RiskAssessment", "probability", Missing, Eq | Ne | Gt | Lt | Ge | Le | Sa | Eb | Ap},
		{"ValueSet", "url", Missing, 0},
	}
	for _, tc := range cases {
		p, ok := Lookup(tc.typ, tc.code)
		if !ok || p.Modifiers != tc.mods || p.Comparators != tc.prefixes {
			t.Errorf("%s.%s: modifiers %v, prefixes %v, want %v, %v", tc.typ, tc.code, p.Modifiers, p.Comparators, tc.mods, tc.prefixes)
		}
	}
	// Callers get their own copy of the targets.
	p, _ := Lookup("Observation", "subject")
	p.Targets[0] = "changed"
	if q, _ := Lookup("Observation", "subject"); q.Targets[0] == "changed" {
		t.Error("Lookup shares its target list")
	}
}

func TestParams(t *testing.T) {
	total := 0
	for _, typ := range fhir.ResourceTypes() {
		ps := Params(typ)
		if len(ps) < 6 {
			t.Errorf("%s has %d parameters", typ, len(ps))
		}
		if !slices.IsSortedFunc(ps, func(a, b Param) int { return strings.Compare(a.Code, b.Code) }) {
			t.Errorf("%s: parameters not sorted", typ)
		}
		for _, p := range ps {
			if q, ok := Lookup(typ, p.Code); !ok || q.Expression != p.Expression {
				t.Errorf("%s.%s: Params and Lookup disagree", typ, p.Code)
			}
		}
		total += len(ps)
	}
	if Params("Nope") != nil {
		t.Error("Params of an unknown type")
	}
	// 1,624 type-specific parameters plus 6 common ones on each of 146 types.
	if want := 1624 + 6*146; total != want {
		t.Errorf("%d parameters in all, want %d", total, want)
	}
	names := map[string]int{}
	for _, p := range Params("Patient") {
		names[p.Code]++
	}
	for _, c := range []string{"_id", "_lastUpdated", "_profile", "_security", "_source", "_tag", "name", "family", "given", "birthdate", "identifier", "phone", "email", "address-city", "general-practitioner", "link"} {
		if names[c] != 1 {
			t.Errorf("Patient lacks %s", c)
		}
	}
}

func TestUnsupportedParams(t *testing.T) {
	us := UnsupportedParams()
	kinds := map[Kind]int{}
	for _, u := range us {
		kinds[u.Type]++
		if u.Reason == "" || u.Definition == "" || len(u.Base) == 0 {
			t.Errorf("incomplete: %+v", u)
		}
	}
	if kinds[Composite] != 46 || kinds[Special] != 1 || len(us) != 50 {
		t.Errorf("unsupported %v (%d): want 46 composite, 1 special and _text, _content, _query", kinds, len(us))
	}
	us[0].Base[0] = "changed"
	if UnsupportedParams()[0].Base[0] == "changed" {
		t.Error("UnsupportedParams shares its lists")
	}
}

// noValue lists the static types an expression can select for which the
// parameter's kind defines no search value (R4 search compares dates,
// quantities and references only on the types its tables name).
var noValue = map[Kind][]string{
	Date:      {"string", "Age", "Range"}, // Procedure.performed[x], Condition.onset[x] choices
	Reference: {"Attachment"},             // Consent.source[x]
	Quantity:  {"SampledData"},            // Observation.value[x] as SampledData
}

// TestStaticTypes checks that every type each compiled expression can
// select has a reader for the parameter's kind, or is a documented no-value
// case, so no selected element is dropped silently.
func TestStaticTypes(t *testing.T) {
	for key, types := range staticTypes {
		typ, code, _ := strings.Cut(key, ".")
		if typ == "Resource" {
			typ = "Patient"
		}
		p, ok := Lookup(typ, code)
		if !ok {
			t.Errorf("%s: no such parameter", key)
			continue
		}
		for _, st := range types {
			if st == "System.Boolean" && p.Type == Token {
				continue
			}
			if st == "Resource" && p.Type == Reference {
				continue // any resource: readResource
			}
			if readerFor(p.Type, st) == nil && !slices.Contains(noValue[p.Type], st) {
				t.Errorf("%s (%s) selects %s: no reader", key, p.Type, st)
			}
		}
	}
}

func TestModifierAndPrefix(t *testing.T) {
	for _, s := range []string{"missing", "exact", "contains", "text", "not", "above", "below", "in", "not-in", "of-type", "identifier"} {
		m, ok := ParseModifier(s)
		if !ok || m.String() != s {
			t.Errorf("ParseModifier(%q) = %v, %v", s, m, ok)
		}
	}
	if m, ok := ParseModifier("Patient"); !ok || m != TypeModifier {
		t.Error("a resource type is the type modifier")
	}
	if _, ok := ParseModifier("nope"); ok {
		t.Error("unknown modifier accepted")
	}
	if !(Missing | Exact).Has(Exact) || (Missing).Has(Exact) {
		t.Error("Modifier.Has")
	}
	for _, s := range []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"} {
		p, ok := ParsePrefix(s)
		if !ok || p.String() != s {
			t.Errorf("ParsePrefix(%q) = %v, %v", s, p, ok)
		}
	}
	if _, ok := ParsePrefix("xx"); ok {
		t.Error("unknown prefix accepted")
	}
	if (Eq|Ge).String() != "eq,ge" || !(Eq | Ge).Has(Ge) {
		t.Error("Prefix.String / Has")
	}
	if String.String() != "string" || URI.String() != "uri" || Kind(0).String() != "invalid" {
		t.Error("Kind.String")
	}
}
