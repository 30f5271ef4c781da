package search

import (
	"math"
	"strconv"
	"strings"
)

// decimal is an exact decimal number: digits × 10^exp, where digits
// holds the significant digits as written (no leading zeros, "0" for
// zero) and exp the position of the last one, so it also records the
// literal's precision (1.50 is 150 × 10^-2).
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// maxDecimalLen bounds the digits plus the magnitude of the exponent: a
// literal such as 1e999999 is valid FHIR but gives no search value.
const maxDecimalLen = 400

// parseDecimal reads a FHIR decimal or integer literal:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, leading zeros tolerated.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[start:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
		if frac == "" {
			return decimal{}, false
		}
	}
	if intPart == "" {
		return decimal{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		es := i
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		ds := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == ds || i-ds > 6 {
			return decimal{}, false
		}
		e, _ := strconv.Atoi(s[es:i])
		d.exp = e
	}
	if i != len(s) {
		return decimal{}, false
	}
	d.exp -= len(frac)
	d.digits = strings.TrimLeft(intPart+frac, "0")
	if d.digits == "" {
		d.digits, d.neg = "0", false
	}
	if len(d.digits)+abs(d.exp) > maxDecimalLen {
		return decimal{}, false
	}
	return d, true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// String writes the value without exponent and without trailing
// fractional zeros: 1.50 → "1.5", 1.0e2 → "100", -0.0 → "0".
func (d decimal) String() string {
	digits, exp := d.digits, d.exp
	for exp < 0 && len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if digits == "0" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	switch {
	case exp >= 0:
		b.WriteString(digits)
		for range exp {
			b.WriteByte('0')
		}
	case -exp >= len(digits):
		b.WriteString("0.")
		for range -exp - len(digits) {
			b.WriteByte('0')
		}
		b.WriteString(digits)
	default:
		n := len(digits) + exp
		b.WriteString(digits[:n])
		b.WriteByte('.')
		b.WriteString(digits[n:])
	}
	return b.String()
}

// float returns the nearest float64.
func (d decimal) float() float64 {
	f, err := strconv.ParseFloat(d.digits+"e"+strconv.Itoa(d.exp), 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0
	}
	if d.neg {
		return -f
	}
	return f
}

// bounds returns the range [low, high) the literal's precision implies:
// the value ± half a unit of its last digit (100 → [99.5, 100.5),
// 1.0e2 → [95, 105), 5.40 → [5.395, 5.405)).
func (d decimal) bounds() (low, high decimal) {
	up := decimal{digits: d.digits + "5", exp: d.exp - 1}
	if d.digits == "0" {
		up.digits = "5"
		down := up
		down.neg = true
		return down, up
	}
	dn := decimal{digits: strings.TrimLeft(decrement(d.digits)+"5", "0"), exp: d.exp - 1}
	// |d| + half and |d| - half; the sign decides which is low.
	if d.neg {
		up.neg, dn.neg = true, true
		return up, dn
	}
	return dn, up
}

// decrement subtracts one from a positive digit string.
func decrement(s string) string {
	b := []byte(s)
	i := len(b) - 1
	for i >= 0 && b[i] == '0' {
		b[i] = '9'
		i--
	}
	if i >= 0 {
		b[i]--
	}
	r := strings.TrimLeft(string(b), "0")
	if r == "" {
		return "0"
	}
	return r
}

// mul multiplies by k × 10^e (k ≥ 1, at most a few digits).
func (d decimal) mul(k int64, e int) decimal {
	out := decimal{neg: d.neg, exp: d.exp + e}
	if k == 1 {
		out.digits = d.digits
		return out
	}
	res := make([]byte, 0, len(d.digits)+20)
	var carry int64
	for i := len(d.digits) - 1; i >= 0; i-- {
		v := int64(d.digits[i]-'0')*k + carry
		res = append(res, byte('0'+v%10))
		carry = v / 10
	}
	for carry > 0 {
		res = append(res, byte('0'+carry%10))
		carry /= 10
	}
	for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
		res[i], res[j] = res[j], res[i]
	}
	out.digits = strings.TrimLeft(string(res), "0")
	if out.digits == "" {
		out.digits, out.neg = "0", false
	}
	return out
}

// floatRange converts exact bounds to float64. Beyond float64's 15–17
// significant digits both ends can round to the same number: the range
// is then widened by one unit in the last place on each side so that it
// is never empty.
func floatRange(lo, hi decimal) (float64, float64) {
	l, h := lo.float(), hi.float()
	if !(l < h) {
		l, h = math.Nextafter(l, math.Inf(-1)), math.Nextafter(h, math.Inf(1))
	}
	return l, h
}

// NumberValue returns the search value of a FHIR integer or decimal
// literal (or of a number search value): Num, and the range [NumLow,
// NumHigh) its precision implies. ok is false for anything else.
func NumberValue(literal string) (Value, bool) {
	d, ok := parseDecimal(literal)
	if !ok {
		return Value{}, false
	}
	lo, hi := floatRange(d.bounds())
	return Value{Kind: Number, Num: d.String(), NumLow: lo, NumHigh: hi}, true
}

// QuantityValue returns the search value of a quantity (or of a quantity
// search value): value as NumberValue, and the unit. A UCUM unit the
// package knows (ucum.go) is converted to its canonical unit (5.4 mg
// becomes 0.0054 g): Num, the range and Code are then in that unit. Unit
// is the human-readable unit, kept as given. ok is false when value is
// not a decimal.
func QuantityValue(value, system, code, unit string) (Value, bool) {
	d, ok := parseDecimal(value)
	if !ok {
		return Value{}, false
	}
	lo, hi := d.bounds()
	gl, gh := floatRange(lo, hi)
	given := d.String()
	if system == ucumSystem {
		if canon, k, e, ok := ucumFactor(code); ok {
			d, lo, hi = d.mul(k, e), lo.mul(k, e), hi.mul(k, e)
			code = canon
		}
	}
	l, h := floatRange(lo, hi)
	return Value{Kind: Quantity, Num: d.String(), NumLow: l, NumHigh: h,
		System: system, Code: code, Unit: unit, Given: given, GivenLow: gl, GivenHigh: gh}, true
}
