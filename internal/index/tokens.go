// Package index turns search values into blind-index tokens and runs FHIR
// searches over them (docs/decisions/0008-blind-index.md). Tokens are
// HMAC-SHA256 (truncated to 8 bytes) under the tenant's index key over
// resource type, parameter, token kind and normalised value; the store
// keeps tokens and rids, never values. Candidates found by tokens are
// decrypted and checked against the exact query before anything is
// returned, so coarse tokens (prefixes, date and number buckets) only
// cost time, never correctness.
package index

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/store"
)

// MAC computes a keyed token of a message; *keyring.IndexKey.
type MAC interface {
	AppendToken(dst, msg []byte) []byte
}

// Token kinds: the part of the MAC input saying what a token stands for.
const (
	kPresent   = "x"  // the resource has a value for the parameter (:missing)
	kPrefix    = "p"  // string: a prefix of 1..maxPrefix runes of the normalised value
	kExact     = "e"  // string: the raw value (:exact); uri: the value
	kTrigram   = "t"  // string: three consecutive runes of the normalised value (:contains)
	kCode      = "c"  // token: code, any system
	kSysCode   = "s"  // token: system|code ("" system is |code)
	kSystem    = "y"  // token: system| (any code)
	kWord      = "w"  // token: a word of the display text (:text)
	kWord3     = "W"  // token: the first three runes of a word of the display text (:text)
	kRef       = "r"  // reference: Type/id or absolute URL
	kRefID     = "i"  // reference: bare id of an absolute URL (relative ones are found as Type/id)
	kIdent     = "k"  // reference: identifier system|value (:identifier)
	kIdentCode = "K"  // reference: identifier value, any system
	kIdentSys  = "j"  // reference: identifier system| (any value)
	kYear      = "dY" // date: a year the value touches (values at year level or finer)
	kMonth     = "dM" // date: a month the value touches (month level or finer)
	kDay       = "dD" // date: a day the value touches (day level)
	kCoarseY   = "cY" // date: a year touched by a value too long for months
	kCoarseM   = "cM" // date: a month touched by a value too long for days
	kWideDate  = "cW" // date: a value too long for years, or outside 1800–2200
	kMultiDate = "cN" // date: the resource has several values for the parameter
	kMag       = "nE" // number: sign and decimal exponent
	kMag2      = "nD" // number: sign, exponent and two leading digits
	kWideNum   = "nW" // number: a range, or a magnitude outside the buckets
)

// maxPrefix bounds the prefix tokens of a string: longer queries use the
// maxPrefix-rune token, then the exact check.
const maxPrefix = 16

// maxBuckets is the most date buckets a value gets at its finest level.
const maxBuckets = 31

// Date buckets cover [minYear, maxYear); dates outside are "wide".
const (
	minYear = 1800
	maxYear = 2200
)

// Number buckets cover magnitudes 10^minExp ≤ |x| < 10^(maxExp+1).
const (
	minExp = -12
	maxExp = 15
)

// tokenizer computes tokens for one resource type with one key.
type tokenizer struct {
	mac MAC
	typ string
	msg []byte
	out []store.Token
}

// add appends the token of (typ, param, kind, parts...). Fields are
// length-prefixed, so no two inputs encode alike.
func (t *tokenizer) add(param, kind string, parts ...string) {
	t.out = append(t.out, t.token(param, kind, parts...))
}

func (t *tokenizer) token(param, kind string, parts ...string) store.Token {
	b := t.msg[:0]
	b = appendField(b, t.typ)
	b = appendField(b, param)
	b = appendField(b, kind)
	for _, p := range parts {
		b = appendField(b, p)
	}
	t.msg = b
	var tok store.Token
	copy(tok[:], t.mac.AppendToken(tok[:0], b))
	return tok
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// ValueTokens returns the tokens of a resource's extracted values.
func ValueTokens(mac MAC, typ string, vals []search.Value) []store.Token {
	t := &tokenizer{mac: mac, typ: typ, out: make([]store.Token, 0, 8*len(vals))}
	var last string
	dates := 0
	for _, v := range vals {
		if v.Param != last {
			t.add(v.Param, kPresent)
			last, dates = v.Param, 0
		}
		if v.Kind == search.Date {
			if dates++; dates == 2 {
				t.add(v.Param, kMultiDate)
			}
		}
		t.value(v)
	}
	return t.out
}

func (t *tokenizer) value(v search.Value) {
	p := v.Param
	switch v.Kind {
	case search.String:
		t.add(p, kExact, v.Raw)
		forPrefixes(v.Text, 0, func(s string) { t.add(p, kPrefix, s) })
		forTrigrams(v.Text, func(s string) { t.add(p, kTrigram, s) })
	case search.Token:
		if v.Code != "" {
			t.add(p, kCode, v.Code)
			t.add(p, kSysCode, v.System, v.Code)
		}
		if v.System != "" && v.Of == "Identifier" {
			// system| is common for identifiers only; on codes it is
			// answered from the presence token and the exact check.
			t.add(p, kSystem, v.System)
		}
		for _, w := range strings.Fields(v.Text) {
			t.add(p, kWord, w)
			if k, full := firstRunes(w, 3); !full {
				t.add(p, kWord3, k)
			}
		}
	case search.Reference:
		if v.Of == "Identifier" {
			t.add(p, kIdentCode, v.Code)
			t.add(p, kIdent, v.System, v.Code)
			if v.System != "" {
				t.add(p, kIdentSys, v.System)
			}
			return
		}
		if v.Ref != "" {
			t.add(p, kRef, v.Ref)
		}
		if v.ID != "" && v.Ref != v.Type+"/"+v.ID {
			t.add(p, kRefID, v.ID)
		}
	case search.URI:
		t.add(p, kExact, v.Raw)
	case search.Date:
		t.dateValue(p, v.Low, v.High)
	case search.Number, search.Quantity:
		t.numberValue(p, v)
	}
}

// forPrefixes calls fn with the prefixes of s[from:] of 1..maxPrefix runes.
func forPrefixes(s string, from int, fn func(string)) {
	n := 0
	for i := range s[from:] {
		if i > 0 {
			fn(s[from : from+i])
			n++
			if n == maxPrefix {
				return
			}
		}
	}
	if n < maxPrefix && len(s) > from {
		fn(s[from:])
	}
}

// prefixKey is the prefix token input a query value uses: the value, or
// its first maxPrefix runes; full reports whether that is the whole value.
func prefixKey(s string) (key string, full bool) { return firstRunes(s, maxPrefix) }

// forTrigrams calls fn with every run of three runes of s.
func forTrigrams(s string, fn func(string)) {
	var starts [3]int
	n := 0
	for i := range s {
		if n >= 3 {
			fn(s[starts[n%3]:i])
		}
		starts[n%3] = i
		n++
	}
	if n >= 3 {
		fn(s[starts[n%3]:])
	}
}

// firstRunes returns the first n runes of s; full reports that s has no
// more than n runes (the result is s).
func firstRunes(s string, n int) (string, bool) {
	k := 0
	for i := range s {
		if k == n {
			return s[:i], false
		}
		k++
	}
	return s, true
}

// trigrams returns the trigrams of s (at least three runes).
func trigrams(s string) []string {
	var out []string
	forTrigrams(s, func(g string) { out = append(out, g) })
	return out
}

// dateValue writes the buckets of [low, high): at the finest level with
// at most maxBuckets buckets and every coarser level, plus a coarse
// marker at that finest level when it is months or years.
func (t *tokenizer) dateValue(p string, low, high time.Time) {
	lo, hi, ok := clampDates(low, high)
	if !ok {
		t.add(p, kWideDate)
		return
	}
	days := spanDays(lo, hi)
	months := spanMonths(lo, hi)
	years := hi.Year() - lo.Year() + 1
	if years > maxBuckets {
		t.add(p, kWideDate)
		return
	}
	forYears(lo, hi, func(y string) { t.add(p, kYear, y) })
	if months > maxBuckets {
		forYears(lo, hi, func(y string) { t.add(p, kCoarseY, y) })
		return
	}
	forMonths(lo, hi, func(m string) { t.add(p, kMonth, m) })
	if days > maxBuckets {
		forMonths(lo, hi, func(m string) { t.add(p, kCoarseM, m) })
		return
	}
	forDays(lo, hi, func(d string) { t.add(p, kDay, d) })
}

// clampDates turns [low, high) into the inclusive day range [lo, hi]
// (UTC days), false when it is empty or reaches outside the buckets.
func clampDates(low, high time.Time) (lo, hi time.Time, ok bool) {
	if !high.After(low) {
		return lo, hi, false
	}
	lo = low.UTC().Truncate(24 * time.Hour)
	hi = high.UTC().Add(-time.Nanosecond).Truncate(24 * time.Hour)
	if lo.Year() < minYear || hi.Year() >= maxYear {
		return lo, hi, false
	}
	return lo, hi, true
}

func spanDays(lo, hi time.Time) int { return int(hi.Sub(lo)/(24*time.Hour)) + 1 }

func spanMonths(lo, hi time.Time) int {
	return (hi.Year()-lo.Year())*12 + int(hi.Month()) - int(lo.Month()) + 1
}

func forYears(lo, hi time.Time, fn func(string)) {
	for y := lo.Year(); y <= hi.Year(); y++ {
		fn(strconv.Itoa(y))
	}
}

func forMonths(lo, hi time.Time, fn func(string)) {
	for m := time.Date(lo.Year(), lo.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(hi); m = m.AddDate(0, 1, 0) {
		fn(m.Format("2006-01"))
	}
}

func forDays(lo, hi time.Time, fn func(string)) {
	for d := lo; !d.After(hi); d = d.AddDate(0, 0, 1) {
		fn(d.Format("2006-01-02"))
	}
}

// numberValue writes magnitude buckets of a number or quantity value,
// once without a unit and, for quantities with a unit, once with it.
func (t *tokenizer) numberValue(p string, v search.Value) {
	units := []string{""}
	if v.Kind == search.Quantity && (v.System != "" || v.Code != "") {
		units = append(units, v.System+"|"+v.Code)
	}
	for _, u := range units {
		num := v.Num
		if u == "" {
			num = v.AsGiven().Num // unit-less searches compare the number as written
		}
		x, err := strconv.ParseFloat(num, 64)
		if num == "" || err != nil {
			t.add(p, kWideNum, u)
			continue
		}
		e, d2, ok := magnitude(x)
		if !ok {
			t.add(p, kWideNum, u)
			continue
		}
		t.add(p, kMag, u, e)
		t.add(p, kMag2, u, e, d2)
	}
}

// magnitude names the buckets of x: "+3" for 10^3 ≤ x < 10^4, "0" for
// zero, and the two leading digits; ok is false outside the bucketed
// magnitudes.
func magnitude(x float64) (exp, digits string, ok bool) {
	if x == 0 {
		return "0", "", true
	}
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "", "", false
	}
	e := int(math.Floor(math.Log10(x)))
	// Correct the float estimate at exact powers of ten.
	if math.Pow(10, float64(e+1)) <= x {
		e++
	} else if math.Pow(10, float64(e)) > x {
		e--
	}
	if e < minExp || e > maxExp {
		return "", "", false
	}
	d := int(x / math.Pow(10, float64(e-1)))
	d = min(max(d, 10), 99)
	return sign + strconv.Itoa(e), strconv.Itoa(d), true
}

// runeCount is utf8.RuneCountInString, named for the query checks.
func runeCount(s string) int { return utf8.RuneCountInString(s) }
