package search

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"
)

// parseErrors are every message Parse may give: fixed texts, so that no
// query value can reach one.
var parseErrors = []error{
	errUnknownType, errUnknownParam, errUnknownModifier, errModNotSupported, errModNotAllowed,
	errNotTarget, errNotSupported, errCursor, errDeepChain, errChainNotRef, errChainModifier,
	errRepeated, errOneValue, errEmpty, errMissingValue, errContainsShort, errMalformedToken,
	errMalformedID, errBadReference, errMalformedDate, errMalformedNumber, errMalformedQuantity,
	errCount, errSort, errTotal, errElement, errInclude, errIncludeSource, errIncludeParam,
	errIncludeTarget,
}

// fuzzTypes are the resource types FuzzParse searches, picked by index.
var fuzzTypes = []string{"Patient", "Observation", "RiskAssessment", "Location", "ValueSet", "Account"}

// fuzzValues are values of every kind for MatchAt to compare with.
var fuzzValues = []Value{
	{Kind: String, Text: "zoe smith", Raw: "Zoë Smith"},
	{Kind: Token, System: "http://loinc.org", Code: "1234-5", Text: "blood pressure"},
	{Kind: Token, Text: "text only"},
	{Kind: Reference, Ref: "Patient/1", Type: "Patient", ID: "1"},
	{Kind: Reference, Of: "Identifier", System: "http://sys", Code: "abc"},
	{Kind: URI, Raw: "http://x.org/vs"},
	{Kind: Date, Low: time.Date(2013, 1, 1, 0, 0, 0, 0, time.UTC), High: OpenHigh()},
	{Kind: Date, Low: time.Time{}, High: time.Date(2013, 1, 2, 0, 0, 0, 0, time.UTC)},
	{Kind: Number, Num: "0.54", NumLow: 0.535, NumHigh: 0.545},
	{Kind: Number, NumLow: math.Inf(-1), NumHigh: 0.45},
	{Kind: Quantity, Num: "0.0054", NumLow: 0.00535, NumHigh: 0.00545, System: ucumSystem, Code: "g", Unit: "mg"},
	{Kind: Quantity, Num: "7", NumLow: 6.5, NumHigh: 7.5, Unit: "tbl"},
}

// FuzzParse feeds arbitrary query strings to Parse: no panics, errors
// are *Error with one of the fixed messages, and what it accepts keeps
// the documented invariants and can be matched.
//
//	go test -run XXX -fuzz FuzzParse -fuzztime 30s ./internal/fhir/search/
func FuzzParse(f *testing.F) {
	seeds := []string{
		"family=Zo%C3%AB,smith&family:exact=A&family:contains=abc&given:missing=true",
		`family=a\,b\\,c\|d\$e\`,
		"code=http://loinc.org|1234-5,|x,sys|&code:text=blood&code:not=a&_id=abc,def&_tag=s|c",
		"subject=Patient/1/_history/2,123,urn:uuid:1,https://x.org/fhir/Patient/1&subject:Patient=1&subject:identifier=s|v",
		"subject.name=smith&subject:Patient.family:exact=x&subject.organization.name=x&code.x=1",
		"birthdate=ge2013-01&birthdate=ap2013-01-14T10:00:00%2B10:00&_lastUpdated=lt2024",
		"probability=gt1.0e2,ap0.5&value-quantity=5.4|http://unitsofmeasure.org|mg,5.4||mg,7||tbl,lt5",
		"_count=0&_sort=-date,_id&_total=accurate&_summary=count&_elements=name,id",
		"_include=Observation:subject:Patient&_revinclude=Provenance:target&_include:iterate=x",
		"nope=1&family:sounds=x&_has:Observation:patient:code=1&_cursor=x&near=1|2|3|km",
		"code-value-quantity=x$1&_format=json&_pretty=true&=x&:=&.=",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, typ uint8, query string, lenient bool) {
		params, _ := url.ParseQuery(query) // keeps what parses
		rt := fuzzTypes[int(typ)%len(fuzzTypes)]
		q, err := Parse(rt, params, lenient)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T, want *Error", err)
			}
			if _, ok := params[e.Param]; !ok {
				t.Fatalf("error names %q, not a parameter of the query", e.Param)
			}
			for _, known := range parseErrors {
				if e.Msg == known.Error() {
					return
				}
			}
			t.Fatalf("message %q is not one of the fixed messages", e.Msg)
		}
		if q.Type != rt || q.Count < 0 || q.Count > MaxCount || q.SummaryCount && q.Count != 0 {
			t.Fatalf("bad query: type %q, count %d", q.Type, q.Count)
		}
		for _, c := range q.Clauses {
			checkClause(t, c, true)
		}
	})
}

// checkClause checks a parsed clause's invariants and that MatchAt runs
// on values of every kind.
func checkClause(t *testing.T, c Clause, outer bool) {
	t.Helper()
	if (c.Chain == nil) == (c.Values == nil) {
		t.Fatalf("%s: want values or a chain", c.Param.Code)
	}
	if c.Chain != nil {
		if !outer || c.Param.Type != Reference {
			t.Fatalf("%s: bad chain", c.Param.Code)
		}
		for _, l := range c.Chain {
			checkClause(t, l.Clause, false)
		}
	}
	if c.Modifier == Missing && len(c.Values) != 1 {
		t.Fatalf("%s: :missing with %d values", c.Param.Code, len(c.Values))
	}
	for _, op := range c.Values {
		switch {
		case c.Modifier == Missing:
		case op.Kind == Date && !op.Low.Before(op.High),
			(op.Kind == Number || op.Kind == Quantity) && !(op.NumLow < op.NumHigh):
			t.Fatalf("%s: empty operand range", c.Param.Code)
		}
	}
	now := time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)
	c.MatchAt(fuzzValues, now)
	c.MatchAt(nil, now)
	for i := range fuzzValues {
		c.MatchAt(fuzzValues[i:i+1], now)
	}
}
