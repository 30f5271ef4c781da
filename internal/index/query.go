package index

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/store"
)

// clauseTokens turns a (non-chained, non-metadata) clause into its token
// condition: a superset of the resources the clause matches. exact
// reports that the tokens select exactly the matches (up to MAC
// collisions), so counts need no decryption.
func clauseTokens(mac MAC, typ string, c search.Clause, now time.Time) (ic store.IndexClause, exact bool) {
	t := &tokenizer{mac: mac, typ: typ}
	p := c.Param.Code
	if c.Modifier == search.Missing {
		present := store.IndexClause{Any: [][]store.Token{{t.token(p, kPresent)}}}
		present.Not = len(c.Values) > 0 && c.Values[0].Missing
		return present, true
	}
	exact = true
	for _, op := range c.Values {
		alts, ex := t.operand(c, op, now)
		ic.Any = append(ic.Any, alts...)
		exact = exact && ex
	}
	ic.Not = c.Modifier == search.Not
	return ic, exact
}

// operand returns the alternatives (each a set of tokens a resource must
// all have) one value of a clause selects.
func (t *tokenizer) operand(c search.Clause, op search.Operand, now time.Time) (alts [][]store.Token, exact bool) {
	p := c.Param.Code
	one := func(kind string, parts ...string) [][]store.Token {
		return [][]store.Token{{t.token(p, kind, parts...)}}
	}
	switch c.Param.Type {
	case search.String:
		switch c.Modifier {
		case search.Exact:
			return one(kExact, op.Raw), true
		case search.Contains:
			var alt []store.Token
			for _, g := range trigrams(op.Text) {
				alt = append(alt, t.token(p, kTrigram, g))
			}
			return [][]store.Token{alt}, false
		}
		key, full := prefixKey(op.Text)
		return one(kPrefix, key), full
	case search.Token:
		if c.Modifier == search.Text {
			// The query text starts a word of the value's text: a
			// complete first word has its own token; a single, maybe
			// partial word its first three runes; shorter, only presence.
			first, _, more := strings.Cut(op.Text, " ")
			switch k, full := firstRunes(first, 3); {
			case more:
				return one(kWord, first), false
			case !full || runeCount(first) == 3:
				return one(kWord3, k), false
			}
			return one(kPresent), false
		}
		switch {
		case !op.SystemGiven:
			return one(kCode, op.Code), true
		case op.Code == "":
			// Only identifiers have system| tokens; for codes the
			// presence token and the exact check answer.
			return [][]store.Token{{t.token(p, kSystem, op.System)}, {t.token(p, kPresent)}}, false
		default:
			return one(kSysCode, op.System, op.Code), true
		}
	case search.Reference:
		if c.Modifier == search.Identifier {
			if op.SystemGiven && op.Code == "" {
				return one(kIdentSys, op.System), true
			}
			if op.SystemGiven {
				return one(kIdent, op.System, op.Code), true
			}
			return one(kIdentCode, op.Code), true
		}
		if op.Ref != "" {
			return one(kRef, op.Ref), true
		}
		// A bare id: Type/id for each target type, or an absolute URL
		// ending in the id.
		alts := one(kRefID, op.ID)
		for _, typ := range c.Param.Targets {
			alts = append(alts, []store.Token{t.token(p, kRef, typ+"/"+op.ID)})
		}
		return alts, true
	case search.URI:
		return one(kExact, op.Raw), true
	case search.Date:
		if op.Prefix == search.Ne {
			return one(kPresent), false
		}
		lo, hi := dateOverlap(op, now)
		return t.dateRange(p, lo, hi), false
	case search.Number, search.Quantity:
		if op.Prefix == search.Ne {
			return one(kPresent), false
		}
		unit := ""
		if c.Param.Type == search.Quantity && op.SystemGiven && op.System != "" && op.Code != "" {
			unit = op.System + "|" + op.Code
		}
		lo, hi := numberOverlap(op)
		return t.numberRange(p, unit, lo, hi), false
	}
	return nil, false
}

// dateOverlap is the range a value must overlap to possibly match a date
// operand (open ends: zero time and OpenHigh).
func dateOverlap(op search.Operand, now time.Time) (lo, hi time.Time) {
	open := search.OpenHigh()
	switch op.Prefix {
	case search.Gt, search.Sa, search.Ge:
		if op.Prefix == search.Ge {
			return op.Low, open
		}
		return op.High, open
	case search.Lt, search.Eb:
		return time.Time{}, op.Low
	case search.Le:
		return time.Time{}, op.High
	case search.Ap:
		// 10% of the distance from now, in seconds (a Duration saturates
		// at 292 years), plus a day.
		gap := math.Abs(float64(now.Unix() - op.Low.Unix()))
		w := gap/10 + 86400
		if w > 200*365*86400 {
			return time.Time{}, open
		}
		d := time.Duration(w) * time.Second
		return op.Low.Add(-d), op.High.Add(d)
	}
	return op.Low, op.High
}

// dateRange returns the bucket tokens of every value overlapping
// [lo, hi): each a one-token alternative.
func (t *tokenizer) dateRange(p string, lo, hi time.Time) [][]store.Token {
	alts := [][]store.Token{{t.token(p, kWideDate)}}
	add := func(kind, s string) { alts = append(alts, []store.Token{t.token(p, kind, s)}) }
	minT := time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC)
	maxT := time.Date(maxYear, 1, 1, 0, 0, 0, 0, time.UTC)
	if lo.Before(minT) {
		lo = minT
	}
	if hi.After(maxT) {
		hi = maxT
	}
	if !hi.After(lo) {
		return alts
	}
	first := lo.Truncate(24 * time.Hour)
	last := hi.Add(-time.Nanosecond).Truncate(24 * time.Hour) // inclusive
	for y := first.Year(); y <= last.Year(); y++ {
		ys, ye := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)
		if !ys.Before(first) && !ye.After(last) {
			add(kYear, strconv.Itoa(y))
			continue
		}
		add(kCoarseY, strconv.Itoa(y))
		for m := time.January; m <= time.December; m++ {
			ms := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			me := ms.AddDate(0, 1, -1)
			if me.Before(first) || ms.After(last) {
				continue
			}
			if !ms.Before(first) && !me.After(last) {
				add(kMonth, ms.Format("2006-01"))
				continue
			}
			add(kCoarseM, ms.Format("2006-01"))
			for d := laterOf(ms, first); !d.After(earlierOf(me, last)); d = d.AddDate(0, 0, 1) {
				add(kDay, d.Format("2006-01-02"))
			}
		}
	}
	return alts
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlierOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// numberOverlap is the closed range a number must fall in to possibly
// match an operand (±Inf for open ends).
func numberOverlap(op search.Operand) (lo, hi float64) {
	q, err := strconv.ParseFloat(op.Num, 64)
	if err != nil {
		q = (op.NumLow + op.NumHigh) / 2
	}
	switch op.Prefix {
	case search.Gt, search.Sa, search.Ge:
		return math.Min(q, op.NumLow), math.Inf(1)
	case search.Lt, search.Eb, search.Le:
		return math.Inf(-1), math.Max(q, op.NumHigh)
	case search.Ap:
		d := math.Abs(q)/10 + (op.NumHigh - op.NumLow)
		return q - d, q + d
	}
	return op.NumLow, op.NumHigh
}

// numberRange returns the magnitude bucket tokens of every number in
// [lo, hi] (widened slightly: bucketing a float can land a value on a
// neighbouring bucket at a boundary).
func (t *tokenizer) numberRange(p, unit string, lo, hi float64) [][]store.Token {
	alts := [][]store.Token{{t.token(p, kWideNum, unit)}}
	add := func(kind string, parts ...string) {
		alts = append(alts, []store.Token{t.token(p, kind, append([]string{unit}, parts...)...)})
	}
	lo -= math.Abs(lo)*1e-9 + 1e-300
	hi += math.Abs(hi)*1e-9 + 1e-300
	if lo <= 0 && hi >= 0 {
		add(kMag, "0")
	}
	for e := minExp; e <= maxExp; e++ {
		b0, b1 := math.Pow(10, float64(e)), math.Pow(10, float64(e+1))
		for _, sign := range []float64{1, -1} {
			// The bucket is [b0, b1) for positives, (-b1, -b0] for negatives.
			l, h := b0, b1
			if sign < 0 {
				l, h = -b1, -b0
			}
			if h < lo || l > hi {
				continue
			}
			name := "+" + strconv.Itoa(e)
			if sign < 0 {
				name = "-" + strconv.Itoa(e)
			}
			if lo <= l && h <= hi {
				add(kMag, name)
				continue
			}
			step := b0 / 10
			for d := 10; d <= 99; d++ {
				dl, dh := float64(d)*step, float64(d+1)*step
				if sign < 0 {
					dl, dh = -dh, -dl
				}
				// One bucket of slack each side.
				if dh+step < lo || dl-step > hi {
					continue
				}
				add(kMag2, name, strconv.Itoa(d))
			}
		}
	}
	return alts
}
