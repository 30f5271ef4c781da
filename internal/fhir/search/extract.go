package search

import (
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search/internal/fhirpath"
)

// ErrNoResource is returned for a nil or empty resource.
var ErrNoResource = errors.New("search: no resource")

// Extract returns the search values of a parsed resource: for every
// search parameter of its type, in code order, the values its expression
// selects, converted per the R4 search rules for the parameter's type,
// duplicates removed. The metadata parameters (_id, _lastUpdated) are
// left to the store. Contained resources are not searched on their own;
// a Bundle's entries are values only where a Bundle parameter selects
// them (composition, message).
func Extract(r *fhir.Resource) ([]Value, error) {
	return AppendExtract(nil, r)
}

// AppendExtract is Extract appending to dst, so that a caller extracting
// many resources (an import) can reuse one slice.
func AppendExtract(dst []Value, r *fhir.Resource) ([]Value, error) {
	root := r.Root()
	if !root.IsObject() {
		return dst, ErrNoResource
	}
	var x extractor
	x.items, x.spans = x.itemBuf[:0], x.spanBuf[:0]
	x.ev.Reset(root)
	for i := range common {
		if p := &common[i]; p.Code != "_id" && p.Code != "_lastUpdated" {
			x.eval(p)
		}
	}
	own := ownParams(root.Type())
	for i := range own {
		x.eval(&own[i])
	}
	return x.convert(dst), nil
}

// ExtractParam returns the values of one search parameter of the
// resource's type, as Extract would; ok is false when the type has no
// such parameter. The query engine uses it to test candidates exactly
// after decryption.
func ExtractParam(r *fhir.Resource, code string) (values []Value, ok bool) {
	root := r.Root()
	if !root.IsObject() {
		return nil, false
	}
	p, ok := Lookup(root.Type(), code)
	if !ok || p.Type == Composite || p.Type == Special {
		return nil, false
	}
	var x extractor
	x.ev.Reset(root)
	x.eval(&p)
	return x.convert(nil), true
}

// extractor holds the state of one extraction: the expressions are
// evaluated first, so that the output can be allocated once, then the
// selected items converted.
type extractor struct {
	ev    fhirpath.Evaluator
	items []fhirpath.Item // what every parameter's expression selected
	spans []span          // which items belong to which parameter
	n     int             // the number of values the items are likely to give
	out   []Value

	// Room for the items and spans of most resources: one allocation
	// (the extractor) instead of a growing slice of each.
	itemBuf [24]fhirpath.Item
	spanBuf [16]span
}

type span struct {
	p          *Param
	start, end int
}

// eval evaluates one parameter's expression.
func (x *extractor) eval(p *Param) {
	start := len(x.items)
	x.items = x.ev.Eval(programs[p.prog], x.items)
	if len(x.items) == start {
		return
	}
	x.spans = append(x.spans, span{p, start, len(x.items)})
	for _, it := range x.items[start:] {
		x.n += valuesPer(it)
	}
}

// valuesPer is how many values an item usually gives: one, except for
// the types whose parts are values of their own. It sizes the output so
// that it is allocated once.
func valuesPer(it fhirpath.Item) int {
	e, ok := it.Elem()
	if !ok {
		return 1
	}
	switch e.Type() {
	case "HumanName":
		return 4
	case "Address":
		return 5
	case "CodeableConcept":
		return 2 + e.Get("coding").Len()
	}
	return 1
}

// convert appends the values of the evaluated items to dst.
func (x *extractor) convert(dst []Value) []Value {
	x.out = slices.Grow(dst, x.n)
	for _, s := range x.spans {
		x.param(s.p, x.items[s.start:s.end])
	}
	return x.out
}

// param appends the values of one parameter.
func (x *extractor) param(p *Param, items []fhirpath.Item) {
	start := len(x.out)
	for _, it := range items {
		if e, ok := it.Elem(); ok {
			if read := readerFor(p.Type, e.Type()); read != nil {
				read(x, p, e)
			}
			continue
		}
		if b, ok := it.Bool(); ok && p.Type == Token {
			code := "false"
			if b {
				code = "true"
			}
			x.add(p, Value{Kind: Token, Of: "boolean", Code: code})
		}
	}
	// Remove duplicates (a code repeated in two codings, a name part
	// that is also in the text): the index writes one token per value.
	vs := x.out[start:]
	n := 0
	for i := range vs {
		dup := false
		for j := 0; j < n; j++ {
			if vs[j] == vs[i] {
				dup = true
				break
			}
		}
		if !dup {
			vs[n] = vs[i]
			n++
		}
	}
	x.out = x.out[:start+n]
}

func (x *extractor) add(p *Param, v Value) {
	v.Param, v.Kind = p.Code, p.Type
	x.out = append(x.out, v)
}

// reader converts one selected element into values.
type reader func(x *extractor, p *Param, e fhir.Elem)

// readerFor returns how values of FHIR type typ are read for a parameter
// of kind k, or nil when such an element gives no value of that kind
// (a Procedure.performedString for the date parameter, an Attachment for
// Consent's source-reference, SampledData for Observation's
// value-quantity). TestStaticTypes checks this against every type the
// compiled expressions can select.
func readerFor(k Kind, typ string) reader {
	switch k {
	case String:
		switch typ {
		case "string", "markdown":
			return readString
		case "HumanName":
			return readHumanName
		case "Address":
			return readAddress
		}
	case Token:
		switch typ {
		case "Coding":
			return readCoding
		case "CodeableConcept":
			return readCodeableConcept
		case "Identifier":
			return readIdentifier
		case "ContactPoint":
			return readContactPoint
		case "code", "boolean", "id", "string", "uri", "url", "canonical", "oid", "uuid":
			return readCode
		}
	case Reference:
		switch typ {
		case "Reference":
			return readReference
		case "canonical", "uri", "url":
			return readCanonical
		}
		if fhir.IsResourceType(typ) {
			return readResource
		}
	case Date:
		switch typ {
		case "date", "dateTime", "instant":
			return readDate
		case "Period":
			return readPeriod
		case "Timing":
			return readTiming
		}
	case Number:
		switch typ {
		case "integer", "decimal", "positiveInt", "unsignedInt":
			return readNumber
		case "Range":
			return readNumberRange
		}
	case Quantity:
		switch typ {
		case "Quantity", "Age", "Count", "Distance", "Duration", "SimpleQuantity", "MoneyQuantity":
			return readQuantity
		case "Money":
			return readMoney
		case "Range":
			return readQuantityRange
		}
	case URI:
		switch typ {
		case "uri", "url", "canonical", "oid", "uuid":
			return readURI
		}
	}
	return nil
}

// forEach calls fn for a single element or each item of a repeating one.
func forEach(e fhir.Elem, fn func(fhir.Elem)) {
	if !e.IsArray() {
		if e.Exists() {
			fn(e)
		}
		return
	}
	for i, n := 0, e.Len(); i < n; i++ {
		if _, v := e.At(i); v.Exists() {
			fn(v)
		}
	}
}

// String values.

func readString(x *extractor, p *Param, e fhir.Elem) {
	x.addString(p, e.Type(), e.Text())
}

func (x *extractor) addString(p *Param, of, s string) {
	if s == "" {
		return
	}
	if t := Normalize(s); t != "" {
		x.add(p, Value{Of: of, Text: t, Raw: s})
	}
}

// readHumanName reads the parts R4 string search matches on a name:
// family, given, prefix, suffix and text.
func readHumanName(x *extractor, p *Param, e fhir.Elem) {
	x.addString(p, "HumanName", e.Get("family").Text())
	for _, k := range []string{"given", "prefix", "suffix"} {
		forEach(e.Get(k), func(v fhir.Elem) { x.addString(p, "HumanName", v.Text()) })
	}
	x.addString(p, "HumanName", e.Get("text").Text())
}

// readAddress reads line, city, district, state, postalCode, country
// and text.
func readAddress(x *extractor, p *Param, e fhir.Elem) {
	forEach(e.Get("line"), func(v fhir.Elem) { x.addString(p, "Address", v.Text()) })
	for _, k := range []string{"city", "district", "state", "postalCode", "country", "text"} {
		x.addString(p, "Address", e.Get(k).Text())
	}
}

// Token values.

func readCoding(x *extractor, p *Param, e fhir.Elem) {
	x.addCoding(p, "Coding", e)
}

func (x *extractor) addCoding(p *Param, of string, e fhir.Elem) {
	v := Value{Of: of, System: e.Get("system").Text(), Code: e.Get("code").Text()}
	if d := e.Get("display").Text(); d != "" {
		v.Text = Normalize(d)
	}
	if v.System != "" || v.Code != "" || v.Text != "" {
		x.add(p, v)
	}
}

// readCodeableConcept gives one value per coding and one for the text.
func readCodeableConcept(x *extractor, p *Param, e fhir.Elem) {
	forEach(e.Get("coding"), func(c fhir.Elem) { x.addCoding(p, "CodeableConcept", c) })
	if t := e.Get("text").Text(); t != "" {
		if n := Normalize(t); n != "" {
			x.add(p, Value{Of: "CodeableConcept", Text: n})
		}
	}
}

// readIdentifier reads system|value, with the type's text for :text.
func readIdentifier(x *extractor, p *Param, e fhir.Elem) {
	v := Value{Of: "Identifier", System: e.Get("system").Text(), Code: e.Get("value").Text()}
	if t := e.Get("type").Get("text").Text(); t != "" {
		v.Text = Normalize(t)
	}
	if v.System != "" || v.Code != "" || v.Text != "" {
		x.add(p, v)
	}
}

// readContactPoint reads the value, with its use (home, work, ...) as the
// token's system, per the R4 token table.
func readContactPoint(x *extractor, p *Param, e fhir.Elem) {
	if c := e.Get("value").Text(); c != "" {
		x.add(p, Value{Of: "ContactPoint", System: e.Get("use").Text(), Code: c})
	}
}

// readCode reads a primitive as a code without system (the system of a
// code element is implied by its binding, which is not recorded here).
func readCode(x *extractor, p *Param, e fhir.Elem) {
	if c := e.Text(); c != "" {
		x.add(p, Value{Of: e.Type(), Code: c})
	}
}

// Reference values.

func readReference(x *extractor, p *Param, e fhir.Elem) {
	if v, ok := referenceValue(e.Get("reference").Text()); ok {
		v.Of = "Reference"
		if v.Type == "" {
			// Reference.type names the target's type ("Patient", or a
			// StructureDefinition URL ending in it).
			t := e.Get("type").Text()
			if t = t[strings.LastIndexByte(t, '/')+1:]; fhir.IsResourceType(t) {
				v.Type = t
			}
		}
		x.add(p, v)
	}
	if id := e.Get("identifier"); id.IsObject() {
		v := Value{Of: "Identifier", System: id.Get("system").Text(), Code: id.Get("value").Text()}
		if v.System != "" || v.Code != "" {
			x.add(p, v)
		}
	}
}

// referenceValue normalises a literal reference (see Value.Ref).
func referenceValue(ref string) (Value, bool) {
	if ref == "" || ref[0] == '#' || strings.Contains(ref, "?") {
		return Value{}, false // contained, or conditional (resolved before storing)
	}
	v := Value{Raw: ref, Ref: ref}
	typ, id, ok := fhirpath.RefType(ref)
	if !ok {
		return v, true // urn:uuid:, urn:oid:, a URL that names no resource
	}
	v.Type, v.ID = typ, id
	base := ref
	if i := strings.LastIndex(ref, "/_history/"); i >= 0 {
		base, v.Version = ref[:i], ref[i+len("/_history/"):]
	}
	if strings.Contains(base, "://") {
		v.Ref = base
	} else {
		v.Ref = typ + "/" + id
	}
	return v, true
}

// readCanonical reads a canonical, uri or url used as a reference:
// url|version is split; a contained canonical (#id) gives no value.
func readCanonical(x *extractor, p *Param, e fhir.Elem) {
	s := e.Text()
	if s == "" || s[0] == '#' {
		return
	}
	url, version, _ := strings.Cut(s, "|")
	v := Value{Of: e.Type(), Raw: s, Ref: url, Version: version}
	if typ, id, ok := fhirpath.RefType(url); ok {
		v.Type, v.ID = typ, id
	}
	x.add(p, v)
}

// readResource reads a whole resource selected by a reference parameter
// (Bundle's composition and message: the first entry) as a reference to
// it, when it has an id and is of a target type.
func readResource(x *extractor, p *Param, e fhir.Elem) {
	typ, id := e.Type(), e.Get("id").Text()
	if id == "" {
		return
	}
	if t := targetsOf(p); len(t) > 0 && !contains(t, typ) {
		return
	}
	x.add(p, Value{Of: "Resource", Ref: typ + "/" + id, Type: typ, ID: id})
}

func targetsOf(p *Param) []string {
	if p.targets > 0 {
		return targetSets[p.targets-1]
	}
	return p.Targets
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Date values.

func readDate(x *extractor, p *Param, e fhir.Elem) {
	if lo, hi, ok := DateRange(e.Text()); ok {
		x.add(p, Value{Of: e.Type(), Low: lo, High: hi})
	}
}

// readPeriod reads [start, end]; a missing end is ongoing, a missing
// start unbounded.
func readPeriod(x *extractor, p *Param, e fhir.Elem) {
	lo, _, okLo := DateRange(e.Get("start").Text())
	_, hi, okHi := DateRange(e.Get("end").Text())
	if !okLo && !okHi {
		return
	}
	if !okHi {
		hi = OpenHigh()
	}
	x.add(p, Value{Of: "Period", Low: lo, High: hi})
}

// readTiming reads the outer limits of a schedule: its events and
// repeat.boundsPeriod (R4: the scheduling details are ignored).
func readTiming(x *extractor, p *Param, e fhir.Elem) {
	v := Value{Of: "Timing"}
	found := false
	widen := func(lo, hi time.Time) {
		if !found || lo.Before(v.Low) {
			v.Low = lo
		}
		if !found || hi.After(v.High) {
			v.High = hi
		}
		found = true
	}
	forEach(e.Get("event"), func(ev fhir.Elem) {
		if lo, hi, ok := DateRange(ev.Text()); ok {
			widen(lo, hi)
		}
	})
	if b := e.Get("repeat").Get("boundsPeriod"); b.IsObject() {
		lo, _, okLo := DateRange(b.Get("start").Text())
		_, hi, okHi := DateRange(b.Get("end").Text())
		if !okHi {
			hi = OpenHigh()
		}
		if okLo || okHi {
			widen(lo, hi)
		}
	}
	if found {
		x.add(p, v)
	}
}

// Number and quantity values.

func readNumber(x *extractor, p *Param, e fhir.Elem) {
	if v, ok := NumberValue(e.Text()); ok {
		v.Of = e.Type()
		x.add(p, v)
	}
}

// readNumberRange reads a Range as the numbers from its low value's
// lower bound to its high value's upper bound; units are ignored.
func readNumberRange(x *extractor, p *Param, e fhir.Elem) {
	lo, okLo := NumberValue(e.Get("low").Get("value").Text())
	hi, okHi := NumberValue(e.Get("high").Get("value").Text())
	if !okLo && !okHi {
		return
	}
	v := Value{Of: "Range", NumLow: lo.NumLow, NumHigh: hi.NumHigh}
	if !okLo {
		v.NumLow = negInf()
	}
	if !okHi {
		v.NumHigh = posInf()
	}
	x.add(p, v)
}

func readQuantity(x *extractor, p *Param, e fhir.Elem) {
	v, ok := QuantityValue(e.Get("value").Text(), e.Get("system").Text(), e.Get("code").Text(), e.Get("unit").Text())
	if ok {
		v.Of = e.Type()
		x.add(p, v)
	}
}

// readMoney reads an amount with its ISO 4217 currency as the unit.
func readMoney(x *extractor, p *Param, e fhir.Elem) {
	cur := e.Get("currency").Text()
	sys := ""
	if cur != "" {
		sys = "urn:iso:std:iso:4217"
	}
	if v, ok := QuantityValue(e.Get("value").Text(), sys, cur, cur); ok {
		v.Of = "Money"
		x.add(p, v)
	}
}

// readQuantityRange reads a Range as quantities from its low's lower
// bound to its high's upper bound, in canonical units; when low and high
// are in different units each gives its own half-open value.
func readQuantityRange(x *extractor, p *Param, e fhir.Elem) {
	q := func(b fhir.Elem) (Value, bool) {
		return QuantityValue(b.Get("value").Text(), b.Get("system").Text(), b.Get("code").Text(), b.Get("unit").Text())
	}
	lo, okLo := q(e.Get("low"))
	hi, okHi := q(e.Get("high"))
	switch {
	case okLo && okHi && lo.System == hi.System && lo.Code == hi.Code:
		x.add(p, Value{Of: "Range", NumLow: lo.NumLow, NumHigh: hi.NumHigh, System: lo.System, Code: lo.Code, Unit: lo.Unit})
		return
	}
	if okLo {
		x.add(p, Value{Of: "Range", NumLow: lo.NumLow, NumHigh: posInf(), System: lo.System, Code: lo.Code, Unit: lo.Unit})
	}
	if okHi {
		x.add(p, Value{Of: "Range", NumLow: negInf(), NumHigh: hi.NumHigh, System: hi.System, Code: hi.Code, Unit: hi.Unit})
	}
}

// URI values.

func readURI(x *extractor, p *Param, e fhir.Elem) {
	if s := e.Text(); s != "" {
		x.add(p, Value{Of: e.Type(), Raw: s})
	}
}

func negInf() float64 { return math.Inf(-1) }
func posInf() float64 { return math.Inf(1) }
