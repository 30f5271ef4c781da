package search

import "fmt"

// Query is a parsed and validated FHIR search on one resource type: what
// Parse makes of a query string (GET) or form body (POST _search).
type Query struct {
	Type    string   // the resource type searched
	Clauses []Clause // every clause must hold (AND)
	// Count is the page size: _count, default DefaultCount, at most
	// MaxCount. 0 (_count=0 or _summary=count) asks for the total only.
	Count int
	Sort  []SortKey // _sort, in priority order; nil means the store's order
	Total Total     // _total
	// SummaryCount is _summary=count: only the total is returned.
	SummaryCount bool
	// Elements are the top-level elements _elements asked for (nil: all).
	Elements    []string
	Includes    []Include // _include
	RevIncludes []Include // _revinclude
	// Ignored names the parameters a lenient parse left out (unknown
	// parameters or modifiers), for the Bundle's OperationOutcome.
	Ignored []string
}

// Page-size limits for _count.
const (
	DefaultCount = 20
	MaxCount     = 1000
)

// Total is the _total mode.
type Total uint8

// _total values; TotalNone is also the default.
const (
	TotalNone Total = iota
	TotalEstimate
	TotalAccurate
)

// SortKey is one _sort parameter: a search parameter of the type
// (including _id and _lastUpdated), descending when written with "-".
type SortKey struct {
	Param Param
	Desc  bool
}

// Include is one _include or _revinclude: resources of Source type
// referenced by (include) or referencing (revinclude) the matches through
// the reference parameter Param of Source, restricted to Target when it is
// not "" (`Observation:subject:Patient`).
type Include struct {
	Source string // the resource type holding the reference parameter
	Param  Param  // a reference parameter of Source
	Target string // the target type, "" for any of Param.Targets
}

// Clause is one search parameter of a query with its values: it holds
// when any of its Values matches (OR). A parameter repeated in the query
// gives one Clause per repetition (AND).
type Clause struct {
	Param    Param    // the parameter, from the registry (Lookup)
	Modifier Modifier // at most one modifier; 0 for none
	// Target is the type of a [type] modifier (subject:Patient=123), and
	// of a chain's explicit type (subject:Patient.name=x); "" otherwise.
	Target string
	// Values are the OR-ed values. With Missing, exactly one, whose
	// Missing field says which way.
	Values []Operand
	// Chain is set for a chained parameter (subject.name=smith): the
	// clause holds when a reference value of Param points to a resource
	// matching one of the links. Values is then nil.
	Chain []ChainLink
}

// ChainLink is the inner clause of a chain on one target type: for
// subject.name=smith on Observation, one link per type among
// subject's targets that has a "name" parameter (or only the type given
// by subject:Patient.name).
type ChainLink struct {
	Type   string // the target resource type
	Clause Clause // the inner clause, parsed for Type; never chained again
}

// Operand is one value of a clause, parsed and normalised the way
// Extract normalises resource values, so that the two compare directly.
// Its embedded Value holds, per Param.Type:
//
//   - String: Text (Normalize of the query value) and Raw (as given, for
//     :exact).
//   - Token: System and Code as given; Text is the normalised value for
//     :text (the whole value, no system split).
//   - Reference: Ref, Type and ID as Extract would give for the value as
//     a reference (`Patient/123` → Type Patient, ID 123; a bare `123` →
//     ID only, Type = Clause.Target when a [type] modifier gave one); an
//     absolute URL in Ref. With :identifier, System and Code.
//   - URI: Raw.
//   - Date: Low and High of the value's precision.
//   - Number: Num, NumLow, NumHigh.
//   - Quantity: as Number, with System and Code (canonical where UCUM
//     allows, as QuantityValue) when given.
type Operand struct {
	Value
	Prefix Prefix // ordered types: the comparison, Eq when none was written; 0 otherwise
	// SystemGiven reports a token written with a "|": `system|code`,
	// `|code` (no system: System ""), `system|` (any code: Code "").
	// Without it (`code`) the code matches in any system.
	SystemGiven bool
	Missing     bool // :missing=true (Missing) or :missing=false
}

// Error is a search request that cannot be run: unknown or malformed,
// naming the parameter. Its message holds no query value (values may be
// PHI).
type Error struct {
	Param string // the parameter as written, without its value
	Msg   string // what is wrong, without the value
}

func (e *Error) Error() string { return fmt.Sprintf("search parameter %q: %s", e.Param, e.Msg) }
