package fhirpath

import (
	"strconv"
	"strings"
)

// Path is a compiled expression: steps applied in order, the first to a
// collection holding the context item (the resource, or the item a
// where() criterion is tested on). Generated tables hold Paths as
// composite literals, so the binary compiles nothing at run time.
type Path []Step

// Step is one operation of a Path.
type Step struct {
	Op Op // the operation
	// Name is the element of Child (for a choice, its name without the
	// type, "value"), the type of As and Is, the URL of Extension, the
	// text of Str and Bool literals.
	Name string
	// Names are the JSON properties Child reads when they are not just
	// Name: the typed names of a choice element (valueQuantity).
	Names []string
	// N is the position for Index.
	N int
	// Args are the criterion of Where, or the operands of Union, And,
	// Or, Eq and NotEq; operands are evaluated on the context item.
	Args []Path
}

// Op is the operation of a Step.
type Op uint8

// Operations. Child, Index, Where, As, Is, Exists, Not, Resolve and
// Extension act on the collection produced by the step before; Union,
// And, Or, Eq, NotEq, Str, Bool and Int start a Path and act on the
// context item.
const (
	Child     Op = iota + 1 // the named element(s) of each item, arrays flattened
	Index                   // the N-th item ([N], first())
	Where                   // the items for which Args[0] is true
	As                      // the items of type Name or a subtype (as, ofType)
	Is                      // whether the single item is of type Name
	Exists                  // whether the collection is not empty
	Not                     // the negation of a single boolean
	Resolve                 // for each reference, its target typed from the reference string
	Extension               // the extensions with url Name
	Union                   // Args[0] | Args[1] | ..., duplicates removed
	And                     // Args[0] and Args[1], three-valued
	Or                      // Args[0] or Args[1], three-valued
	Eq                      // Args[0] = Args[1]
	NotEq                   // Args[0] != Args[1]
	Str                     // the string literal Name
	Bool                    // the boolean literal Name
	Int                     // the integer literal N
)

var opNames = [...]string{
	Child: "child", Index: "index", Where: "where", As: "as", Is: "is", Exists: "exists",
	Not: "not", Resolve: "resolve", Extension: "extension", Union: "union", And: "and",
	Or: "or", Eq: "eq", NotEq: "ne", Str: "str", Bool: "bool", Int: "int",
}

// String names the operation.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op" + strconv.Itoa(int(o))
}

// String renders the Path in a compact, unambiguous form (used to share
// identical programs between resource types and in test messages).
func (p Path) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p Path) write(b *strings.Builder) {
	b.WriteByte('[')
	for i, s := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.Op.String())
		if s.Name != "" {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(s.Name))
		}
		if len(s.Names) > 0 {
			b.WriteString(" {")
			b.WriteString(strings.Join(s.Names, ","))
			b.WriteByte('}')
		}
		if s.Op == Index || s.Op == Int {
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(s.N))
		}
		for _, a := range s.Args {
			b.WriteByte(' ')
			a.write(b)
		}
	}
	b.WriteByte(']')
}
