package search

import (
	"cmp"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// MatchAt reports whether a resource satisfies the clause, given its
// values for the clause's parameter: ExtractParam(r, c.Param.Code), or
// for _id one Token value whose Code is the id, and for _lastUpdated one
// Date value [t, t+1ms). It is the exact test the engine applies to a
// candidate after decrypting it. now is the instant the ap prefix
// measures a date's distance from (R4: 10% of the gap between now and
// the date).
//
// A chained clause never matches here: the engine resolves its
// references and applies each link's clause to the referenced resources.
func (c Clause) MatchAt(values []Value, now time.Time) bool {
	if c.Chain != nil || len(c.Values) == 0 {
		return false
	}
	switch c.Modifier {
	case Missing:
		return c.Values[0].Missing == (len(values) == 0)
	case Not:
		// No value has any of the codes: a resource without values matches.
		for i := range values {
			for j := range c.Values {
				if matchToken(&c.Values[j], &values[i]) {
					return false
				}
			}
		}
		return true
	}
	for i := range c.Values {
		for j := range values {
			if c.match(&c.Values[i], &values[j], now) {
				return true
			}
		}
	}
	return false
}

// match tests one operand against one value.
func (c *Clause) match(op *Operand, v *Value, now time.Time) bool {
	switch c.Param.Type {
	case String:
		switch c.Modifier {
		case Exact:
			return v.Raw == op.Raw
		case Contains:
			return strings.Contains(v.Text, op.Text)
		}
		return strings.HasPrefix(v.Text, op.Text)
	case Token:
		if c.Modifier == Text {
			return matchText(v.Text, op.Text)
		}
		return matchToken(op, v)
	case Reference:
		switch {
		case c.Modifier == Identifier:
			return v.Of == "Identifier" && matchToken(op, v)
		case op.Ref != "":
			return v.Ref == op.Ref
		}
		return op.ID != "" && v.ID == op.ID && (op.Type == "" || v.Type == op.Type)
	case URI:
		return v.Raw == op.Raw
	case Date:
		return matchDate(op, v, now)
	case Number:
		return matchNumber(op, v)
	case Quantity:
		if op.Code == "" && op.System == "" {
			// A number alone: the value as written, whatever its unit.
			g := v.AsGiven()
			return matchNumber(op, &g)
		}
		return matchUnit(op, v) && matchNumber(op, v)
	}
	return false
}

// matchToken compares codes: in any system for `code`, in the given one
// for `system|code` and `|code`; `system|` matches any value of the
// system. A value without a code (a display or text only) never matches
// a code.
func matchToken(op *Operand, v *Value) bool {
	switch {
	case op.SystemGiven && v.System != op.System:
		return false
	case op.Code == "":
		return op.SystemGiven
	}
	return v.Code == op.Code
}

// matchText reports whether the normalised text q starts text or one of
// its words.
func matchText(text, q string) bool {
	return q != "" && (strings.HasPrefix(text, q) || strings.Contains(text, " "+q))
}

// interval is a half-open range [lo, hi) of instants or numbers.
type interval[T any] struct{ lo, hi T }

// matchInterval applies a prefix to a value's range v and the search range q
// per the R4 date rules; ap is q widened for Ap.
func matchInterval[T any](p Prefix, v, q, ap interval[T], compare func(a, b T) int) bool {
	eq := compare(q.lo, v.lo) <= 0 && compare(v.hi, q.hi) <= 0 // q contains v
	above := compare(v.hi, q.hi) > 0                           // v reaches past q
	below := compare(v.lo, q.lo) < 0                           // v starts before q
	switch p {
	case Ne:
		return !eq
	case Gt:
		return above
	case Lt:
		return below
	case Ge:
		return above || eq
	case Le:
		return below || eq
	case Sa:
		return compare(v.lo, q.hi) >= 0
	case Eb:
		return compare(v.hi, q.lo) <= 0
	case Ap:
		return compare(v.lo, ap.hi) < 0 && compare(v.hi, ap.lo) > 0
	}
	return eq
}

func matchDate(op *Operand, v *Value, now time.Time) bool {
	var ap interval[time.Time]
	if op.Prefix == Ap {
		var gap int64 // seconds from now to the search range
		switch {
		case now.Before(op.Low):
			gap = op.Low.Unix() - now.Unix()
		case !now.Before(op.High):
			gap = now.Unix() - op.High.Unix()
		}
		ap = interval[time.Time]{addSeconds(op.Low, -gap/10), addSeconds(op.High, gap/10)}
	}
	return matchInterval(op.Prefix, interval[time.Time]{v.Low, v.High}, interval[time.Time]{op.Low, op.High}, ap, time.Time.Compare)
}

// addSeconds adds s seconds without time.Duration's ±292-year limit.
func addSeconds(t time.Time, s int64) time.Time {
	return time.Unix(t.Unix()+s, int64(t.Nanosecond())).UTC()
}

// matchNumber compares a number or quantity: an exact value (Num) falls
// within the search value's precision for eq, and is compared with it
// exactly otherwise; a Range (no Num) is compared as a range, like a date.
// ap allows 10% of the search value either way.
func matchNumber(op *Operand, v *Value) bool {
	y, ok := parseNum(op.Num)
	if !ok {
		return false
	}
	margin := math.Abs(y) / 10
	if v.Num == "" {
		ap := interval[float64]{op.NumLow - margin, op.NumHigh + margin}
		return matchInterval(op.Prefix, interval[float64]{v.NumLow, v.NumHigh}, interval[float64]{op.NumLow, op.NumHigh}, ap, cmp.Compare[float64])
	}
	x, ok := parseNum(v.Num)
	if !ok {
		return false
	}
	eq := op.NumLow <= x && x < op.NumHigh
	switch op.Prefix {
	case Ne:
		return !eq
	case Gt, Sa:
		return x > y
	case Lt, Eb:
		return x < y
	case Ge:
		return x >= y || eq
	case Le:
		return x <= y || eq
	case Ap:
		return eq || math.Abs(x-y) <= margin
	}
	return eq
}

// parseNum parses a Num; beyond float64's range it is ±Inf.
func parseNum(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil || errors.Is(err, strconv.ErrRange)
}

// matchUnit reports whether a quantity value is in the operand's unit:
// any for a number alone; system and code for number|system|code; the
// value's code or unit for number||code. A code-only operand with a unit
// ucum.go converts leaves UCUM values to the canonical operand Parse adds
// beside it: their Num is in canonical units.
func matchUnit(op *Operand, v *Value) bool {
	switch {
	case op.Code == "":
		return true
	case op.System != "":
		return v.System == op.System && v.Code == op.Code
	case v.System == ucumSystem:
		if _, _, _, ok := ucumFactor(op.Code); ok {
			return false
		}
	}
	return v.Code == op.Code || v.Unit == op.Code
}
