package search

import (
	"net/url"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
)

// matchNow is the clock of the match tests: ap on dates measures from it.
var matchNow = time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)

// Resources the match cases extract their values from.
const (
	patientSmith = `{"resourceType":"Patient","id":"p1",
		"identifier":[{"system":"http://hospital.org/mrn","value":"MRN-1","type":{"text":"Medical record number"}}],
		"name":[{"family":"Smith","given":["Zoë","Ann"]}],
		"gender":"female","birthDate":"2013-06-15","deceasedBoolean":false}`
	patientBare = `{"resourceType":"Patient","id":"p2"}`
	patientMale = `{"resourceType":"Patient","id":"p3","gender":"male",
		"identifier":[{"system":"http://hospital.org/mrn"}]}`

	obsLOINC = `{"resourceType":"Observation","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"},
			{"code":"BP"}],"text":"Blood pressure systolic and diastolic"},
		"subject":{"reference":"Patient/123/_history/2"},
		"effectivePeriod":{"start":"2013-01-01","end":"2013-12-31"},
		"valueQuantity":{"value":5.4,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}`
	obsTextOnly = `{"resourceType":"Observation","status":"final","code":{"text":"bp"},
		"subject":{"reference":"https://other.org/fhir/Patient/123"},
		"effectivePeriod":{"start":"2020-01-01"},
		"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`
	obsNoSystem = `{"resourceType":"Observation","status":"final","code":{"coding":[{"code":"85354-9"}]},
		"subject":{"identifier":{"system":"http://sys","value":"abc"}},
		"effectiveDateTime":"2013-06-15T10:30:00Z",
		"valueQuantity":{"value":7,"unit":"tbl"}}`
	obsGroup = `{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"subject":{"reference":"Group/123"},
		"valueQuantity":{"value":5.4,"unit":"mg"}}`

	riskPoint = `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},
		"prediction":[{"probabilityDecimal":0.54}]}`
	riskRange = `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},
		"prediction":[{"probabilityRange":{"low":{"value":0.2},"high":{"value":0.4}}}]}`
	riskHundred = `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},
		"prediction":[{"probabilityDecimal":109}]}`
	riskOpen = `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/1"},
		"prediction":[{"probabilityRange":{"low":{"value":0.5}}}]}`

	valueSet = `{"resourceType":"ValueSet","status":"active","url":"http://x.org/vs"}`
	account  = `{"resourceType":"Account","status":"active","subject":[{"reference":"Patient/123"}]}`
)

func TestMatchAt(t *testing.T) {
	cases := []struct {
		name     string
		query    string // one parameter
		resource string
		want     bool
	}{
		// :missing.
		{"missing true, none", "family:missing=true", patientBare, true},
		{"missing true, some", "family:missing=true", patientSmith, false},
		{"missing false, some", "family:missing=false", patientSmith, true},
		{"missing false, none", "family:missing=false", patientBare, false},

		// String.
		{"string prefix", "family=smi", patientSmith, true},
		{"string whole", "family=smith", patientSmith, true},
		{"string case and accents", "given=ZO%C3%8B", patientSmith, true},
		{"string accents dropped", "given=zoe", patientSmith, true},
		{"string not a prefix", "family=mith", patientSmith, false},
		{"string longer than value", "family=smithson", patientSmith, false},
		{"string or", "family=jones,smi", patientSmith, true},
		{"string any value", "name=ann", patientSmith, true},
		{"string no values", "family=smith", patientBare, false},
		{"exact", "family:exact=Smith", patientSmith, true},
		{"exact case", "family:exact=smith", patientSmith, false},
		{"exact prefix", "family:exact=Smit", patientSmith, false},
		{"exact accents", "given:exact=Zoe", patientSmith, false},
		{"contains", "family:contains=MIT", patientSmith, true},
		{"contains not", "family:contains=xyz", patientSmith, false},

		// Token.
		{"token code any system", "code=85354-9", obsLOINC, true},
		{"token system and code", "code=http://loinc.org|85354-9", obsLOINC, true},
		{"token other system", "code=http://snomed.info/sct|85354-9", obsLOINC, false},
		{"token no system, coded in a system", "code=|85354-9", obsLOINC, false},
		{"token no system, coded without", "code=|85354-9", obsNoSystem, true},
		{"token no system, second coding", "code=|BP", obsLOINC, true},
		{"token any code of system", "code=http://loinc.org|", obsLOINC, true},
		{"token any code of other system", "code=http://snomed.info/sct|", obsLOINC, false},
		{"token case-sensitive", "code=bp", obsLOINC, false},
		{"token text-only value has no code", "code=bp", obsTextOnly, false},
		{"token or", "gender=male,female", patientSmith, true},
		{"token boolean", "deceased=false", patientSmith, true},
		{"token identifier", "identifier=http://hospital.org/mrn|MRN-1", patientSmith, true},
		{"token identifier value", "identifier=MRN-1", patientSmith, true},
		{"token identifier other system", "identifier=http://x|MRN-1", patientSmith, false},
		{"token system of a value without code", "identifier=http://hospital.org/mrn|", patientMale, true},
		{"token code, value without code", "identifier=MRN-1", patientMale, false},
		{"text prefix", "code:text=blood", obsLOINC, true},
		{"text word start", "code:text=DIAST", obsLOINC, true},
		{"text display", "code:text=pressure%20pan", obsLOINC, true},
		{"text inside a word", "code:text=ssure", obsLOINC, false},
		{"text of text-only value", "code:text=bp", obsTextOnly, true},
		{"text of identifier type", "identifier:text=record", patientSmith, true},
		{"not, other code", "gender:not=male", patientSmith, true},
		{"not, same code", "gender:not=female", patientSmith, false},
		{"not, no values", "gender:not=male", patientBare, true},
		{"not, any of the codes", "gender:not=female,male", patientMale, false},
		{"not, with system", "code:not=http://loinc.org|85354-9", obsNoSystem, true},

		// Reference.
		{"reference type/id", "subject=Patient/123", obsLOINC, true},
		{"reference version dropped", "subject=Patient/123/_history/9", obsLOINC, true},
		{"reference other id", "subject=Patient/124", obsLOINC, false},
		{"reference other type", "subject=Group/123", obsLOINC, false},
		{"reference bare id", "subject=123", obsLOINC, true},
		{"reference bare id, any type", "subject=123", obsGroup, true},
		{"reference bare id, absolute", "subject=123", obsTextOnly, true},
		{"reference type modifier", "subject:Patient=123", obsLOINC, true},
		{"reference type modifier, other type", "subject:Patient=123", obsGroup, false},
		{"reference single target", "patient=123", account, true},
		{"reference relative against absolute", "subject=Patient/123", obsTextOnly, false},
		{"reference absolute", "subject=https://other.org/fhir/Patient/123", obsTextOnly, true},
		{"reference absolute against relative", "subject=https://other.org/fhir/Patient/123", obsLOINC, false},
		{"reference identifier", "subject:identifier=http://sys|abc", obsNoSystem, true},
		{"reference identifier value", "subject:identifier=abc", obsNoSystem, true},
		{"reference identifier other", "subject:identifier=http://sys|abd", obsNoSystem, false},
		{"reference identifier is not a reference", "subject:identifier=123", obsLOINC, false},
		{"reference missing", "subject:missing=true", obsLOINC, false},

		// URI.
		{"uri", "url=http://x.org/vs", valueSet, true},
		{"uri is not a prefix", "url=http://x.org/v", valueSet, false},
		{"uri case", "url=http://X.org/vs", valueSet, false},

		// Date: a day [2013-06-15, 2013-06-16).
		{"date eq year", "birthdate=2013", patientSmith, true},
		{"date eq day", "birthdate=2013-06-15", patientSmith, true},
		{"date eq other day", "birthdate=2013-06-16", patientSmith, false},
		{"date eq finer than value", "birthdate=2013-06-15T10:00Z", patientSmith, false},
		{"date ne", "birthdate=ne2013", patientSmith, false},
		{"date ne other", "birthdate=ne2014", patientSmith, true},
		{"date gt", "birthdate=gt2012", patientSmith, true},
		{"date gt containing", "birthdate=gt2013", patientSmith, false},
		{"date lt", "birthdate=lt2014", patientSmith, true},
		{"date lt same day", "birthdate=lt2013-06-15", patientSmith, false},
		{"date ge same day", "birthdate=ge2013-06-15", patientSmith, true},
		{"date ge next day", "birthdate=ge2013-06-16", patientSmith, false},
		{"date ge earlier", "birthdate=ge2013-06-14", patientSmith, true},
		{"date le same day", "birthdate=le2013-06-15", patientSmith, true},
		{"date le earlier", "birthdate=le2013-06-14", patientSmith, false},
		{"date sa", "birthdate=sa2013-06-14", patientSmith, true},
		{"date sa same day", "birthdate=sa2013-06-15", patientSmith, false},
		{"date eb", "birthdate=eb2013-06-16", patientSmith, true},
		{"date eb same day", "birthdate=eb2013-06-15", patientSmith, false},
		{"date ap near", "birthdate=ap2013-03", patientSmith, true},  // 10% of ~11 years widens by ~1.1
		{"date ap far", "birthdate=ap2010", patientSmith, false},     // widened to ~2008-08 .. 2012-05
		{"date ap contains", "birthdate=ap2013", patientSmith, true}, // overlap
		{"date offset", "date=2013-06-15T20:30:00%2B10:00", obsNoSystem, true},

		// Date: a period [2013-01-01, 2014-01-01).
		{"period eq", "date=2013", obsLOINC, true},
		{"period eq inside", "date=2013-06", obsLOINC, false},
		{"period gt inside", "date=gt2013-06", obsLOINC, true},
		{"period gt after", "date=gt2013", obsLOINC, false},
		{"period lt inside", "date=lt2013-06", obsLOINC, true},
		{"period le before", "date=le2012", obsLOINC, false},
		{"period ge overlapping start", "date=ge2012-06", obsLOINC, true},
		{"period ap overlapping", "date=ap2013-12-31", obsLOINC, true},
		{"ongoing period gt", "date=gt2030", obsTextOnly, true},
		{"ongoing period lt", "date=lt2020", obsTextOnly, false},
		{"ongoing period eb", "date=eb2030", obsTextOnly, false},
		{"ongoing period sa", "date=sa2019", obsTextOnly, true},

		// Number: an exact value 0.54.
		{"number eq in precision", "probability=0.5", riskPoint, true},
		{"number eq finer", "probability=0.50", riskPoint, false},
		{"number eq exact", "probability=0.54", riskPoint, true},
		{"number ne", "probability=ne0.5", riskPoint, false},
		{"number ne other", "probability=ne0.6", riskPoint, true},
		{"number gt", "probability=gt0.5", riskPoint, true},
		{"number gt exact", "probability=gt0.54", riskPoint, false},
		{"number lt", "probability=lt0.5", riskPoint, false},
		{"number lt above", "probability=lt0.55", riskPoint, true},
		{"number ge equal", "probability=ge0.54", riskPoint, true},
		{"number ge in precision", "probability=ge0.6", riskPoint, false},
		{"number le", "probability=le0.54", riskPoint, true},
		{"number le in precision", "probability=le0.5", riskPoint, true},
		{"number sa", "probability=sa0.53", riskPoint, true},
		{"number eb", "probability=eb0.53", riskPoint, false},
		{"number ap", "probability=ap100", riskHundred, true},
		{"number ap too far", "probability=ap0.6", riskHundred, false},
		{"number ap within 10%", "probability=ap0.5", riskPoint, true},
		{"number ap beyond 10%", "probability=ap0.49", riskPoint, false}, // 0.05 away, 10% is 0.049
		{"number or", "probability=0.1,0.54", riskPoint, true},

		// Number: a range [0.15, 0.45).
		{"range eq contained", "probability=0.3", riskRange, false},
		{"range eq containing", "probability=0", riskRange, true}, // [-0.5, 0.5) contains it
		{"range gt", "probability=gt0.3", riskRange, true},
		{"range gt above", "probability=gt0.5", riskRange, false},
		{"range lt", "probability=lt0.3", riskRange, true},
		{"range lt below", "probability=lt0.1", riskRange, false},
		{"range sa", "probability=sa0.1", riskRange, true},
		{"range eb", "probability=eb0.5", riskRange, true},
		{"range ap", "probability=ap0.5", riskRange, true},
		{"open range gt", "probability=gt1000", riskOpen, true},
		{"open range lt", "probability=lt0.4", riskOpen, false},

		// Quantity: 5.4 mg in UCUM, stored as 0.0054 g.
		{"quantity ucum", "value-quantity=5.4|http://unitsofmeasure.org|mg", obsLOINC, true},
		{"quantity ucum other unit", "value-quantity=0.0054|http://unitsofmeasure.org|g", obsLOINC, true},
		{"quantity ucum micrograms", "value-quantity=5400|http://unitsofmeasure.org|ug", obsLOINC, true},
		{"quantity ucum gt", "value-quantity=gt5|http://unitsofmeasure.org|mg", obsLOINC, true},
		{"quantity ucum lt", "value-quantity=lt5|http://unitsofmeasure.org|mg", obsLOINC, false},
		{"quantity other system", "value-quantity=5.4|http://other.org|mg", obsLOINC, false},
		{"quantity code only", "value-quantity=5.4||mg", obsLOINC, true},
		{"quantity code only, grams", "value-quantity=0.0054||g", obsLOINC, true},
		{"quantity code only, lt not in written units", "value-quantity=lt1||mg", obsLOINC, false},
		{"quantity code only, ne", "value-quantity=ne5.4||mg", obsLOINC, false},
		{"quantity code only, unit of other quantity", "value-quantity=5.4||mg", obsGroup, true},
		{"quantity code only, lt unit of other quantity", "value-quantity=lt6||mg", obsGroup, true},
		{"quantity code only, unknown ucum", "value-quantity=120||mm[Hg]", obsTextOnly, true},
		{"quantity ucum, unknown ucum", "value-quantity=120|http://unitsofmeasure.org|mm[Hg]", obsTextOnly, true},
		{"quantity unit", "value-quantity=7||tbl", obsNoSystem, true},
		{"quantity unit ge", "value-quantity=ge6||tbl", obsNoSystem, true},
		{"quantity other unit", "value-quantity=7||mg", obsNoSystem, false},
		{"quantity number only", "value-quantity=7", obsNoSystem, true},
		{"quantity number only, other", "value-quantity=8", obsNoSystem, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := fhir.Parse([]byte(tc.resource))
			if err != nil {
				t.Fatalf("resource: %v", err)
			}
			q, err := Parse(r.Type(), mustQuery(t, tc.query), false)
			if err != nil || len(q.Clauses) != 1 {
				t.Fatalf("Parse(%q) = %d clauses, %v", tc.query, len(q.Clauses), err)
			}
			c := q.Clauses[0]
			values, ok := ExtractParam(r, c.Param.Code)
			if !ok {
				t.Fatalf("ExtractParam(%s)", c.Param.Code)
			}
			if got := c.MatchAt(values, matchNow); got != tc.want {
				t.Errorf("%s on %s = %v, want %v", tc.query, r.Type(), got, tc.want)
			}
		})
	}
}

// The metadata parameters match the values the engine builds itself.
func TestMatchAtMetadata(t *testing.T) {
	updated := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	id := []Value{{Kind: Token, Code: "p-1"}}
	lastUpdated := []Value{{Kind: Date, Low: updated, High: updated.Add(time.Millisecond)}}
	cases := []struct {
		query  string
		values []Value
		want   bool
	}{
		{"_id=p-1", id, true},
		{"_id=p-2,p-1", id, true},
		{"_id=p-2", id, false},
		{"_id=P-1", id, false},
		{"_id:not=p-1", id, false},
		{"_lastUpdated=2024-03-01", lastUpdated, true},
		{"_lastUpdated=2024-03-01T12:00:00Z", lastUpdated, true},
		{"_lastUpdated=2024-03-01T12:00Z", lastUpdated, true},
		{"_lastUpdated=ge2024", lastUpdated, true},
		{"_lastUpdated=gt2024-03-01T12:00:00Z", lastUpdated, false},
		{"_lastUpdated=lt2024-03-01T12:00:01Z", lastUpdated, true},
		{"_lastUpdated=lt2024", lastUpdated, false},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse("Patient", mustQuery(t, tc.query), false)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Clauses[0].MatchAt(tc.values, matchNow); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A chained clause is the engine's to resolve: MatchAt says no, and each
// link's clause matches the referenced resource's values.
func TestMatchAtChain(t *testing.T) {
	q, err := Parse("Observation", url.Values{"subject:Patient.family": {"smi"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	c := q.Clauses[0]
	if c.MatchAt([]Value{{Kind: Reference, Ref: "Patient/1", Type: "Patient", ID: "1"}}, matchNow) {
		t.Error("chained clause matched")
	}
	r, err := fhir.Parse([]byte(patientSmith))
	if err != nil {
		t.Fatal(err)
	}
	link := c.Chain[0]
	values, _ := ExtractParam(r, link.Clause.Param.Code)
	if link.Type != "Patient" || !link.Clause.MatchAt(values, matchNow) {
		t.Errorf("link %s did not match", link.Type)
	}
}

func TestMatchAtEmpty(t *testing.T) {
	var c Clause
	if c.MatchAt(nil, matchNow) || c.MatchAt([]Value{{Kind: String, Text: "x"}}, matchNow) {
		t.Error("a clause without operands matched")
	}
}

// ap on dates scales with the distance from now: the same query matches
// or not depending on the clock.
func TestMatchAtApproximateDate(t *testing.T) {
	q, err := Parse("Patient", url.Values{"birthdate": {"ap2020"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	v := []Value{{Kind: Date, Low: time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC), High: time.Date(2018, 6, 2, 0, 0, 0, 0, time.UTC)}}
	cases := []struct {
		now  time.Time
		want bool
	}{
		{time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC), false}, // now inside 2020: no widening
		{time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), true},  // 19 years on: ~1.9 years either side
		{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), true},  // 20 years before
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), false}, // 4 years on: ~5 months
	}
	for _, tc := range cases {
		if got := q.Clauses[0].MatchAt(v, tc.now); got != tc.want {
			t.Errorf("now %s: got %v, want %v", tc.now.Format(time.DateOnly), got, tc.want)
		}
	}
}
