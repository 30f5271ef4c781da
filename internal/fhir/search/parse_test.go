package search

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// showQuery renders the parts of a query a test cares about: every
// clause, then the result parameters that differ from the defaults.
func showQuery(q Query) []string {
	var out []string
	for _, c := range q.Clauses {
		out = append(out, showClause(c))
	}
	if q.Count != DefaultCount {
		out = append(out, fmt.Sprintf("_count=%d", q.Count))
	}
	if q.Sort != nil {
		var keys []string
		for _, k := range q.Sort {
			s := k.Param.Code
			if k.Desc {
				s = "-" + s
			}
			keys = append(keys, s)
		}
		out = append(out, "_sort="+strings.Join(keys, ","))
	}
	if q.Total != TotalNone {
		out = append(out, fmt.Sprintf("_total=%d", q.Total))
	}
	if q.SummaryCount {
		out = append(out, "_summary=count")
	}
	if q.Elements != nil {
		out = append(out, "_elements="+strings.Join(q.Elements, ","))
	}
	for _, in := range q.Includes {
		out = append(out, "_include="+showInclude(in))
	}
	for _, in := range q.RevIncludes {
		out = append(out, "_revinclude="+showInclude(in))
	}
	if q.Ignored != nil {
		out = append(out, "ignored="+strings.Join(q.Ignored, " "))
	}
	return out
}

func showInclude(in Include) string {
	s := in.Source + ":" + in.Param.Code
	if in.Target != "" {
		s += ":" + in.Target
	}
	return s
}

// showClause renders a clause as code[:modifier]=operand,operand; a chain
// as code[:Type].{Type:clause; ...}.
func showClause(c Clause) string {
	key := c.Param.Code
	switch {
	case c.Modifier == TypeModifier:
		key += ":" + c.Target
	case c.Modifier != 0:
		key += ":" + c.Modifier.String()
	}
	if c.Chain != nil {
		var links []string
		for _, l := range c.Chain {
			links = append(links, l.Type+":"+showClause(l.Clause))
		}
		return key + ".{" + strings.Join(links, "; ") + "}"
	}
	var ops []string
	for _, op := range c.Values {
		if op.Param != c.Param.Code || op.Kind != c.Param.Type {
			ops = append(ops, "BAD PARAM OR KIND")
		}
		ops = append(ops, showOperand(c, op))
	}
	return key + "=" + strings.Join(ops, ",")
}

func showOperand(c Clause, op Operand) string {
	if c.Modifier == Missing {
		return fmt.Sprint(op.Missing)
	}
	pfx := ""
	if op.Prefix != Eq && op.Prefix != 0 {
		pfx = op.Prefix.String()
	}
	const day = "2006-01-02T15:04:05.999Z07:00"
	switch c.Param.Type {
	case String:
		return fmt.Sprintf("%q/%q", op.Text, op.Raw)
	case Token:
		if c.Modifier == Text {
			return fmt.Sprintf("text %q", op.Text)
		}
		if op.SystemGiven {
			return op.System + "|" + op.Code
		}
		return op.Code
	case Reference:
		if c.Modifier == Identifier {
			return fmt.Sprintf("id %s|%s given=%v", op.System, op.Code, op.SystemGiven)
		}
		return fmt.Sprintf("ref=%s type=%s id=%s", op.Ref, op.Type, op.ID)
	case URI:
		return op.Raw
	case Date:
		return fmt.Sprintf("%s[%s,%s)", pfx, op.Low.Format(day), op.High.Format(day))
	case Number:
		return fmt.Sprintf("%s%s[%g,%g)", pfx, op.Num, op.NumLow, op.NumHigh)
	case Quantity:
		given := ""
		if op.SystemGiven {
			given = " given"
		}
		return fmt.Sprintf("%s%s[%g,%g) %s|%s%s", pfx, op.Num, op.NumLow, op.NumHigh, op.System, op.Code, given)
	}
	return "?"
}

func mustQuery(t *testing.T, query string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("bad test query %q: %v", query, err)
	}
	return v
}

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		typ     string
		query   string
		lenient bool
		want    []string
	}{
		{"empty", "Patient", "", false, nil},

		// String.
		{"string", "Patient", "family=Zo%C3%AB%20%20SMITH", false, []string{`family="zoe smith"/"Zoë  SMITH"`}},
		{"string or", "Patient", "family=smith,jones", false, []string{`family="smith"/"smith","jones"/"jones"`}},
		{"string and", "Patient", "family=smith&family=jones", false, []string{`family="smith"/"smith"`, `family="jones"/"jones"`}},
		{"string exact", "Patient", "family:exact=Smith", false, []string{`family:exact="smith"/"Smith"`}},
		{"string contains", "Patient", "family:contains=mit", false, []string{`family:contains="mit"/"mit"`}},
		{"string contains counts runes", "Patient", "family:contains=%C3%A9%C3%A9%C3%A9", false, []string{`family:contains="eee"/"ééé"`}},
		{"missing true", "Patient", "family:missing=true", false, []string{`family:missing=true`}},
		{"missing false", "Patient", "birthdate:missing=false", false, []string{`birthdate:missing=false`}},

		// Escaping.
		{"escaped comma", "Patient", `family=a\,b`, false, []string{`family="a,b"/"a,b"`}},
		{"escaped backslash then comma", "Patient", `family=a\\,b`, false, []string{`family="a\\"/"a\\","b"/"b"`}},
		{"escaped dollar and bar", "Patient", `family=a\$b\|c`, false, []string{`family="a$b|c"/"a$b|c"`}},
		{"other backslash kept", "Patient", `family=a\b`, false, []string{`family="a\\b"/"a\\b"`}},
		{"escaped bar in token", "Patient", `identifier=http://x\|y|12\,3`, false, []string{`identifier=http://x|y|12,3`}},

		// Token.
		{"token code", "Observation", "code=1234-5", false, []string{`code=1234-5`}},
		{"token system and code", "Observation", "code=http://loinc.org|1234-5", false, []string{`code=http://loinc.org|1234-5`}},
		{"token no system", "Observation", "code=|1234-5", false, []string{`code=|1234-5`}},
		{"token any code of system", "Observation", "code=http://loinc.org|", false, []string{`code=http://loinc.org|`}},
		{"token or", "Patient", "gender=male,female", false, []string{`gender=male,female`}},
		{"token not", "Patient", "gender:not=male", false, []string{`gender:not=male`}},
		{"token text", "Observation", "code:text=Blood%20Press|ure", false, []string{`code:text=text "blood press|ure"`}},
		{"_id", "Patient", "_id=abc-1.2,xyz", false, []string{`_id=abc-1.2,xyz`}},
		{"_tag", "Patient", "_tag=http://t|x", false, []string{`_tag=http://t|x`}},

		// Reference.
		{"reference type/id", "Observation", "subject=Patient/123", false, []string{`subject=ref=Patient/123 type=Patient id=123`}},
		{"reference version dropped", "Observation", "subject=Patient/123/_history/4", false, []string{`subject=ref=Patient/123 type=Patient id=123`}},
		{"reference bare id", "Observation", "subject=123", false, []string{`subject=ref= type= id=123`}},
		{"reference type modifier", "Observation", "subject:Patient=123", false, []string{`subject:Patient=ref=Patient/123 type=Patient id=123`}},
		{"reference type modifier and type/id", "Observation", "subject:Patient=Patient/123", false, []string{`subject:Patient=ref=Patient/123 type=Patient id=123`}},
		{"reference single target", "Account", "patient=123", false, []string{`patient=ref=Patient/123 type=Patient id=123`}},
		{"reference absolute", "Observation", "subject=https://other.org/fhir/Patient/123/_history/2", false, []string{`subject=ref=https://other.org/fhir/Patient/123 type=Patient id=123`}},
		{"reference urn", "Observation", "subject=urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", false, []string{`subject=ref=urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0 type= id=`}},
		{"reference identifier", "Observation", "subject:identifier=http://sys|abc", false, []string{`subject:identifier=id http://sys|abc given=true`}},
		{"reference identifier value only", "Observation", "subject:identifier=abc", false, []string{`subject:identifier=id |abc given=false`}},

		// URI.
		{"uri", "ValueSet", "url=http://x.org/vs|1.0", false, []string{`url=http://x.org/vs|1.0`}},
		{"_profile", "Patient", "_profile=http://x.org/p", false, []string{`_profile=http://x.org/p`}},

		// Date.
		{"date year", "Patient", "birthdate=2013", false, []string{`birthdate=[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z)`}},
		{"date prefixes", "Patient", "birthdate=ge2013-01&birthdate=lt2013-02-03T10:00Z", false, []string{
			`birthdate=ge[2013-01-01T00:00:00Z,2013-02-01T00:00:00Z)`,
			`birthdate=lt[2013-02-03T10:00:00Z,2013-02-03T10:01:00Z)`}},
		{"date every prefix", "Patient", "birthdate=eq2013,ne2013,gt2013,lt2013,ge2013,le2013,sa2013,eb2013,ap2013", false, []string{
			`birthdate=[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),ne[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),gt[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),lt[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),ge[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),le[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),sa[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),eb[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z),ap[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z)`}},
		{"date with offset", "Patient", "birthdate=2013-01-14T10:00:00%2B10:00", false, []string{`birthdate=[2013-01-14T00:00:00Z,2013-01-14T00:00:01Z)`}},
		{"_lastUpdated", "Patient", "_lastUpdated=gt2024-05", false, []string{`_lastUpdated=gt[2024-05-01T00:00:00Z,2024-06-01T00:00:00Z)`}},

		// Number and quantity.
		{"number", "RiskAssessment", "probability=0.5", false, []string{`probability=0.5[0.45,0.55)`}},
		{"number prefix", "RiskAssessment", "probability=gt1.0e2", false, []string{`probability=gt100[95,105)`}},
		{"quantity number only", "Observation", "value-quantity=5.4", false, []string{`value-quantity=5.4[5.35,5.45) |`}},
		{"quantity ucum canonical", "Observation", "value-quantity=le5.4|http://unitsofmeasure.org|mg", false, []string{
			`value-quantity=le0.0054[0.00535,0.00545) http://unitsofmeasure.org|g given`}},
		{"quantity code only, ucum unit", "Observation", "value-quantity=5.4||mg", false, []string{
			`value-quantity=5.4[5.35,5.45) |mg,0.0054[0.00535,0.00545) http://unitsofmeasure.org|g given`}},
		{"quantity code only, other unit", "Observation", "value-quantity=7||tbl", false, []string{`value-quantity=7[6.5,7.5) |tbl`}},
		{"quantity other system", "Observation", "value-quantity=120|http://x.org|mm[Hg]", false, []string{`value-quantity=120[119.5,120.5) http://x.org|mm[Hg] given`}},
		{"quantity empty unit", "Observation", "value-quantity=5||", false, []string{`value-quantity=5[4.5,5.5) |`}},

		// Chains.
		{"chain", "Observation", "subject.name=smith", false, []string{
			`subject.{Location:name="smith"/"smith"; Patient:name="smith"/"smith"}`}},
		{"chain with type", "Observation", "subject:Patient.name=smith,jones", false, []string{
			`subject:Patient.{Patient:name="smith"/"smith","jones"/"jones"}`}},
		{"chain with inner modifier", "Observation", "subject:Patient.family:exact=Smith", false, []string{
			`subject:Patient.{Patient:family:exact="smith"/"Smith"}`}},
		{"chain repeated", "Observation", "subject:Patient.birthdate=2013&subject:Patient.birthdate=2014", false, []string{
			`subject:Patient.{Patient:birthdate=[2013-01-01T00:00:00Z,2014-01-01T00:00:00Z)}`,
			`subject:Patient.{Patient:birthdate=[2014-01-01T00:00:00Z,2015-01-01T00:00:00Z)}`}},

		// Result parameters.
		{"count", "Patient", "_count=50", false, []string{"_count=50"}},
		{"count zero", "Patient", "_count=0", false, []string{"_count=0"}},
		{"count max", "Patient", "_count=1000", false, []string{"_count=1000"}},
		{"sort", "Observation", "_sort=-date,code,_id,-_lastUpdated", false, []string{"_sort=-date,code,_id,-_lastUpdated"}},
		{"total", "Patient", "_total=accurate", false, []string{"_total=2"}},
		{"total estimate", "Patient", "_total=estimate", false, []string{"_total=1"}},
		{"total none", "Patient", "_total=none", false, nil},
		{"summary count", "Patient", "_summary=count&_count=50", false, []string{"_count=0", "_summary=count"}},
		{"summary false", "Patient", "_summary=false", false, nil},
		{"elements", "Patient", "_elements=name,birthDate,extension2", false, []string{"_elements=name,birthDate,extension2"}},
		{"include", "Observation", "_include=Observation:subject&_include=Observation:subject:Patient", false, []string{
			"_include=Observation:subject", "_include=Observation:subject:Patient"}},
		{"revinclude", "Patient", "_revinclude=Observation:subject&_revinclude=Provenance:target:Patient", false, []string{
			"_revinclude=Observation:subject", "_revinclude=Provenance:target:Patient"}},
		{"format and pretty ignored", "Patient", "_format=json&_pretty=true&_format:x=y", false, nil},

		// Lenient.
		{"lenient unknown parameter", "Patient", "nope=1&family=x", true, []string{`family="x"/"x"`, "ignored=nope"}},
		{"lenient unknown modifier", "Patient", "family:sounds=x&gender=male", true, []string{`gender=male`, "ignored=family:sounds"}},
		{"lenient unknown type modifier", "Observation", "subject:Patientt=1", true, []string{"ignored=subject:Patientt"}},
		{"lenient unknown chained parameter", "Observation", "subject.nope=1", true, []string{"ignored=subject.nope"}},
		{"lenient unknown inner modifier", "Observation", "subject:Patient.name:sounds=x", true, []string{"ignored=subject:Patient.name:sounds"}},
		{"lenient unknown result modifier", "Patient", "_count:x=1", true, []string{"ignored=_count:x"}},
		{"lenient other type's parameter", "Patient", "code=1", true, []string{"ignored=code"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.typ, mustQuery(t, tc.query), tc.lenient)
			if err != nil {
				t.Fatalf("Parse(%s, %q): %v", tc.typ, tc.query, err)
			}
			if q.Type != tc.typ {
				t.Errorf("Type = %q", q.Type)
			}
			if got := showQuery(q); !slices.Equal(got, tc.want) {
				t.Errorf("Parse(%s, %q)\n got %q\nwant %q", tc.typ, tc.query, got, tc.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	q, err := Parse("Patient", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != DefaultCount || q.Total != TotalNone || q.SummaryCount || q.Clauses != nil || q.Sort != nil {
		t.Errorf("defaults: %+v", q)
	}
	// Params kept in full: the clause carries the registry's definition.
	q, err = Parse("Patient", url.Values{"family": {"x"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if p := q.Clauses[0].Param; p.Expression != "Patient.name.family" || p.Type != String {
		t.Errorf("param %+v", p)
	}
}

// Every error names the parameter as written, and its message holds no
// query value.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name    string
		typ     string
		query   string
		lenient bool
		param   string
		err     error
	}{
		{"unknown type", "Nope", "family=x", false, "", errUnknownType},
		{"unknown parameter", "Patient", "nope=secret", false, "nope", errUnknownParam},
		{"empty key", "Patient", "=secret", false, "", errUnknownParam},
		{"other type's parameter", "Patient", "code=secret", false, "code", errUnknownParam},
		{"unknown modifier", "Patient", "family:sounds=secret", false, "family:sounds", errUnknownModifier},
		{"empty modifier", "Patient", "family:=secret", false, "family:", errUnknownModifier},
		{"unknown result modifier", "Patient", "_sort:asc=family", false, "_sort:asc", errUnknownModifier},

		// Known, but not what ward does: errors even when lenient.
		{"composite", "Observation", "code-value-quantity=secret$5", true, "code-value-quantity", errNotSupported},
		{"special", "Location", "near=42|-83|10|km", true, "near", errNotSupported},
		{"composite in chain", "Observation", "subject:Group.characteristic-value=secret", true, "subject:Group.characteristic-value", errNotSupported},
		{"_has", "Patient", "_has:Observation:patient:code=secret", true, "_has:Observation:patient:code", errNotSupported},
		{"_filter", "Patient", "_filter=secret", true, "_filter", errNotSupported},
		{"_text", "Patient", "_text=secret", true, "_text", errNotSupported},
		{"_content", "Patient", "_content=secret", true, "_content", errNotSupported},
		{"_list", "Patient", "_list=secret", true, "_list", errNotSupported},
		{"_query", "Patient", "_query=secret", true, "_query", errNotSupported},
		{"_type", "Patient", "_type=Observation", true, "_type", errNotSupported},
		{"_contained", "Patient", "_contained=true", true, "_contained", errNotSupported},
		{"_containedType", "Patient", "_containedType=container", true, "_containedType", errNotSupported},
		{"_cursor", "Patient", "_cursor=secret", true, "_cursor", errCursor},
		{"modifier above", "Observation", "code:above=secret", true, "code:above", errModNotSupported},
		{"modifier below", "Observation", "code:below=secret", true, "code:below", errModNotSupported},
		{"modifier in", "Observation", "code:in=secret", true, "code:in", errModNotSupported},
		{"modifier not-in", "Observation", "code:not-in=secret", true, "code:not-in", errModNotSupported},
		{"modifier of-type", "Patient", "identifier:of-type=a|b|secret", true, "identifier:of-type", errModNotSupported},
		{"exact on token", "Observation", "code:exact=secret", true, "code:exact", errModNotAllowed},
		{"not on string", "Patient", "family:not=secret", true, "family:not", errModNotAllowed},
		{"text on reference", "Observation", "subject:text=secret", true, "subject:text", errModNotAllowed},
		{"contains on date", "Patient", "birthdate:contains=2013", true, "birthdate:contains", errModNotAllowed},
		{"type on string", "Patient", "family:Patient=secret", true, "family:Patient", errModNotAllowed},
		{"type not a target", "Observation", "subject:Practitioner=secret", true, "subject:Practitioner", errNotTarget},

		// Chains.
		{"deep chain", "Observation", "subject.organization.name=secret", true, "subject.organization.name", errDeepChain},
		{"chain on string", "Patient", "family.name=secret", true, "family.name", errChainNotRef},
		{"chain with modifier", "Observation", "subject:identifier.name=secret", true, "subject:identifier.name", errChainModifier},
		{"chain with missing", "Observation", "subject:missing.name=true", true, "subject:missing.name", errChainModifier},
		{"chain type not a target", "Observation", "subject:Practitioner.name=secret", true, "subject:Practitioner.name", errNotTarget},
		{"chain bad value", "Observation", "subject:Patient.birthdate=secret", true, "subject:Patient.birthdate", errMalformedDate},
		{"chain inner modifier not allowed", "Observation", "subject:Patient.family:not=secret", true, "subject:Patient.family:not", errModNotAllowed},

		// Values: errors when lenient too.
		{"empty string", "Patient", "family=", true, "family", errEmpty},
		{"empty or member", "Patient", "family=secret,,other", true, "family", errEmpty},
		{"blank string", "Patient", "family=%20%09", true, "family", errEmpty},
		{"empty token", "Observation", "code=", true, "code", errEmpty},
		{"blank text", "Observation", "code:text=%20", true, "code:text", errEmpty},
		{"missing not boolean", "Patient", "family:missing=secret", true, "family:missing", errMissingValue},
		{"missing list", "Patient", "family:missing=true,false", true, "family:missing", errMissingValue},
		{"contains too short", "Patient", "family:contains=S%C3%A9", true, "family:contains", errContainsShort},
		{"contains short after normalising", "Patient", "family:contains=%20ab%20", true, "family:contains", errContainsShort},
		{"bare bar token", "Observation", "code=|", true, "code", errMalformedToken},
		{"two bars token", "Observation", "code=secret|a|b", true, "code", errMalformedToken},
		{"identifier bare bar", "Observation", "subject:identifier=|", true, "subject:identifier", errMalformedToken},
		{"id with system", "Patient", "_id=sys|secret", true, "_id", errMalformedID},
		{"id with space", "Patient", "_id=sec%20ret", true, "_id", errMalformedID},
		{"id too long", "Patient", "_id=" + strings.Repeat("s", 65), true, "_id", errMalformedID},
		{"reference unknown type", "Observation", "subject=Secret/123", true, "subject", errBadReference},
		{"reference bad id", "Observation", "subject=Patient/secret!", true, "subject", errBadReference},
		{"reference not a target", "Observation", "subject=Practitioner/secret", true, "subject", errBadReference},
		{"reference other than type modifier", "Observation", "subject:Patient=Group/secret", true, "subject:Patient", errBadReference},
		{"reference contained", "Observation", "subject=%23secret", true, "subject", errBadReference},
		{"reference conditional", "Observation", "subject=Patient?secret=1", true, "subject", errBadReference},
		{"reference relative path", "Observation", "subject=a/b/secret", true, "subject", errBadReference},
		{"absolute not a target", "Observation", "subject=http://x.org/Practitioner/secret", true, "subject", errBadReference},
		{"malformed date", "Patient", "birthdate=2013-13", true, "birthdate", errMalformedDate},
		{"date words", "Patient", "birthdate=secret", true, "birthdate", errMalformedDate},
		{"date upper-case prefix", "Patient", "birthdate=GT2013", true, "birthdate", errMalformedDate},
		{"date prefix only", "Patient", "birthdate=ge", true, "birthdate", errMalformedDate},
		{"date bad prefix", "Patient", "birthdate=xx2013", true, "birthdate", errMalformedDate},
		{"malformed _lastUpdated", "Patient", "_lastUpdated=2013-02-30", true, "_lastUpdated", errMalformedDate},
		{"malformed number", "RiskAssessment", "probability=secret", true, "probability", errMalformedNumber},
		{"number prefix only", "RiskAssessment", "probability=gt", true, "probability", errMalformedNumber},
		{"quantity two parts", "Observation", "value-quantity=5|secret", true, "value-quantity", errMalformedQuantity},
		{"quantity four parts", "Observation", "value-quantity=5|a|b|secret", true, "value-quantity", errMalformedQuantity},
		{"quantity system without code", "Observation", "value-quantity=5|secret|", true, "value-quantity", errMalformedQuantity},
		{"quantity bad number", "Observation", "value-quantity=secret||mg", true, "value-quantity", errMalformedQuantity},

		// Result parameters.
		{"count negative", "Patient", "_count=-1", true, "_count", errCount},
		{"count over max", "Patient", "_count=1001", true, "_count", errCount},
		{"count plus", "Patient", "_count=%2B5", true, "_count", errCount},
		{"count words", "Patient", "_count=secret", true, "_count", errCount},
		{"count empty", "Patient", "_count=", true, "_count", errCount},
		{"count repeated", "Patient", "_count=5&_count=6", true, "_count", errRepeated},
		{"sort unknown", "Patient", "_sort=secret", true, "_sort", errSort},
		{"sort empty item", "Patient", "_sort=family,", true, "_sort", errSort},
		{"sort dash only", "Patient", "_sort=-", true, "_sort", errSort},
		{"sort other type's", "Patient", "_sort=code", true, "_sort", errSort},
		{"total", "Patient", "_total=secret", true, "_total", errTotal},
		{"summary true", "Patient", "_summary=true", true, "_summary", errNotSupported},
		{"summary text", "Patient", "_summary=text", true, "_summary", errNotSupported},
		{"elements dotted", "Patient", "_elements=name.secret", true, "_elements", errElement},
		{"elements digit", "Patient", "_elements=1name", true, "_elements", errElement},
		{"elements empty", "Patient", "_elements=name,,gender", true, "_elements", errElement},
		{"include wildcard", "Observation", "_include=*", true, "_include", errNotSupported},
		{"include param wildcard", "Observation", "_include=Observation:*", true, "_include", errNotSupported},
		{"include iterate", "Observation", "_include:iterate=Patient:link", true, "_include:iterate", errNotSupported},
		{"revinclude iterate", "Patient", "_revinclude:iterate=Observation:subject", true, "_revinclude:iterate", errNotSupported},
		{"include recurse", "Observation", "_include:recurse=Patient:link", true, "_include:recurse", errNotSupported},
		{"include one part", "Observation", "_include=Observation", true, "_include", errInclude},
		{"include four parts", "Observation", "_include=Observation:subject:Patient:x", true, "_include", errInclude},
		{"include other source", "Observation", "_include=Patient:link", true, "_include", errIncludeSource},
		{"include not reference", "Observation", "_include=Observation:code", true, "_include", errIncludeParam},
		{"include unknown param", "Observation", "_include=Observation:secret", true, "_include", errIncludeParam},
		{"include target not a target", "Observation", "_include=Observation:subject:Practitioner", true, "_include", errIncludeTarget},
		{"include target unknown", "Observation", "_include=Observation:subject:Secret", true, "_include", errIncludeTarget},
		{"revinclude unknown source", "Patient", "_revinclude=Secret:subject", true, "_revinclude", errIncludeParam},
		{"revinclude does not refer", "Practitioner", "_revinclude=Observation:subject", true, "_revinclude", errIncludeTarget},
		{"revinclude other target", "Patient", "_revinclude=Observation:subject:Group", true, "_revinclude", errIncludeTarget},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params := mustQuery(t, tc.query)
			q, err := Parse(tc.typ, params, tc.lenient)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%s, %q) = %v, %v; want *Error", tc.typ, tc.query, showQuery(q), err)
			}
			if e.Param != tc.param || e.Msg != tc.err.Error() {
				t.Errorf("Parse(%s, %q) = %+v, want param %q msg %q", tc.typ, tc.query, *e, tc.param, tc.err)
			}
			for _, vs := range params {
				for _, v := range vs {
					if len(v) >= 3 && strings.Contains(e.Msg, v) {
						t.Errorf("message %q holds the value %q", e.Msg, v)
					}
				}
			}
			if !strings.Contains(e.Error(), fmt.Sprintf("%q", tc.param)) {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

// The registry has no parameter that forbids repeating or OR-ing; these
// check the rules on made-up ones.
func TestParseMultiple(t *testing.T) {
	p, _ := Lookup("Patient", "family")
	p.MultipleOr, p.MultipleAnd = false, false
	if _, err := clauses(p, 0, "", []string{"a", "b"}); err != errRepeated {
		t.Errorf("repeated: %v", err)
	}
	if _, err := clauses(p, 0, "", []string{"a,b"}); err != errOneValue {
		t.Errorf("or: %v", err)
	}
	if cs, err := clauses(p, 0, "", []string{`a\,b`}); err != nil || len(cs) != 1 || len(cs[0].Values) != 1 {
		t.Errorf("escaped comma: %v", err)
	}
}

func TestSplitEscaped(t *testing.T) {
	cases := []struct {
		in   string
		sep  byte
		want []string
	}{
		{"", ',', []string{""}},
		{"a,b", ',', []string{"a", "b"}},
		{`a\,b,c`, ',', []string{`a\,b`, "c"}},
		{`a\\,b`, ',', []string{`a\\`, "b"}},
		{`a\`, ',', []string{`a\`}},
		{`s|c\|d`, '|', []string{"s", `c\|d`}},
		{",", ',', []string{"", ""}},
	}
	for _, tc := range cases {
		if got := splitEscaped(tc.in, tc.sep); !slices.Equal(got, tc.want) {
			t.Errorf("splitEscaped(%q, %q) = %q, want %q", tc.in, tc.sep, got, tc.want)
		}
	}
	for in, want := range map[string]string{`a\,b`: "a,b", `\\`: `\`, `\$\|`: "$|", `\x`: `\x`, `a\`: `a\`, "plain": "plain"} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// The _lastUpdated clause matches the value the engine builds from the
// version timestamp.
func TestParseLastUpdatedMatch(t *testing.T) {
	q, err := Parse("Patient", url.Values{"_lastUpdated": {"ge2024-01-01"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	v := Value{Kind: Date, Low: at, High: at.Add(time.Millisecond)}
	if !q.Clauses[0].MatchAt([]Value{v}, at) {
		t.Error("no match")
	}
}
