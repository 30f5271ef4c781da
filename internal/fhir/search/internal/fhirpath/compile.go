package fhirpath

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wardhealth/ward/internal/fhir"
)

// Static type names that are not FHIR types.
const (
	typeBoolean  = "System.Boolean"
	typeString   = "System.String"
	typeInteger  = "System.Integer"
	typeResolved = "Resource(resolved)" // the target of resolve(): a resource known only by its type
	typeResource = "Resource"           // any resource (Bundle.entry.resource)
)

// ErrUnsupported marks an expression outside the supported subset.
var ErrUnsupported = errors.New("unsupported FHIRPath")

// Branch is one operand of an expression's top-level `|` unions.
type Branch struct {
	Text string // the operand's source text
	// Type is the resource type the operand starts from ("Patient"),
	// "Resource" or "DomainResource" for the common parameters, and ""
	// when it starts from the context item (`name | alias`).
	Type string
}

// Branches splits src at its top-level `|` operators. R4 definitions
// shared by several resource types are unions of one branch per type.
func Branches(src string) ([]Branch, error) {
	s, err := parse(src)
	if err != nil {
		return nil, err
	}
	var out []Branch
	var walk func(s *syntax)
	walk = func(s *syntax) {
		if s.kind == synBinary && s.name == "|" && !parenthesized(src, s) {
			walk(s.args[0])
			walk(s.args[1])
			return
		}
		out = append(out, Branch{Text: strings.TrimSpace(src[s.start:s.end]), Type: leadingType(s)})
	}
	walk(s)
	return out, nil
}

// parenthesized reports whether the span of s is wrapped in parentheses
// that belong to it, as in `(a | b)`.
func parenthesized(src string, s *syntax) bool {
	if s.start >= s.end || src[s.start] != '(' || src[s.end-1] != ')' {
		return false
	}
	// The outer parentheses belong to s when they match each other.
	depth := 0
	for i := s.start; i < s.end; i++ {
		switch src[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && i != s.end-1 {
				return false
			}
		case '\'':
			if _, n, err := unquote(src[i:]); err == nil {
				i += n - 1
			}
		}
	}
	return true
}

// leadingType returns the type name an expression starts from, or "".
func leadingType(s *syntax) string {
	for {
		switch {
		case s.kind == synBinary:
			s = s.args[0]
		case s.target != nil:
			s = s.target
		case s.kind == synIdent && s.name != "" && s.name[0] >= 'A' && s.name[0] <= 'Z':
			return s.name
		default:
			return ""
		}
	}
}

// compiler holds the state of one Compile call.
type compiler struct {
	base string // the resource type the expression is evaluated on
	// last is the element/type pairs of the most recent Child step, so
	// that `as T` right after it can narrow the JSON names it reads.
	last []nameType
}

type nameType struct{ name, typ string }

// Compile type-checks src for resources of type base and compiles it.
// It returns the Path and the static types of the values it selects
// (FHIR type names, "System.Boolean" for boolean expressions, "Resource"
// for whole resources). Expressions outside the subset, steps through
// elements base does not have, and type filters that can never match are
// errors wrapping ErrUnsupported.
func Compile(src, base string) (Path, []string, error) {
	if fhir.SchemaElements(base) == nil {
		return nil, nil, fmt.Errorf("unknown resource type %q", base)
	}
	s, err := parse(src)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	c := &compiler{base: base}
	p, ts, err := c.compile(s, []string{base}, true)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if p == nil {
		p = Path{}
	}
	return p, ts, nil
}

// compile compiles s evaluated on a context item of the types ctx; root
// reports whether the context is the resource itself, where a leading
// type name (Patient.name, Resource.id) selects it.
func (c *compiler) compile(s *syntax, ctx []string, root bool) (Path, []string, error) {
	switch s.kind {
	case synThis:
		return nil, ctx, nil
	case synString:
		return Path{{Op: Str, Name: s.name}}, []string{typeString}, nil
	case synBool:
		return Path{{Op: Bool, Name: s.name}}, []string{typeBoolean}, nil
	case synNumber:
		n, err := strconv.Atoi(s.name)
		if err != nil {
			return nil, nil, fmt.Errorf("only integer literals are supported, not %s", s.name)
		}
		return Path{{Op: Int, N: n}}, []string{typeInteger}, nil
	case synIdent:
		if s.target == nil && root && isTypeName(s.name) {
			if s.name == c.base || s.name == "Resource" || s.name == "DomainResource" {
				return nil, ctx, nil
			}
			return nil, nil, fmt.Errorf("expression starts from %s, not %s", s.name, c.base)
		}
		p, ts, err := c.input(s, ctx, root)
		if err != nil {
			return nil, nil, err
		}
		step, ts, err := c.child(ts, s.name)
		if err != nil {
			return nil, nil, err
		}
		return append(p, step), ts, nil
	case synIndex:
		p, ts, err := c.input(s, ctx, root)
		if err != nil {
			return nil, nil, err
		}
		ix := s.args[0]
		n, err := strconv.Atoi(ix.name)
		if ix.kind != synNumber || err != nil || n < 0 {
			return nil, nil, errors.New("only constant non-negative indexes are supported")
		}
		c.last = nil
		return append(p, Step{Op: Index, N: n}), ts, nil
	case synCall:
		return c.call(s, ctx, root)
	case synBinary:
		return c.binary(s, ctx, root)
	}
	return nil, nil, fmt.Errorf("unsupported expression %q", s.name)
}

// input compiles the target of a member access, call or indexer: the
// expression before the dot, or the context item when there is none.
func (c *compiler) input(s *syntax, ctx []string, root bool) (Path, []string, error) {
	if s.target == nil {
		return nil, ctx, nil
	}
	return c.compile(s.target, ctx, root)
}

func (c *compiler) call(s *syntax, ctx []string, root bool) (Path, []string, error) {
	p, ts, err := c.input(s, ctx, root)
	if err != nil {
		return nil, nil, err
	}
	nargs := func(n int) error {
		if len(s.args) != n {
			return fmt.Errorf("%s() takes %d argument(s)", s.name, n)
		}
		return nil
	}
	switch s.name {
	case "where", "exists":
		if s.name == "exists" && len(s.args) == 0 {
			c.last = nil
			return append(p, Step{Op: Exists}), []string{typeBoolean}, nil
		}
		if err := nargs(1); err != nil {
			return nil, nil, err
		}
		crit, _, err := c.compile(s.args[0], ts, false)
		if err != nil {
			return nil, nil, err
		}
		c.last = nil
		p = append(p, Step{Op: Where, Args: []Path{nonNil(crit)}})
		if s.name == "exists" {
			return append(p, Step{Op: Exists}), []string{typeBoolean}, nil
		}
		return p, ts, nil
	case "not":
		if err := nargs(0); err != nil {
			return nil, nil, err
		}
		c.last = nil
		return append(p, Step{Op: Not}), []string{typeBoolean}, nil
	case "first":
		if err := nargs(0); err != nil {
			return nil, nil, err
		}
		c.last = nil
		return append(p, Step{Op: Index}), ts, nil
	case "as", "ofType":
		if err := nargs(1); err != nil {
			return nil, nil, err
		}
		return c.as(p, ts, s.args[0].name)
	case "is":
		if err := nargs(1); err != nil {
			return nil, nil, err
		}
		c.last = nil
		return append(p, Step{Op: Is, Name: typeName(s.args[0].name)}), []string{typeBoolean}, nil
	case "resolve":
		if err := nargs(0); err != nil {
			return nil, nil, err
		}
		for _, t := range ts {
			if t != "Reference" && t != "canonical" && t != "uri" && t != "url" {
				return nil, nil, fmt.Errorf("resolve() on %s", t)
			}
		}
		c.last = nil
		return append(p, Step{Op: Resolve}), []string{typeResolved}, nil
	case "extension":
		if err := nargs(1); err != nil {
			return nil, nil, err
		}
		if s.args[0].kind != synString {
			return nil, nil, errors.New("extension() takes a string literal")
		}
		for _, t := range ts {
			if fhir.SchemaElements(t) == nil {
				return nil, nil, fmt.Errorf("extension() on %s", t)
			}
		}
		c.last = nil
		return append(p, Step{Op: Extension, Name: s.args[0].name}), []string{"Extension"}, nil
	}
	return nil, nil, fmt.Errorf("function %s() is not supported", s.name)
}

func (c *compiler) binary(s *syntax, ctx []string, root bool) (Path, []string, error) {
	switch s.name {
	case "is":
		p, _, err := c.compile(s.args[0], ctx, root)
		if err != nil {
			return nil, nil, err
		}
		c.last = nil
		return append(p, Step{Op: Is, Name: typeName(s.args[1].name)}), []string{typeBoolean}, nil
	case "as":
		p, ts, err := c.compile(s.args[0], ctx, root)
		if err != nil {
			return nil, nil, err
		}
		return c.as(p, ts, s.args[1].name)
	}
	var op Op
	switch s.name {
	case "|":
		op = Union
	case "and":
		op = And
	case "or":
		op = Or
	case "=":
		op = Eq
	case "!=":
		op = NotEq
	default:
		return nil, nil, fmt.Errorf("operator %s is not supported", s.name)
	}
	l, lt, err := c.compile(s.args[0], ctx, root)
	if err != nil {
		return nil, nil, err
	}
	r, rt, err := c.compile(s.args[1], ctx, root)
	if err != nil {
		return nil, nil, err
	}
	c.last = nil
	if op != Union {
		return Path{{Op: op, Args: []Path{nonNil(l), nonNil(r)}}}, []string{typeBoolean}, nil
	}
	// Flatten nested unions: a | b | c is one step with three operands.
	var args []Path
	for _, x := range []Path{l, r} {
		if len(x) == 1 && x[0].Op == Union {
			args = append(args, x[0].Args...)
		} else {
			args = append(args, nonNil(x))
		}
	}
	return Path{{Op: Union, Args: args}}, union(lt, rt), nil
}

// child compiles the step to element name of items of the types ts.
func (c *compiler) child(ts []string, name string) (Step, []string, error) {
	var found []nameType
	for _, t := range ts {
		if t == typeResource || t == typeResolved {
			return Step{}, nil, fmt.Errorf("%s of a resource of unknown type", name)
		}
		elems := fhir.SchemaElements(t)
		exact := false
		for _, el := range elems {
			if el.Name == name && el.Choice == "" {
				found = append(found, nameType{el.Name, el.Type})
				exact = true
			}
		}
		if exact {
			continue
		}
		for _, el := range elems {
			if el.Choice == name {
				found = append(found, nameType{el.Name, el.Type})
			}
		}
	}
	if len(found) == 0 {
		return Step{}, nil, fmt.Errorf("no element %s on %s", name, strings.Join(ts, ", "))
	}
	c.last = found
	return childStep(name, found), types(found), nil
}

func childStep(name string, found []nameType) Step {
	st := Step{Op: Child, Name: name}
	if len(found) == 1 && found[0].name == name {
		return st
	}
	for _, f := range found {
		if !slices.Contains(st.Names, f.name) {
			st.Names = append(st.Names, f.name)
		}
	}
	if len(st.Names) == 1 && st.Names[0] == name {
		st.Names = nil
	}
	return st
}

func types(nts []nameType) []string {
	var out []string
	for _, nt := range nts {
		if !slices.Contains(out, nt.typ) {
			out = append(out, nt.typ)
		}
	}
	return out
}

// as compiles a type filter. Right after a Child step it narrows the JSON
// names that step reads (valueQuantity for `value as Quantity`), and is
// dropped when every remaining name has a matching type, since the parser
// validated each value against its element's type.
func (c *compiler) as(p Path, ts []string, want string) (Path, []string, error) {
	want = typeName(want)
	var keep []string
	for _, t := range ts {
		if t == typeResolved || IsType(t, want) {
			keep = append(keep, t)
		}
	}
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("%s is never of type %s", strings.Join(ts, ", "), want)
	}
	if n := len(p); n > 0 && p[n-1].Op == Child && c.last != nil {
		var narrowed []nameType
		for _, nt := range c.last {
			if IsType(nt.typ, want) {
				narrowed = append(narrowed, nt)
			}
		}
		p[n-1] = childStep(p[n-1].Name, narrowed)
		c.last = narrowed
		return p, types(narrowed), nil
	}
	c.last = nil
	return append(p, Step{Op: As, Name: want}), keep, nil
}

// IsType reports whether a value of FHIR type actual is of type want for
// `is`, `as` and ofType(): the same type, a Quantity specialisation (Age,
// Count, Distance, Duration, MoneyQuantity, SimpleQuantity) for Quantity,
// and any resource for Resource and DomainResource. Primitive types match
// only themselves: `(ConceptMap.source as uri)` does not select a
// canonical, which is what the definitions mean (source-uri and source
// are separate parameters).
func IsType(actual, want string) bool {
	switch {
	case actual == want:
		return true
	case want == "Quantity":
		switch actual {
		case "Age", "Count", "Distance", "Duration", "MoneyQuantity", "SimpleQuantity":
			return true
		}
	case want == "Resource" || want == "DomainResource":
		return fhir.IsResourceType(actual) && (want == "Resource" || actual != "Bundle" && actual != "Binary" && actual != "Parameters")
	}
	return false
}

// typeName strips the FHIR namespace of a qualified type name.
func typeName(s string) string { return strings.TrimPrefix(s, "FHIR.") }

// isTypeName reports whether an identifier names a type rather than an
// element: FHIR type names start with a capital letter, elements do not.
func isTypeName(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, t := range b {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func nonNil(p Path) Path {
	if p == nil {
		return Path{}
	}
	return p
}
