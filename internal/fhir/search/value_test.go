package search

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"clean ASCII unchanged", "smith", "smith"},
		{"case", "SMITH", "smith"},
		{"whitespace collapsed and trimmed", "  Van \t der\n\nBerg  ", "van der berg"},
		{"accents removed", "Zoë Åström", "zoe astrom"},
		{"decomposed input", "Zoe\u0308", "zoe"},
		{"letters that do not decompose", "Øyvind Łukasz Đorđe Ærø Œuvre", "oyvind lukasz dorde aero oeuvre"},
		{"sharp s", "Straße STRAẞE", "strasse strasse"},
		{"thorn and dotless i", "Þórr Işık", "thorr isik"},
		{"compatibility forms", "ﬁle Ｆｕｌｌ ²", "file full 2"},
		{"format characters dropped", "ab\u200dc\u00ad", "abc"},
		{"unicode spaces", "a\u00a0\u2003b", "a b"},
		{"greek final sigma", "ΟΔΟΣ οδος", "οδοσ οδοσ"},
		{"punctuation kept", "O'Brien-Smith", "o'brien-smith"},
		{"only spaces", " \t ", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := Normalize(Normalize(tc.in)); got != tc.want {
				t.Errorf("Normalize is not idempotent on %q: %q", tc.in, got)
			}
		})
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestDateRange(t *testing.T) {
	cases := []struct {
		name, in  string
		low, high string
		ok        bool
	}{
		{"year", "2013", "2013-01-01T00:00:00Z", "2014-01-01T00:00:00Z", true},
		{"month", "2013-01", "2013-01-01T00:00:00Z", "2013-02-01T00:00:00Z", true},
		{"december", "2013-12", "2013-12-01T00:00:00Z", "2014-01-01T00:00:00Z", true},
		{"day", "2013-01-14", "2013-01-14T00:00:00Z", "2013-01-15T00:00:00Z", true},
		{"leap day", "2016-02-29", "2016-02-29T00:00:00Z", "2016-03-01T00:00:00Z", true},
		{"second, UTC", "2013-01-14T10:00:00Z", "2013-01-14T10:00:00Z", "2013-01-14T10:00:01Z", true},
		{"second, offset", "2013-01-14T10:00:00+10:00", "2013-01-14T00:00:00Z", "2013-01-14T00:00:01Z", true},
		{"negative offset", "2013-01-14T22:30:00-05:30", "2013-01-15T04:00:00Z", "2013-01-15T04:00:01Z", true},
		{"milliseconds", "2013-01-14T10:00:00.123Z", "2013-01-14T10:00:00.123Z", "2013-01-14T10:00:00.124Z", true},
		{"tenths", "2013-01-14T10:00:00.5Z", "2013-01-14T10:00:00.5Z", "2013-01-14T10:00:00.6Z", true},
		{"more than nanoseconds", "2013-01-14T10:00:00.1234567891Z", "2013-01-14T10:00:00.123456789Z", "2013-01-14T10:00:00.12345679Z", true},
		{"minute (search values)", "2013-01-14T10:00Z", "2013-01-14T10:00:00Z", "2013-01-14T10:01:00Z", true},
		{"no zone is UTC", "2013-01-14T10:00:00", "2013-01-14T10:00:00Z", "2013-01-14T10:00:01Z", true},
		{"leap second", "2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z", "2017-01-01T00:00:01Z", true},
		{"bad month", "2013-13", "", "", false},
		{"bad day", "2013-02-29", "", "", false},
		{"bad hour", "2013-01-14T24:00:00Z", "", "", false},
		{"bad zone", "2013-01-14T10:00:00+15:00", "", "", false},
		{"trailing", "2013-01-14x", "", "", false},
		{"short year", "13", "", "", false},
		{"empty fraction", "2013-01-14T10:00:00.Z", "", "", false},
		{"empty", "", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, ok := DateRange(tc.in)
			if ok != tc.ok {
				t.Fatalf("DateRange(%q) ok = %v", tc.in, ok)
			}
			if ok && (!lo.Equal(utc(tc.low)) || !hi.Equal(utc(tc.high))) {
				t.Errorf("DateRange(%q) = [%s, %s), want [%s, %s)", tc.in, lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano), tc.low, tc.high)
			}
			if ok && lo.Location() != time.UTC {
				t.Errorf("not UTC: %v", lo.Location())
			}
		})
	}
}

func TestNumberValue(t *testing.T) {
	cases := []struct {
		name, in  string
		num       string
		low, high float64
		ok        bool
	}{
		{"integer", "100", "100", 99.5, 100.5, true},
		{"decimal", "5.4", "5.4", 5.35, 5.45, true},
		{"trailing zero keeps precision", "5.40", "5.4", 5.395, 5.405, true},
		{"exponent", "1e2", "100", 50, 150, true},
		{"exponent with fraction", "1.0e2", "100", 95, 105, true},
		{"negative", "-5.4", "-5.4", -5.45, -5.35, true},
		{"zero", "0", "0", -0.5, 0.5, true},
		{"negative zero", "-0.0", "0", -0.05, 0.05, true},
		{"small", "0.05", "0.05", 0.045, 0.055, true},
		{"borrow", "1000", "1000", 999.5, 1000.5, true},
		{"one", "1", "1", 0.5, 1.5, true},
		{"negative exponent", "25E-3", "0.025", 0.0245, 0.0255, true},
		{"huge exponent", "1e999999", "", 0, 0, false},
		{"not a number", "abc", "", 0, 0, false},
		{"dot only", "1.", "", 0, 0, false},
		{"empty", "", "", 0, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := NumberValue(tc.in)
			if ok != tc.ok {
				t.Fatalf("NumberValue(%q) ok = %v", tc.in, ok)
			}
			if ok && (v.Num != tc.num || v.NumLow != tc.low || v.NumHigh != tc.high || v.Kind != Number) {
				t.Errorf("NumberValue(%q) = %q [%v, %v), want %q [%v, %v)", tc.in, v.Num, v.NumLow, v.NumHigh, tc.num, tc.low, tc.high)
			}
		})
	}
}

func TestQuantityValue(t *testing.T) {
	const ucum = "http://unitsofmeasure.org"
	cases := []struct {
		name                string
		value, system, code string
		num, wantCode       string
		low, high           float64
	}{
		{"mg to g", "5.4", ucum, "mg", "0.0054", "g", 0.00535, 0.00545},
		{"kg to g", "70", ucum, "kg", "70000", "g", 69500, 70500},
		{"g stays", "12.5", ucum, "g", "12.5", "g", 12.45, 12.55},
		{"pounds", "185", ucum, "[lb_av]", "83914.58845", "g", 83687.792265, 84141.384635},
		{"cm to m", "180", ucum, "cm", "1.8", "m", 1.795, 1.805},
		{"mm to m", "3", ucum, "mm", "0.003", "m", 0.0025, 0.0035},
		{"min to s", "2", ucum, "min", "120", "s", 90, 150},
		{"h to s", "1.5", ucum, "h", "5400", "s", 5220, 5580},
		{"d to s", "1", ucum, "d", "86400", "s", 43200, 129600},
		{"years to s", "30", ucum, "a", "946728000", "s", 930949200, 962506800},
		{"mL to L", "250", ucum, "mL", "0.25", "L", 0.2495, 0.2505},
		{"compound unit left as is", "5.4", ucum, "mg/dL", "5.4", "mg/dL", 5.35, 5.45},
		{"other system left as is", "5.4", "http://example.org/units", "mg", "5.4", "mg", 5.35, 5.45},
		{"no unit", "3", "", "", "3", "", 2.5, 3.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := QuantityValue(tc.value, tc.system, tc.code, "unit text")
			if !ok {
				t.Fatal("not ok")
			}
			if v.Num != tc.num || v.Code != tc.wantCode || v.System != tc.system || v.Unit != "unit text" || v.Kind != Quantity {
				t.Errorf("QuantityValue(%s %s) = %+v", tc.value, tc.code, v)
			}
			if !near(v.NumLow, tc.low) || !near(v.NumHigh, tc.high) {
				t.Errorf("QuantityValue(%s %s) range [%v, %v), want [%v, %v)", tc.value, tc.code, v.NumLow, v.NumHigh, tc.low, tc.high)
			}
		})
	}
	if _, ok := QuantityValue("x", ucum, "mg", ""); ok {
		t.Error("bad value accepted")
	}
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

func TestDecimalString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1.50", "1.5"}, {"1.0e2", "100"}, {"-0.0", "0"}, {"0.000", "0"}, {"12e-5", "0.00012"},
		{"007", "7"}, {"-3.10", "-3.1"}, {"1E+3", "1000"},
	}
	for _, tc := range cases {
		d, ok := parseDecimal(tc.in)
		if !ok || d.String() != tc.want {
			t.Errorf("decimal %q = %q, %v; want %q", tc.in, d.String(), ok, tc.want)
		}
	}
}

func TestValueRedacted(t *testing.T) {
	v := Value{Param: "family", Kind: String, Text: "canary-smith", Raw: "Canary-Smith"}
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%v", []Value{v})} {
		if strings.Contains(strings.ToLower(s), "canary") || !strings.Contains(s, "family") {
			t.Errorf("formatted value %q", s)
		}
	}
}
