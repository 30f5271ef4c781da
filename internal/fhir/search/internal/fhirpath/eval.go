package fhirpath

import (
	"slices"
	"strconv"
	"strings"

	"github.com/wardhealth/ward/internal/fhir"
)

// Item is one value of an evaluated collection: an element of the
// resource, a literal or boolean result, or the target of resolve(),
// which is known only by its type.
type Item struct {
	elem fhir.Elem
	kind itemKind
	text string // literal text; the resource type for resolved items
}

type itemKind uint8

const (
	kNode     itemKind = iota // an element of the resource
	kString                   // a string literal
	kBool                     // a boolean literal or result
	kInt                      // an integer literal
	kResolved                 // a resolve() target; text is its resource type
)

// Elem returns the element the item is, and whether it is one.
func (it Item) Elem() (fhir.Elem, bool) { return it.elem, it.kind == kNode }

// Bool returns the value of a boolean item, and whether it is one.
func (it Item) Bool() (value, ok bool) { return it.text == "true", it.kind == kBool }

// Type is the item's type: the FHIR type of an element, the resource
// type of a resolved reference, or System.String / System.Boolean /
// System.Integer for literals and results.
func (it Item) Type() string {
	switch it.kind {
	case kNode:
		return it.elem.Type()
	case kString:
		return typeString
	case kBool:
		return typeBoolean
	case kInt:
		return typeInteger
	}
	return it.text
}

func boolItem(b bool) Item {
	if b {
		return Item{kind: kBool, text: "true"}
	}
	return Item{kind: kBool, text: "false"}
}

// Evaluator runs Paths over one resource, reusing its buffers between
// calls. It is not safe for concurrent use.
type Evaluator struct {
	root fhir.Elem
	free [][]Item
	// The first buffers come from here: evaluating the R4 expressions
	// needs at most four at a time.
	inline [4][8]Item
	used   int
}

// Reset points the evaluator at a resource.
func (ev *Evaluator) Reset(root fhir.Elem) { ev.root = root }

// Eval evaluates p with the resource as context and appends the
// resulting collection to dst.
func (ev *Evaluator) Eval(p Path, dst []Item) []Item {
	if !ev.root.Exists() {
		return dst
	}
	r := ev.run(p, Item{elem: ev.root})
	dst = append(dst, r...)
	ev.release(r)
	return dst
}

func (ev *Evaluator) buf() []Item {
	if n := len(ev.free); n > 0 {
		b := ev.free[n-1]
		ev.free = ev.free[:n-1]
		return b
	}
	if ev.used < len(ev.inline) {
		ev.used++
		return ev.inline[ev.used-1][:0]
	}
	return make([]Item, 0, 8)
}

func (ev *Evaluator) release(b []Item) { ev.free = append(ev.free, b[:0]) }

// run evaluates p on the context item ctx and returns a buffer the caller
// must release.
func (ev *Evaluator) run(p Path, ctx Item) []Item {
	cur := append(ev.buf(), ctx)
	for i := range p {
		next := ev.step(&p[i], ctx, cur, ev.buf())
		ev.release(cur)
		cur = next
	}
	return cur
}

func (ev *Evaluator) step(s *Step, ctx Item, in, out []Item) []Item {
	switch s.Op {
	case Child:
		for _, it := range in {
			if it.kind != kNode || !it.elem.IsObject() {
				continue
			}
			if s.Names == nil {
				out = appendElem(out, it.elem.Get(s.Name))
				continue
			}
			for i, n := 0, it.elem.Len(); i < n; i++ {
				name, v := it.elem.At(i)
				if strings.HasPrefix(name, s.Name) && slices.Contains(s.Names, name) {
					out = appendElem(out, v)
				}
			}
		}
	case Index:
		if s.N < len(in) {
			out = append(out, in[s.N])
		}
	case Where:
		for _, it := range in {
			r := ev.run(s.Args[0], it)
			v, known := truth(r)
			ev.release(r)
			if known && v {
				out = append(out, it)
			}
		}
	case As:
		for _, it := range in {
			if IsType(it.Type(), s.Name) {
				out = append(out, it)
			}
		}
	case Is:
		if len(in) == 1 {
			out = append(out, boolItem(IsType(in[0].Type(), s.Name)))
		}
	case Exists:
		out = append(out, boolItem(len(in) > 0))
	case Not:
		if v, known := truth(in); known && len(in) == 1 {
			out = append(out, boolItem(!v))
		}
	case Resolve:
		for _, it := range in {
			if t := ev.resolve(it); t != "" {
				out = append(out, Item{kind: kResolved, text: t})
			}
		}
	case Extension:
		for _, it := range in {
			if it.kind != kNode {
				continue
			}
			ext := it.elem.Get("extension")
			for i, n := 0, ext.Len(); i < n; i++ {
				_, e := ext.At(i)
				if e.Get("url").Text() == s.Name {
					out = append(out, Item{elem: e})
				}
			}
		}
	case Union:
		for _, a := range s.Args {
			r := ev.run(a, ctx)
			for _, it := range r {
				if !slices.ContainsFunc(out, func(o Item) bool { return same(o, it) }) {
					out = append(out, it)
				}
			}
			ev.release(r)
		}
	case And, Or:
		l := ev.run(s.Args[0], ctx)
		lv, lk := truth(l)
		ev.release(l)
		r := ev.run(s.Args[1], ctx)
		rv, rk := truth(r)
		ev.release(r)
		if s.Op == And {
			switch {
			case lk && !lv || rk && !rv:
				out = append(out, boolItem(false))
			case lk && rk:
				out = append(out, boolItem(true))
			}
		} else {
			switch {
			case lk && lv || rk && rv:
				out = append(out, boolItem(true))
			case lk && rk:
				out = append(out, boolItem(false))
			}
		}
	case Eq, NotEq:
		l := ev.run(s.Args[0], ctx)
		r := ev.run(s.Args[1], ctx)
		if len(l) > 0 && len(r) > 0 {
			eq := len(l) == len(r)
			for i := 0; eq && i < len(l); i++ {
				eq = equal(l[i], r[i])
			}
			out = append(out, boolItem(eq == (s.Op == Eq)))
		}
		ev.release(l)
		ev.release(r)
	case Str:
		out = append(out, Item{kind: kString, text: s.Name})
	case Bool:
		out = append(out, Item{kind: kBool, text: s.Name})
	case Int:
		out = append(out, Item{kind: kInt, text: strconv.Itoa(s.N)})
	}
	return out
}

// appendElem appends an element, or the items of a repeating one; absent
// values and the null placeholders of primitive arrays are skipped.
func appendElem(out []Item, v fhir.Elem) []Item {
	if v.IsArray() {
		for i, n := 0, v.Len(); i < n; i++ {
			if _, x := v.At(i); x.Exists() {
				out = append(out, Item{elem: x})
			}
		}
		return out
	}
	if v.Exists() {
		out = append(out, Item{elem: v})
	}
	return out
}

// truth is FHIRPath's singleton evaluation of a collection as a boolean:
// empty is unknown, a single boolean is its value, any other single item
// is true, and several items are unknown (an error in FHIRPath).
func truth(c []Item) (value, known bool) {
	if len(c) != 1 {
		return false, false
	}
	if c[0].kind == kBool {
		return c[0].text == "true", true
	}
	return true, true
}

// resolve returns the resource type a reference points at: for a
// contained reference (#id), the type of that contained resource; else
// the type named by the reference string (RefType).
func (ev *Evaluator) resolve(it Item) string {
	if it.kind != kNode {
		return ""
	}
	ref := ""
	switch {
	case it.elem.Type() == "Reference":
		ref = it.elem.Get("reference").Text()
	case it.elem.IsPrimitive():
		ref = it.elem.Text()
	}
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		return ContainedType(ev.root, id)
	}
	t, _, _ := RefType(ref)
	return t
}

// ContainedType returns the type of the contained resource of root with
// the id, or "".
func ContainedType(root fhir.Elem, id string) string {
	if id == "" {
		return ""
	}
	c := root.Get("contained")
	for i, n := 0, c.Len(); i < n; i++ {
		if _, r := c.At(i); r.Get("id").Text() == id {
			return r.Type()
		}
	}
	return ""
}

// RefType parses a literal reference: relative `Type/id`, or an absolute
// URL ending in `Type/id`, either optionally followed by `/_history/v`.
// It returns the resource type and id when Type is an R4 resource type
// and id a valid id. Contained (#id), urn:uuid:, urn:oid:, conditional
// (Type?query) and other references yield ok false.
func RefType(ref string) (typ, id string, ok bool) {
	if ref == "" || strings.ContainsAny(ref, "?#") {
		return "", "", false
	}
	s := ref
	if i := strings.LastIndex(s, "/_history/"); i >= 0 {
		if !fhir.ValidID(s[i+len("/_history/"):]) {
			return "", "", false
		}
		s = s[:i]
	}
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return "", "", false
	}
	id = s[i+1:]
	s = s[:i]
	typ = s[strings.LastIndexByte(s, '/')+1:]
	if !fhir.ValidID(id) || !fhir.IsResourceType(typ) {
		return "", "", false
	}
	// A relative reference is exactly Type/id; an absolute one has a
	// scheme before the service base.
	if len(typ) != len(s) && !strings.Contains(s, "://") {
		return "", "", false
	}
	return typ, id, true
}

// Comparison classes of FHIRPath equality.
const (
	cOther = iota
	cString
	cBool
	cNumber
	cDate
)

func class(it Item) int {
	switch it.kind {
	case kString:
		return cString
	case kBool:
		return cBool
	case kInt:
		return cNumber
	case kNode:
		switch it.elem.Type() {
		case "string", "code", "id", "uri", "url", "canonical", "markdown", "oid", "uuid", "base64Binary", "time":
			return cString
		case "boolean":
			return cBool
		case "integer", "decimal", "positiveInt", "unsignedInt":
			return cNumber
		case "date", "dateTime", "instant":
			return cDate
		}
	}
	return cOther
}

// equal is FHIRPath `=` on two single items: primitives of the same class
// by value (numbers numerically), elements by identity; items of
// different classes are not equal.
func equal(a, b Item) bool {
	ca, cb := class(a), class(b)
	if ca != cb {
		return false
	}
	if ca == cOther {
		return a == b
	}
	at, bt := text(a), text(b)
	if ca == cNumber {
		x, err1 := strconv.ParseFloat(at, 64)
		y, err2 := strconv.ParseFloat(bt, 64)
		return err1 == nil && err2 == nil && x == y
	}
	return at == bt
}

// same reports whether two items are duplicates for `|`, which merges
// equal values: complex elements when their content is the same as
// written (members in order, primitives by type and literal, so 1.0 and
// 1.00 differ, as in gofhir/fhirpath), others by `=`.
func same(a, b Item) bool {
	if a == b {
		return true
	}
	if a.kind == kNode && b.kind == kNode && !a.elem.IsPrimitive() {
		return sameElem(a.elem, b.elem)
	}
	return equal(a, b)
}

func sameElem(a, b fhir.Elem) bool {
	if a.IsPrimitive() || b.IsPrimitive() {
		return a.IsPrimitive() && b.IsPrimitive() && a.Type() == b.Type() && a.Text() == b.Text()
	}
	if a.IsArray() != b.IsArray() || a.Len() != b.Len() {
		return false
	}
	for i, n := 0, a.Len(); i < n; i++ {
		na, va := a.At(i)
		nb, vb := b.At(i)
		if na != nb || va.Exists() != vb.Exists() || va.Exists() && !sameElem(va, vb) {
			return false
		}
	}
	return true
}

func text(it Item) string {
	if it.kind == kNode {
		return it.elem.Text()
	}
	return it.text
}
