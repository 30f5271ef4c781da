package index

import (
	"crypto/sha256"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/store"
)

// plainMAC is a keyless stand-in for the index key: the tests check which
// tokens meet, not what they hide.
type plainMAC struct{}

func (plainMAC) AppendToken(dst, msg []byte) []byte {
	s := sha256.Sum256(msg)
	return append(dst, s[:8]...)
}

func tokenSet(toks []store.Token) map[store.Token]bool {
	m := make(map[store.Token]bool, len(toks))
	for _, t := range toks {
		m[t] = true
	}
	return m
}

func meets(have map[store.Token]bool, alts [][]store.Token) bool {
	for _, alt := range alts {
		all := len(alt) > 0
		for _, t := range alt {
			all = all && have[t]
		}
		if all {
			return true
		}
	}
	return false
}

// TestDateBucketsCoverOverlaps checks the property search depends on:
// whenever a value's range overlaps a query range, the value's tokens
// meet the query's (the exact check then decides). Values and ranges of
// every length, from minutes to centuries, inside and outside 1800–2200.
func TestDateBucketsCoverOverlaps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	spans := []time.Duration{time.Minute, 20 * time.Hour, 3 * 24 * time.Hour, 40 * 24 * time.Hour,
		400 * 24 * time.Hour, 20 * 365 * 24 * time.Hour, 80 * 365 * 24 * time.Hour}
	base := time.Date(1750, 1, 1, 0, 0, 0, 0, time.UTC)
	randRange := func() (time.Time, time.Time) {
		lo := base.AddDate(0, 0, r.IntN(500*365)).Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
		return lo, lo.Add(time.Duration(r.Int64N(int64(spans[r.IntN(len(spans))]))) + time.Millisecond)
	}
	tz := &tokenizer{mac: plainMAC{}, typ: "Observation"}
	checked := 0
	for range 20000 {
		vlo, vhi := randRange()
		qlo, qhi := randRange()
		if r.IntN(10) == 0 {
			qhi = search.OpenHigh()
		}
		if r.IntN(10) == 0 {
			qlo = time.Time{}
		}
		if !(vlo.Before(qhi) && qlo.Before(vhi)) {
			continue // no overlap: nothing to promise
		}
		checked++
		tz.out = tz.out[:0]
		tz.dateValue("date", vlo, vhi)
		if !meets(tokenSet(tz.out), tz.dateRange("date", qlo, qhi)) {
			t.Fatalf("value [%v, %v) overlaps query [%v, %v) but no token meets", vlo, vhi, qlo, qhi)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d overlapping pairs checked", checked)
	}
}

// TestDateBucketsAreSelective: a day-precision value is not a candidate
// for a query range a year away.
func TestDateBucketsAreSelective(t *testing.T) {
	tz := &tokenizer{mac: plainMAC{}, typ: "Observation"}
	v := time.Date(2016, 8, 12, 9, 18, 0, 0, time.UTC)
	tz.dateValue("date", v, v.Add(time.Second))
	if len(tz.out) != 3 {
		t.Fatalf("a point in time has %d tokens, want year, month and day", len(tz.out))
	}
	q := time.Date(2017, 9, 1, 0, 0, 0, 0, time.UTC)
	if meets(tokenSet(tz.out), tz.dateRange("date", q, q.AddDate(0, 1, 0))) {
		t.Fatal("a value a year before the query range is a candidate")
	}
}

// TestNumberBucketsCoverRanges checks the same property for magnitudes:
// a number inside a query range always meets its tokens.
func TestNumberBucketsCoverRanges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tz := &tokenizer{mac: plainMAC{}, typ: "Observation"}
	randNum := func() float64 {
		x := math.Pow(10, r.Float64()*30-14) * float64(1+r.IntN(999)) / 100
		if r.IntN(4) == 0 {
			x = -x
		}
		if r.IntN(50) == 0 {
			x = 0
		}
		return x
	}
	for range 20000 {
		x := randNum()
		a, b := randNum(), randNum()
		if a > b {
			a, b = b, a
		}
		switch r.IntN(6) {
		case 0:
			a = math.Inf(-1)
		case 1:
			b = math.Inf(1)
		case 2:
			a, b = x, x // the value itself: eq at full precision
		}
		if x < a || x > b {
			continue
		}
		num := strconv.FormatFloat(x, 'g', -1, 64)
		for _, unit := range []string{"", "http://unitsofmeasure.org|g"} {
			tz.out = tz.out[:0]
			v := search.Value{Param: "value-quantity", Kind: search.Quantity, Num: num, System: "http://unitsofmeasure.org", Code: "g"}
			tz.numberValue("value-quantity", v)
			if !meets(tokenSet(tz.out), tz.numberRange("value-quantity", unit, a, b)) {
				t.Fatalf("%s (unit %q) is in [%g, %g] but no token meets", num, unit, a, b)
			}
		}
	}
}

func TestStringHelpers(t *testing.T) {
	var pre []string
	forPrefixes("müller", 0, func(s string) { pre = append(pre, s) })
	if len(pre) != 6 || pre[0] != "m" || pre[1] != "mü" || pre[5] != "müller" {
		t.Fatalf("prefixes %q", pre)
	}
	long := "abcdefghijklmnopqrstuvwxyz"
	pre = pre[:0]
	forPrefixes(long, 0, func(s string) { pre = append(pre, s) })
	if len(pre) != maxPrefix || pre[maxPrefix-1] != long[:maxPrefix] {
		t.Fatalf("prefixes of a long string: %d, last %q", len(pre), pre[len(pre)-1])
	}
	if k, full := prefixKey(long); full || k != long[:maxPrefix] {
		t.Fatalf("prefixKey = %q, %v", k, full)
	}
	if g := trigrams("smïth"); len(g) != 3 || g[0] != "smï" || g[2] != "ïth" {
		t.Fatalf("trigrams %q", g)
	}
	if g := trigrams("ab"); len(g) != 0 {
		t.Fatalf("trigrams of two runes: %q", g)
	}
}
