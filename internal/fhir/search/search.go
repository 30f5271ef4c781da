// Package search is the FHIR R4 search-parameter registry and the
// write-time extraction of search values. It does no I/O.
//
// The registry (registry_gen.go) is generated from the official R4
// SearchParameter definitions by internal/gen: every parameter of type
// string, token, reference, date, number, quantity or uri, for each
// resource type it applies to, with its FHIRPath expression compiled
// (internal/fhirpath). Extract evaluates them over a parsed resource and
// returns typed, normalised values for the blind index.
// docs/decisions/0006-search-extraction.md records why it works this way.
package search

//go:generate go run ./internal/gen -in ../../../../shared/data/fhir-r4-core

import (
	"slices"
	"sort"
	"strings"

	"github.com/wardhealth/ward/internal/fhir"
)

// Kind is the type of a search parameter, and of the values extracted
// for it.
type Kind uint8

// Search parameter types (R4 SearchParamType).
const (
	String Kind = iota + 1
	Token
	Reference
	Date
	Number
	Quantity
	URI
	Composite // not supported: listed by UnsupportedParams
	Special   // not supported: listed by UnsupportedParams
)

var kindNames = [...]string{String: "string", Token: "token", Reference: "reference", Date: "date",
	Number: "number", Quantity: "quantity", URI: "uri", Composite: "composite", Special: "special"}

// String is the R4 code of the type ("token").
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "invalid"
}

// Modifier is a search modifier (`name:exact`).
type Modifier uint16

// The R4 search modifiers. Of these, ward accepts on each parameter the
// ones Param.Modifiers lists.
const (
	Missing Modifier = 1 << iota
	Exact
	Contains
	Text
	Not
	Above
	Below
	In
	NotIn
	OfType
	Identifier
	TypeModifier // [type], e.g. subject:Patient; the allowed types are Param.Targets
)

var modifierNames = []struct {
	m    Modifier
	name string
}{
	{Missing, "missing"}, {Exact, "exact"}, {Contains, "contains"}, {Text, "text"}, {Not, "not"},
	{Above, "above"}, {Below, "below"}, {In, "in"}, {NotIn, "not-in"}, {OfType, "of-type"},
	{Identifier, "identifier"}, {TypeModifier, "[type]"},
}

// String names the modifiers in a set, separated by commas.
func (m Modifier) String() string {
	var parts []string
	for _, x := range modifierNames {
		if m&x.m != 0 {
			parts = append(parts, x.name)
		}
	}
	return strings.Join(parts, ",")
}

// Has reports whether the set holds every modifier of x.
func (m Modifier) Has(x Modifier) bool { return m&x == x }

// ParseModifier returns the modifier named s ("exact"); a resource type
// name is TypeModifier. ok is false for anything else.
func ParseModifier(s string) (m Modifier, ok bool) {
	for _, x := range modifierNames {
		if x.name == s && x.m != TypeModifier {
			return x.m, true
		}
	}
	if fhir.IsResourceType(s) {
		return TypeModifier, true
	}
	return 0, false
}

// modifiersFor is what ward accepts per parameter type: the modifiers
// issue 4 names (:exact, :contains, :missing, :not, :text on tokens,
// :identifier and [type] on references). Others (:above, :below, :in,
// :not-in, :of-type) are R4 modifiers ward does not implement.
func modifiersFor(k Kind) Modifier {
	switch k {
	case String:
		return Missing | Exact | Contains
	case Token:
		return Missing | Not | Text
	case Reference:
		return Missing | Identifier | TypeModifier
	case Date, Number, Quantity, URI:
		return Missing
	}
	return 0
}

// Prefix is a comparison prefix of ordered values (`date=ge2013`).
type Prefix uint16

// The R4 comparison prefixes.
const (
	Eq Prefix = 1 << iota
	Ne
	Gt
	Lt
	Ge
	Le
	Sa
	Eb
	Ap
)

var prefixNames = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// String names the prefixes in a set, separated by commas.
func (p Prefix) String() string {
	var parts []string
	for i, n := range prefixNames {
		if p&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// Has reports whether the set holds every prefix of x.
func (p Prefix) Has(x Prefix) bool { return p&x == x }

// ParsePrefix returns the prefix named s ("ge").
func ParsePrefix(s string) (Prefix, bool) {
	for i, n := range prefixNames {
		if n == s {
			return 1 << i, true
		}
	}
	return 0, false
}

// allPrefixes is every prefix: the R4 definitions allow all of them on
// every date, number and quantity parameter and none on the others (the
// generator checks this).
const allPrefixes = Eq | Ne | Gt | Lt | Ge | Le | Sa | Eb | Ap

// Param is a search parameter of one resource type.
type Param struct {
	Code string // the name used in queries ("family", "_tag")
	Type Kind   // the parameter's type
	// Targets are the resource types a reference parameter may point to,
	// sorted; nil for other types.
	Targets []string
	// Modifiers are the modifiers ward accepts on the parameter.
	Modifiers Modifier
	// Comparators are the prefixes allowed on the parameter's values;
	// every prefix for date, number and quantity, none otherwise.
	Comparators Prefix
	// MultipleOr and MultipleAnd report whether a query may give several
	// values separated by commas, and repeat the parameter.
	MultipleOr, MultipleAnd bool
	// Expression is the R4 FHIRPath expression for this resource type:
	// the definition's, without the union branches of other types.
	Expression string
	// Definition is the canonical URL of the SearchParameter, for the
	// CapabilityStatement.
	Definition string
	// Metadata marks _id and _lastUpdated: the store answers them from
	// the resource id and version timestamp it keeps in the clear, so
	// Extract does not return values for them.
	Metadata bool

	noOr, noAnd bool // the definition sets multipleOr / multipleAnd false
	targets     int  // 1-based index into targetSets; 0 for none
	prog        int  // index into programs
}

type typeParams struct {
	typ    string
	params []Param
}

// Unsupported is an R4 search parameter definition, or a definition for
// one of its base types, that ward leaves out.
type Unsupported struct {
	Code       string   // the parameter's code
	Type       Kind     // the parameter's type
	Base       []string // the resource types it was defined for
	Definition string   // canonical URL
	Reason     string   // why it is left out
}

// UnsupportedParams lists the R4 definitions ward does not support:
// composite and special parameters, and those without an expression.
func UnsupportedParams() []Unsupported {
	out := make([]Unsupported, len(unsupported))
	for i, u := range unsupported {
		u.Base = slices.Clone(u.Base)
		out[i] = u
	}
	return out
}

// Params lists the search parameters of a resource type, sorted by code,
// the common ones (_id, _lastUpdated, _profile, _security, _source, _tag)
// included; nil for an unknown type.
func Params(resourceType string) []Param {
	if !fhir.IsResourceType(resourceType) {
		return nil
	}
	own := ownParams(resourceType)
	out := make([]Param, 0, len(common)+len(own))
	for _, p := range common {
		out = append(out, finish(p))
	}
	for _, p := range own {
		out = append(out, finish(p))
	}
	slices.SortFunc(out, func(a, b Param) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Lookup returns the search parameter of a resource type by code.
func Lookup(resourceType, code string) (Param, bool) {
	if !fhir.IsResourceType(resourceType) {
		return Param{}, false
	}
	if strings.HasPrefix(code, "_") {
		for _, p := range common {
			if p.Code == code {
				return finish(p), true
			}
		}
	}
	own := ownParams(resourceType)
	i := sort.Search(len(own), func(i int) bool { return own[i].Code >= code })
	if i < len(own) && own[i].Code == code {
		return finish(own[i]), true
	}
	return Param{}, false
}

// ownParams returns the generated parameters of a type other than the
// common ones; the caller must not modify them.
func ownParams(resourceType string) []Param {
	i := sort.Search(len(byType), func(i int) bool { return byType[i].typ >= resourceType })
	if i < len(byType) && byType[i].typ == resourceType {
		return byType[i].params
	}
	return nil
}

// finish fills the fields derived from the type and copies the slices
// callers may modify.
func finish(p Param) Param {
	if p.targets > 0 {
		p.Targets = slices.Clone(targetSets[p.targets-1])
	}
	p.Modifiers = modifiersFor(p.Type)
	if p.Type == Date || p.Type == Number || p.Type == Quantity {
		p.Comparators = allPrefixes
	}
	p.MultipleOr, p.MultipleAnd = !p.noOr, !p.noAnd
	p.Metadata = p.Code == "_id" || p.Code == "_lastUpdated"
	return p
}

// CompartmentParams returns the search parameters of resourceType that
// place a resource in a compartment of type compartment ("Patient",
// "Encounter", "RelatedPerson", "Practitioner", "Device"), per the R4
// CompartmentDefinitions; nil when the type is not in that compartment.
func CompartmentParams(compartment, resourceType string) []string {
	return slices.Clone(compartments[compartment][resourceType])
}
