package search

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wardhealth/ward/internal/fhir"
)

// What Parse reports, in Error.Msg. None holds a query value: values may
// be PHI.
var (
	errUnknownType       = errors.New("unknown resource type")
	errUnknownParam      = errors.New("unknown parameter")
	errUnknownModifier   = errors.New("unknown modifier")
	errModNotSupported   = errors.New("modifier not supported")
	errModNotAllowed     = errors.New("modifier not allowed on this parameter type")
	errNotTarget         = errors.New("resource type is not a target of the parameter")
	errNotSupported      = errors.New("not supported")
	errCursor            = errors.New("reserved for paging")
	errDeepChain         = errors.New("chains of more than one level are not supported")
	errChainNotRef       = errors.New("only reference parameters can be chained")
	errChainModifier     = errors.New("a chained parameter takes only a resource type modifier")
	errRepeated          = errors.New("parameter may not be repeated")
	errOneValue          = errors.New("parameter takes a single value")
	errEmpty             = errors.New("empty value")
	errMissingValue      = errors.New(":missing takes true or false")
	errContainsShort     = errors.New(":contains needs at least 3 characters")
	errMalformedToken    = errors.New("malformed token")
	errMalformedID       = errors.New("malformed id")
	errBadReference      = errors.New("bad reference")
	errMalformedDate     = errors.New("malformed date")
	errMalformedNumber   = errors.New("malformed number")
	errMalformedQuantity = errors.New("malformed quantity")
	errCount             = errors.New("must be an integer from 0 to " + strconv.Itoa(MaxCount))
	errSort              = errors.New("unknown or unsortable parameter")
	errTotal             = errors.New("must be none, estimate or accurate")
	errElement           = errors.New("malformed element name")
	errInclude           = errors.New("malformed include")
	errIncludeSource     = errors.New("source type must be the searched type")
	errIncludeParam      = errors.New("not a reference parameter of the source type")
	errIncludeTarget     = errors.New("target type is not one the parameter refers to")
)

// Parse parses and validates the parameters of a search on resourceType
// (a query string, or a POST _search form body) per the R4 search rules,
// against the registry. Every repetition of a parameter is a Clause (AND),
// its comma-separated values the Clause's operands (OR).
//
// When lenient (Prefer: handling=lenient), unknown parameters and unknown
// modifiers are left out and named in Query.Ignored; everything else that
// cannot be run is still an error: R4 parameters or modifiers ward does
// not support, malformed values. _format and _pretty are left to the
// HTTP layer; _cursor is the engine's and must be removed before.
//
// A quantity written number||code whose code is a UCUM unit ucum.go
// converts gives two operands: the code-only one as written, which
// matches quantities outside UCUM, then the UCUM quantity in canonical
// units (as if written number|http://unitsofmeasure.org|code).
//
// Errors are *Error, naming the parameter as written, never its value.
func Parse(resourceType string, params url.Values, lenient bool) (Query, error) {
	if !fhir.IsResourceType(resourceType) {
		return Query{}, &Error{Msg: errUnknownType.Error()}
	}
	p := parser{typ: resourceType, lenient: lenient}
	p.q = Query{Type: resourceType, Count: DefaultCount}
	// Sorted, so that clauses and errors do not depend on map order.
	for _, key := range slices.Sorted(maps.Keys(params)) {
		if len(params[key]) == 0 {
			continue
		}
		if err := p.param(key, params[key]); err != nil {
			return Query{}, &Error{Param: key, Msg: err.Error()}
		}
	}
	if p.q.SummaryCount {
		p.q.Count = 0
	}
	return p.q, nil
}

type parser struct {
	typ     string
	lenient bool
	q       Query
}

// param parses one key with all its values.
func (p *parser) param(key string, vals []string) error {
	name := key
	if i := strings.IndexAny(key, ":."); i >= 0 {
		name = key[:i]
	}
	switch name {
	case "_format", "_pretty":
		return nil
	case "_cursor":
		return errCursor
	case "_contained", "_containedType", "_has", "_list", "_query", "_filter", "_text", "_content", "_type":
		return errNotSupported
	case "_count", "_sort", "_total", "_summary", "_elements", "_include", "_revinclude":
		return p.result(key, name, vals)
	}
	return p.search(key, vals)
}

// skip leaves out a parameter a lenient parse does not understand, and
// returns err otherwise.
func (p *parser) skip(key string, err error) error {
	if !p.lenient {
		return err
	}
	p.q.Ignored = append(p.q.Ignored, key)
	return nil
}

// result parses a search result parameter (_count, _sort, ...).
func (p *parser) result(key, name string, vals []string) error {
	if key != name {
		if name == "_include" || name == "_revinclude" {
			if mod := key[len(name):]; mod == ":iterate" || mod == ":recurse" {
				return errNotSupported
			}
		}
		return p.skip(key, errUnknownModifier)
	}
	if len(vals) > 1 && name != "_include" && name != "_revinclude" {
		return errRepeated
	}
	v := vals[0]
	switch name {
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxCount || v[0] < '0' || v[0] > '9' {
			return errCount
		}
		p.q.Count = n
	case "_sort":
		for s := range strings.SplitSeq(v, ",") {
			k := SortKey{Desc: strings.HasPrefix(s, "-")}
			param, ok := Lookup(p.typ, strings.TrimPrefix(s, "-"))
			if !ok || param.Type > URI {
				return errSort
			}
			k.Param = param
			p.q.Sort = append(p.q.Sort, k)
		}
	case "_total":
		switch v {
		case "none":
			p.q.Total = TotalNone
		case "estimate":
			p.q.Total = TotalEstimate
		case "accurate":
			p.q.Total = TotalAccurate
		default:
			return errTotal
		}
	case "_summary":
		switch v {
		case "count":
			p.q.SummaryCount = true
		case "false":
		default:
			return errNotSupported
		}
	case "_elements":
		for e := range strings.SplitSeq(v, ",") {
			if !isElementName(e) {
				return errElement
			}
			p.q.Elements = append(p.q.Elements, e)
		}
	case "_include", "_revinclude":
		for _, v := range vals {
			inc, err := p.include(v, name == "_revinclude")
			if err != nil {
				return err
			}
			if name == "_include" {
				p.q.Includes = append(p.q.Includes, inc)
			} else {
				p.q.RevIncludes = append(p.q.RevIncludes, inc)
			}
		}
	}
	return nil
}

// isElementName reports whether s is [a-zA-Z][A-Za-z0-9]*.
func isElementName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// include parses Source:param[:Target] of _include, or of _revinclude
// when rev.
func (p *parser) include(v string, rev bool) (Include, error) {
	parts := strings.Split(v, ":")
	if slices.Contains(parts, "*") {
		return Include{}, errNotSupported
	}
	if len(parts) < 2 || len(parts) > 3 {
		return Include{}, errInclude
	}
	inc := Include{Source: parts[0]}
	if len(parts) == 3 {
		inc.Target = parts[2]
	}
	if !rev && inc.Source != p.typ {
		return Include{}, errIncludeSource
	}
	param, ok := Lookup(inc.Source, parts[1])
	if !ok || param.Type != Reference {
		return Include{}, errIncludeParam
	}
	inc.Param = param
	switch {
	case inc.Target != "" && !refersTo(param, inc.Target),
		rev && !refersTo(param, p.typ),
		rev && inc.Target != "" && inc.Target != p.typ:
		return Include{}, errIncludeTarget
	}
	return inc, nil
}

// refersTo reports whether the reference parameter may point to a
// resource of type t.
func refersTo(param Param, t string) bool {
	return fhir.IsResourceType(t) && (len(param.Targets) == 0 || slices.Contains(param.Targets, t))
}

// search parses a search parameter: code, code:modifier, or a chain.
func (p *parser) search(key string, vals []string) error {
	outer, inner, chained := strings.Cut(key, ".")
	code, mod, hasMod := strings.Cut(outer, ":")
	param, ok := Lookup(p.typ, code)
	if !ok {
		if unsupportedParam(p.typ, code) {
			return errNotSupported
		}
		return p.skip(key, errUnknownParam)
	}
	if chained {
		return p.chain(key, param, mod, hasMod, inner, vals)
	}
	m, target, err := modifierOf(param, mod, hasMod)
	if err == errUnknownModifier {
		return p.skip(key, err)
	}
	if err != nil {
		return err
	}
	cs, err := clauses(param, m, target, vals)
	p.q.Clauses = append(p.q.Clauses, cs...)
	return err
}

// clauses parses the occurrences of a parameter, one clause each.
func clauses(param Param, m Modifier, target string, vals []string) ([]Clause, error) {
	if len(vals) > 1 && !param.MultipleAnd {
		return nil, errRepeated
	}
	out := make([]Clause, 0, len(vals))
	for _, v := range vals {
		ops, err := operands(param, m, target, v)
		if err != nil {
			return nil, err
		}
		out = append(out, Clause{Param: param, Modifier: m, Target: target, Values: ops})
	}
	return out, nil
}

// unsupportedParam reports whether code is an R4 parameter of the type
// that ward leaves out (composite, special): an error even when lenient.
func unsupportedParam(typ, code string) bool {
	for _, u := range unsupported {
		if u.Code == code && (slices.Contains(u.Base, typ) ||
			slices.Contains(u.Base, "Resource") || slices.Contains(u.Base, "DomainResource")) {
			return true
		}
	}
	return false
}

// modifierOf resolves the modifier written after a parameter's code; for
// [type], target is the type.
func modifierOf(param Param, s string, written bool) (m Modifier, target string, err error) {
	if !written {
		return 0, "", nil
	}
	m, ok := ParseModifier(s)
	switch {
	case !ok:
		return 0, "", errUnknownModifier
	case m&(Above|Below|In|NotIn|OfType) != 0:
		return 0, "", errModNotSupported
	case !param.Modifiers.Has(m):
		return 0, "", errModNotAllowed
	case m == TypeModifier:
		if !refersTo(param, s) {
			return 0, "", errNotTarget
		}
		return m, s, nil
	}
	return m, "", nil
}

// chain parses ref.code or ref:Type.code: one link per target type that
// has the inner parameter.
func (p *parser) chain(key string, param Param, mod string, hasMod bool, inner string, vals []string) error {
	if strings.Contains(inner, ".") {
		return errDeepChain
	}
	if param.Type != Reference {
		return errChainNotRef
	}
	if len(vals) > 1 && !param.MultipleAnd {
		return errRepeated
	}
	m, target, err := modifierOf(param, mod, hasMod)
	switch {
	case err == errUnknownModifier:
		return p.skip(key, err)
	case err == errModNotAllowed || err == nil && m != 0 && m != TypeModifier:
		return errChainModifier
	case err != nil:
		return err
	}
	types := param.Targets
	switch {
	case target != "":
		types = []string{target}
	case len(types) == 0:
		types = fhir.ResourceTypes()
	}
	code, imod, hasIMod := strings.Cut(inner, ":")
	var links []ChainLink // the inner clauses, without values
	for _, t := range types {
		ip, ok := Lookup(t, code)
		if !ok {
			continue
		}
		im, itarget, err := modifierOf(ip, imod, hasIMod)
		if err == errUnknownModifier {
			return p.skip(key, err)
		}
		if err != nil {
			return err
		}
		links = append(links, ChainLink{Type: t, Clause: Clause{Param: ip, Modifier: im, Target: itarget}})
	}
	if len(links) == 0 {
		for _, t := range types {
			if unsupportedParam(t, code) {
				return errNotSupported
			}
		}
		return p.skip(key, errUnknownParam)
	}
	for _, v := range vals {
		c := Clause{Param: param, Modifier: m, Target: target, Chain: slices.Clone(links)}
		for i := range c.Chain {
			ic := &c.Chain[i].Clause
			if ic.Values, err = operands(ic.Param, ic.Modifier, ic.Target, v); err != nil {
				return err
			}
		}
		p.q.Clauses = append(p.q.Clauses, c)
	}
	return nil
}

// operands parses one occurrence of a parameter: its comma-separated
// values.
func operands(param Param, m Modifier, target, v string) ([]Operand, error) {
	base := Operand{Value: Value{Param: param.Code, Kind: param.Type}}
	if m == Missing {
		switch v {
		case "true":
			base.Missing = true
		case "false":
		default:
			return nil, errMissingValue
		}
		return []Operand{base}, nil
	}
	parts := splitEscaped(v, ',')
	if len(parts) > 1 && !param.MultipleOr {
		return nil, errOneValue
	}
	ops := make([]Operand, 0, len(parts))
	for _, s := range parts {
		if s == "" {
			return nil, errEmpty
		}
		op, extra := base, Operand{}
		var err error
		switch param.Type {
		case String:
			err = parseString(&op, m, s)
		case Token:
			err = parseToken(&op, m, s, param.Code == "_id")
		case Reference:
			err = parseReference(&op, param, m, target, s)
		case URI:
			op.Raw = unescape(s)
		case Date:
			err = parseDate(&op, s)
		case Number:
			err = parseNumber(&op, s)
		case Quantity:
			extra, err = parseQuantity(&op, s)
		default:
			err = errNotSupported
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		if extra.Kind != 0 {
			ops = append(ops, extra)
		}
	}
	return ops, nil
}

func parseString(op *Operand, m Modifier, s string) error {
	op.Raw = unescape(s)
	op.Text = Normalize(op.Raw)
	switch {
	case op.Text == "" && m != Exact:
		return errEmpty
	case m == Contains && utf8.RuneCountInString(op.Text) < 3:
		return errContainsShort // the index looks :contains up by trigram
	}
	return nil
}

// parseToken reads code, system|code, |code or system|; :text reads the
// whole value as text. An _id value must be a FHIR id.
func parseToken(op *Operand, m Modifier, s string, isID bool) error {
	op.Text = Normalize(unescape(s))
	if m == Text {
		if op.Text == "" {
			return errEmpty
		}
		return nil
	}
	if err := splitToken(op, s); err != nil {
		return err
	}
	if isID && (op.SystemGiven || !fhir.ValidID(op.Code)) {
		return errMalformedID
	}
	return nil
}

// splitToken sets System, Code and SystemGiven from an escaped token.
func splitToken(op *Operand, s string) error {
	parts := splitEscaped(s, '|')
	switch {
	case len(parts) == 1:
		op.Code = unescape(s)
	case len(parts) == 2 && parts[0]+parts[1] != "":
		op.System, op.Code, op.SystemGiven = unescape(parts[0]), unescape(parts[1]), true
	default:
		return errMalformedToken
	}
	return nil
}

// parseReference reads Type/id, an id, or an absolute URL; :identifier
// reads a token.
func parseReference(op *Operand, param Param, m Modifier, target, s string) error {
	if m == Identifier {
		return splitToken(op, s)
	}
	v := unescape(s)
	if fhir.ValidID(v) {
		op.ID, op.Type = v, target
		if op.Type == "" && len(param.Targets) == 1 {
			op.Type = param.Targets[0]
		}
		if op.Type != "" {
			op.Ref = op.Type + "/" + v
		}
		return nil
	}
	rv, ok := referenceValue(v)
	absolute := strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "urn:")
	switch {
	case !ok, rv.Type == "" && !absolute,
		rv.Type != "" && !refersTo(param, rv.Type),
		rv.Type != "" && target != "" && rv.Type != target:
		return errBadReference
	}
	op.Ref, op.Type, op.ID = rv.Ref, rv.Type, rv.ID // the version is dropped
	return nil
}

// cutPrefix returns the comparison prefix of an ordered value, Eq when
// none is written, and the rest.
func cutPrefix(s string) (Prefix, string) {
	if len(s) >= 2 {
		if p, ok := ParsePrefix(s[:2]); ok {
			return p, s[2:]
		}
	}
	return Eq, s
}

func parseDate(op *Operand, s string) error {
	var ok bool
	op.Prefix, s = cutPrefix(s)
	if op.Low, op.High, ok = DateRange(unescape(s)); !ok {
		return errMalformedDate
	}
	return nil
}

func parseNumber(op *Operand, s string) error {
	pfx, s := cutPrefix(s)
	v, ok := NumberValue(unescape(s))
	if !ok {
		return errMalformedNumber
	}
	op.Num, op.NumLow, op.NumHigh, op.Prefix = v.Num, v.NumLow, v.NumHigh, pfx
	return nil
}

// parseQuantity reads number, number|system|code or number||code into op
// (SystemGiven when a system is). For number||code with a UCUM unit
// ucum.go converts, canon is the same quantity in canonical UCUM units
// (Kind 0 otherwise).
func parseQuantity(op *Operand, s string) (canon Operand, err error) {
	pfx, s := cutPrefix(s)
	parts := splitEscaped(s, '|')
	var num, system, code string
	switch len(parts) {
	case 1:
		num = unescape(s)
	case 3:
		num, system, code = unescape(parts[0]), unescape(parts[1]), unescape(parts[2])
		if system != "" && code == "" {
			return Operand{}, errMalformedQuantity
		}
	default:
		return Operand{}, errMalformedQuantity
	}
	v, ok := QuantityValue(num, system, code, "")
	if !ok {
		return Operand{}, errMalformedQuantity
	}
	op.Num, op.NumLow, op.NumHigh, op.System, op.Code, op.Prefix = v.Num, v.NumLow, v.NumHigh, v.System, v.Code, pfx
	op.SystemGiven = system != ""
	if system == "" && code != "" {
		if _, _, _, ok := ucumFactor(code); ok {
			canon = *op
			v, _ = QuantityValue(num, ucumSystem, code, "")
			canon.Num, canon.NumLow, canon.NumHigh, canon.System, canon.Code = v.Num, v.NumLow, v.NumHigh, v.System, v.Code
			canon.SystemGiven = true
		}
	}
	return canon, nil
}

// splitEscaped splits s at each sep that no backslash escapes; the parts
// keep their escapes.
func splitEscaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // the escaped byte is never a separator
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescape removes the backslash of \, \| \$ and \\; any other backslash
// is kept as written.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`\,|$`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
