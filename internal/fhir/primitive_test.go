package fhir

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// compileFHIRRegex compiles a published FHIR regex for whole strings,
// with \s and \S in their Java (ASCII) sense, which includes \v.
func compileFHIRRegex(t *testing.T, re string) *regexp.Regexp {
	t.Helper()
	re = strings.ReplaceAll(re, `[ \r\n\t\S]`, `[^\x0B\f]`)
	re = strings.ReplaceAll(re, `[^\s]`, `[^ \t\n\x0B\f\r]`)
	re = strings.ReplaceAll(re, `\S`, `[^ \t\n\x0B\f\r]`)
	re = strings.ReplaceAll(re, `\s`, `[ \t\n\x0B\f\r]`)
	return regexp.MustCompile(`^(?:` + re + `)$`)
}

// stricter reports whether s is one of the documented cases where the
// validator rejects a value its regex accepts.
func stricter(typ typeID, s string) bool {
	switch typ {
	case tDate, tDateTime, tInstant:
		return true // calendar: the regex allows 02-31
	case tInteger, tPositiveInt, tUnsignedInt:
		return len(s) >= 10 // 32-bit range
	case tString, tMarkdown:
		return !noControl(s) || s == ""
	case tBase64Binary:
		return strings.Contains(s, "=") // padding only at the end
	case tUri, tUrl, tCanonical:
		return s == ""
	}
	return false
}

var primitiveSamples = map[typeID][]string{
	tDate:         {"2020", "2020-01", "2020-01-31", "2020-02-30", "2024-02-29", "2023-02-29", "0000", "0001", "20200", "2020-1", "2020-00", "2020-13", "2020-01-00", "2020-01-32", "2020-01-01T00:00:00Z", "1900-02-29", "2000-02-29"},
	tDateTime:     {"2020", "2020-06", "2020-06-15", "2020-06-15T10:20:30Z", "2020-06-15T10:20:30.123+05:30", "2020-06-15T10:20:30-14:00", "2020-06-15T10:20:30+14:01", "2020-06-15T10:20:30+13:59", "2020-06-15T10:20Z", "2020-06-15T10:20:30", "2020-06-15T24:00:00Z", "2020-06-15T23:59:60Z", "2020-06-15T10:20:30.Z", "2020-06T10:20:30Z", "2020-06-15 10:20:30Z"},
	tInstant:      {"2020-06-15T10:20:30Z", "2020-06-15T10:20:30.1234567+01:00", "2020-06-15", "2020-06-15T10:20:30", "2020-06-15T10:20Z"},
	tTime:         {"00:00:00", "23:59:60", "23:59:59.999", "24:00:00", "10:00", "10:00:00Z", "1:00:00", "10:60:00"},
	tId:           {"a", "A-z.0", strings.Repeat("x", 64), strings.Repeat("x", 65), "a_b", "a b", "", "é"},
	tCode:         {"a", "a b", "a  b", " a", "a ", "a\tb", "a\t\tb", "a\nb", "a\vb"},
	tInteger:      {"0", "-0", "1", "-1", "01", "2147483647", "2147483648", "-2147483648", "-2147483649", "1.0", "1e2", "+1"},
	tPositiveInt:  {"1", "0", "-1", "2147483647", "2147483648", "01"},
	tUnsignedInt:  {"0", "1", "-0", "-1", "2147483647", "2147483648", "00"},
	tDecimal:      {"0", "-0", "1.0", "1e3", "1E+3", "-0.00100E-10", "01", "1.", ".1", "1e"},
	tUri:          {"http://a", "urn:x", "a b", "", "a\tb", "é"},
	tUrl:          {"http://a", "a b", ""},
	tCanonical:    {"http://a|1.0", "a\nb"},
	tOid:          {"urn:oid:1.2.3", "urn:oid:2.0", "urn:oid:3.1", "urn:oid:1", "urn:oid:1.02", "urn:oid:1..2", "urn:oid:1.2.", "oid:1.2"},
	tUuid:         {"urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "urn:uuid:C757873D-EC9A-4326-A141-556F43239520", "urn:uuid:c757873d-ec9a-4326-a141-556f4323952", "c757873d-ec9a-4326-a141-556f43239520"},
	tBase64Binary: {"YWJj", "YWJjZA==", "YWJjZA=", "YW Jj", " YWJj\n", "YWJ", "YW=j", "YWJj*", "====", "YWJjZA==YWJj"},
	tString:       {"a", " ", "a\tb", "a\u0000b", "a\fb", "a\vb", "é😀", ""},
	tMarkdown:     {"# a\n\n* b", "a\u0001"},
	tBoolean:      {"true", "false", "True", "1"},
}

// TestPrimitivesAgainstRegex checks every hand-written validator against
// the regex published for its type: anything it accepts the regex
// accepts, and anything it rejects that the regex accepts is a documented
// stricter rule. Inputs are the samples above plus seeded mutations.
func TestPrimitivesAgainstRegex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789-:.TZ+ abzAZ/=\t\né"
	for typ, re := range primitiveRegex {
		rx := compileFHIRRegex(t, re)
		inputs := append([]string(nil), primitiveSamples[typ]...)
		if len(inputs) == 0 {
			t.Errorf("no samples for %s", types[typ].name)
		}
		for _, s := range primitiveSamples[typ] {
			for range 200 {
				b := []byte(s)
				switch op := rng.IntN(3); {
				case op == 0 && len(b) > 0:
					b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
				case op == 1 && len(b) > 0:
					i := rng.IntN(len(b))
					b = append(b[:i], b[i+1:]...)
				default:
					i := rng.IntN(len(b) + 1)
					b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
				}
				inputs = append(inputs, string(b))
			}
		}
		accepted := 0
		for _, s := range inputs {
			got := validPrimitive(typ, s, true)
			want := rx.MatchString(s)
			if got {
				accepted++
			}
			switch {
			case got && !want:
				t.Errorf("%s: validator accepts %q, regex rejects it", types[typ].name, s)
			case !got && want && !stricter(typ, s):
				t.Errorf("%s: validator rejects %q, regex accepts it", types[typ].name, s)
			}
		}
		if accepted == 0 {
			t.Errorf("%s: no input accepted", types[typ].name)
		}
	}
}

func TestPrimitiveStricterRules(t *testing.T) {
	cases := []struct {
		name string
		typ  typeID
		in   string
		want bool
	}{
		{"leap day", tDate, "2024-02-29", true},
		{"no leap day", tDate, "2023-02-29", false},
		{"century not leap", tDateTime, "1900-02-29", false},
		{"400 years leap", tDateTime, "2000-02-29T00:00:00Z", true},
		{"april 31", tInstant, "2020-04-31T00:00:00Z", false},
		{"int32 max", tInteger, "2147483647", true},
		{"int32 overflow", tInteger, "2147483648", false},
		{"positiveInt overflow", tPositiveInt, "9999999999", false},
		{"nul in string", tString, "a\x00", false},
		{"tab in string", tString, "a\tb", true},
		{"string of 1 MiB runes", tString, strings.Repeat("é", maxStringChars), true},
		{"string over 1 MiB runes", tString, strings.Repeat("a", maxStringChars+1), false},
		{"base64 inner padding", tBase64Binary, "YQ==YWJj", false},
		{"base64 triple padding", tBase64Binary, "Y===", false},
		{"empty uri", tUri, "", false},
		{"xhtml div", tXhtml, `<div xmlns="http://www.w3.org/1999/xhtml">x</div>`, true},
		{"xhtml padded", tXhtml, "\n <div>x</div> \n", true},
		{"xhtml self-closed", tXhtml, "<div/>", true},
		{"xhtml other element", tXhtml, "<divx>a</divx>", false},
		{"xhtml text", tXhtml, "plain", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := validPrimitive(tc.typ, tc.in, true); got != tc.want {
				t.Errorf("validPrimitive(%s) = %v", types[tc.typ].name, got)
			}
		})
	}
}
