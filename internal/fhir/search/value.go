package search

import "time"

// Value is one search value extracted from a resource for one parameter:
// what the blind index needs to compute its tokens, and what the query
// engine compares after decryption. Which fields are set depends on Kind:
//
//   - String: Text (normalised), Raw (as written, for :exact).
//   - Token: System and Code (either may be ""), Text (the normalised
//     display, CodeableConcept.text or Identifier.type.text, for :text).
//     A CodeableConcept's text, or a Coding with a display and no code,
//     gives a value with only Text.
//   - Reference: Ref, with Type and ID when the target is known by type
//     (Version for a versioned reference or canonical); a
//     Reference.identifier gives a value with Of "Identifier" and System
//     and Code (for :identifier) instead.
//   - URI: Raw.
//   - Date: Low and High.
//   - Number: Num, NumLow and NumHigh.
//   - Quantity: as Number, with System, Code (the unit code, canonical
//     where ucum.go knows the unit) and Unit (as written).
//
// Values hold PHI: they must never be logged or written in the clear.
type Value struct {
	Param string // the parameter's code ("family", "_tag")
	Kind  Kind   // the parameter's type
	// Of is the FHIR type the value was read from ("HumanName",
	// "CodeableConcept", "Identifier", "Reference", "canonical", ...), or
	// "boolean" for the result of a boolean expression (Patient deceased).
	Of string

	Text string // String: the normalised value; Token: the normalised display or text
	Raw  string // String and URI: the value as written; Reference: the reference as written

	System string // Token: the code system; Quantity: the unit system; Reference.identifier: its system
	Code   string // Token: the code, identifier value or contact; Quantity: the unit code; Reference.identifier: its value

	// Ref is the normalised reference: `Type/id` for a relative reference
	// (any /_history/n dropped), an absolute URL as written (version
	// dropped), a canonical URL without its |version, or a uri / urn as
	// written. Contained references (#id) give no value.
	Ref     string
	Type    string // the target's resource type, "" when not known
	ID      string // the target's id, "" when not known
	Version string // the _history version or canonical |version, if any

	// Low and High bound the instants a date value covers, [Low, High),
	// from its precision: 2013-01 is [2013-01-01T00:00Z, 2013-02-01T00:00Z).
	// Dates without a time zone are taken as UTC. An open end is
	// 0001-01-01T00:00Z (Low, the zero time) or 10000-01-01T00:00Z
	// (High, after any FHIR date): compare without special cases.
	Low, High time.Time

	// Num is the value as an exact decimal without exponent or trailing
	// fractional zeros ("5.4", "0.0054" for 5.4 mg in g). [NumLow,
	// NumHigh) is the range its precision implies (5.4 → [5.35, 5.45));
	// open ends of a Range are ±Inf.
	Num     string
	NumLow  float64 // inclusive lower end of the number's range
	NumHigh float64 // exclusive upper end of the number's range
	Unit    string  // Quantity: the human-readable unit as written
	// Given, GivenLow and GivenHigh are a quantity's number as written,
	// before any unit conversion (Num, NumLow, NumHigh when there was
	// none): a search by number alone compares it "irrespective of the
	// unit" (R4 search, quantity).
	Given               string
	GivenLow, GivenHigh float64
}

// AsGiven returns the value with its number as written in place of the
// converted one.
func (v Value) AsGiven() Value {
	if v.Given != "" {
		v.Num, v.NumLow, v.NumHigh = v.Given, v.GivenLow, v.GivenHigh
	}
	return v
}

// OpenHigh is the High of a date range without an upper bound: the first
// instant after every date FHIR can write (years are at most 9999).
func OpenHigh() time.Time { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }

// String names the value's parameter and kind only: values hold PHI, and
// a stray %v must not print it.
func (v Value) String() string {
	return "search.Value{" + v.Param + " " + v.Kind.String() + " [redacted]}"
}

// GoString is String, for %#v.
func (v Value) GoString() string { return v.String() }
