// Package fhirpath compiles and evaluates the subset of FHIRPath that the
// FHIR R4 search-parameter definitions use: paths over elements (choice
// elements included), `|` unions, where(), exists(), not(), `is`/`as`
// and their function forms, ofType(), resolve() (typed from the reference
// string), extension(url), first(), indexers, `=`/`!=`, `and`/`or`, and
// string, boolean and integer literals.
//
// Compile type-checks an expression against the generated R4 schema
// (fhir.SchemaElements) for one resource type and turns it into a Path
// whose element steps name the JSON properties to read, choice elements
// expanded. Eval runs a Path over a parsed resource (fhir.Elem) without
// re-reading JSON. Anything outside the subset is a compile error, so the
// generator can list what it cannot evaluate.
package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
)

// syntax is a node of a parsed expression.
type syntax struct {
	kind   synKind
	name   string    // identifier, function, operator, type name or literal text
	target *syntax   // for member access, calls and indexers: the expression before the dot
	args   []*syntax // call arguments, binary operands, the indexer expression
	start  int       // byte span in the source
	end    int
}

type synKind uint8

const (
	synIdent  synKind = iota + 1 // name, or target.name
	synCall                      // name(args), or target.name(args)
	synIndex                     // target[args[0]]
	synBinary                    // args[0] name args[1]; for is/as, name is the operator and args[1] a synType
	synType                      // a type specifier (right of is/as)
	synString                    // 'text'
	synNumber                    // 12, 1.5
	synBool                      // true, false
	synThis                      // $this
)

// token kinds.
const (
	tkEOF = iota
	tkIdent
	tkString
	tkNumber
	tkOp
	tkThis
)

type token struct {
	kind  int
	text  string
	start int
	end   int
}

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tkIdent, src[i:j], i, j})
			i = j
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("unterminated delimited identifier at %d", i)
			}
			toks = append(toks, token{tkIdent, src[i+1 : i+1+j], i, i + j + 2})
			i += j + 2
		case c == '$':
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			if src[i:j] != "$this" {
				return nil, fmt.Errorf("unsupported variable %q", src[i:j])
			}
			toks = append(toks, token{tkThis, "$this", i, j})
			i = j
		case c == '\'':
			s, n, err := unquote(src[i:])
			if err != nil {
				return nil, fmt.Errorf("at %d: %w", i, err)
			}
			toks = append(toks, token{tkString, s, i, i + n})
			i += n
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				j++
			}
			toks = append(toks, token{tkNumber, src[i:j], i, j})
			i = j
		default:
			op := ""
			for _, o := range []string{"!=", "!~", "<=", ">=", ".", "(", ")", "[", "]", ",", "|", "=", "~", "<", ">", "+", "-", "*", "/", "&"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q at %d", c, i)
			}
			toks = append(toks, token{tkOp, op, i, i + len(op)})
			i += len(op)
		}
	}
	return append(toks, token{tkEOF, "", len(src), len(src)}), nil
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

// unquote reads a single-quoted FHIRPath string at the start of s and
// returns its value and length in bytes.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'f':
				b.WriteByte('\f')
			case '\'', '"', '`', '\\', '/':
				b.WriteByte(e)
			case 'u':
				if i+4 >= len(s) {
					return "", 0, fmt.Errorf("bad unicode escape")
				}
				r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil {
					return "", 0, fmt.Errorf("bad unicode escape")
				}
				b.WriteRune(rune(r))
				i += 4
			default:
				return "", 0, fmt.Errorf("bad escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// Binding strength of the binary operators (FHIRPath §6, loosest first).
var precedence = map[string]int{
	"implies": 1,
	"or":      2, "xor": 2,
	"and": 3,
	"in":  4, "contains": 4,
	"=": 5, "~": 5, "!=": 5, "!~": 5,
	"<": 6, ">": 6, "<=": 6, ">=": 6,
	"|":  7,
	"is": 8, "as": 8,
	"+": 9, "-": 9, "&": 9,
	"*": 10, "/": 10, "div": 10, "mod": 10,
}

type parser struct {
	src  string
	toks []token
	pos  int
}

// parse parses a FHIRPath expression into a syntax tree.
func parse(src string) (*syntax, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	s, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, fmt.Errorf("unexpected %q at %d", t.text, t.start)
	}
	return s, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tkEOF {
		p.pos++
	}
	return t
}

func (p *parser) expect(op string) error {
	t := p.next()
	if t.kind != tkOp || t.text != op {
		return fmt.Errorf("expected %q at %d, found %q", op, t.start, t.text)
	}
	return nil
}

// binaryOp returns the operator at the current token and its precedence.
func (p *parser) binaryOp() (string, int) {
	t := p.peek()
	if t.kind != tkOp && t.kind != tkIdent {
		return "", 0
	}
	prec, ok := precedence[t.text]
	if !ok {
		return "", 0
	}
	return t.text, prec
}

// expr parses operators binding tighter than min (precedence climbing;
// all FHIRPath binary operators are left-associative).
func (p *parser) expr(min int) (*syntax, error) {
	left, err := p.postfix()
	if err != nil {
		return nil, err
	}
	for {
		op, prec := p.binaryOp()
		if prec == 0 || prec <= min {
			return left, nil
		}
		p.next()
		var right *syntax
		if op == "is" || op == "as" {
			right, err = p.typeSpec()
		} else {
			right, err = p.expr(prec)
		}
		if err != nil {
			return nil, err
		}
		left = &syntax{kind: synBinary, name: op, args: []*syntax{left, right}, start: left.start, end: right.end}
	}
}

// typeSpec parses a possibly qualified type name (FHIR.Quantity).
func (p *parser) typeSpec() (*syntax, error) {
	t := p.next()
	if t.kind != tkIdent {
		return nil, fmt.Errorf("expected a type name at %d", t.start)
	}
	s := &syntax{kind: synType, name: t.text, start: t.start, end: t.end}
	for p.peek().kind == tkOp && p.peek().text == "." && p.toks[p.pos+1].kind == tkIdent {
		p.next()
		n := p.next()
		s.name += "." + n.text
		s.end = n.end
	}
	return s, nil
}

// postfix parses a term followed by member accesses, calls and indexers.
func (p *parser) postfix() (*syntax, error) {
	s, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tkOp && t.text == ".":
			p.next()
			id := p.next()
			if id.kind != tkIdent {
				return nil, fmt.Errorf("expected a name after '.' at %d", id.start)
			}
			m, err := p.member(id)
			if err != nil {
				return nil, err
			}
			m.target, m.start = s, s.start
			s = m
		case t.kind == tkOp && t.text == "[":
			p.next()
			ix, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			end := p.peek().end
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			s = &syntax{kind: synIndex, target: s, args: []*syntax{ix}, start: s.start, end: end}
		default:
			return s, nil
		}
	}
}

// member parses an identifier or a function call whose name is id.
func (p *parser) member(id token) (*syntax, error) {
	if t := p.peek(); t.kind != tkOp || t.text != "(" {
		return &syntax{kind: synIdent, name: id.text, start: id.start, end: id.end}, nil
	}
	p.next()
	s := &syntax{kind: synCall, name: id.text, start: id.start}
	if t := p.peek(); t.kind == tkOp && t.text == ")" {
		s.end = p.next().end
		return s, nil
	}
	for {
		var a *syntax
		var err error
		if isTypeFunction(id.text) {
			a, err = p.typeSpec()
		} else {
			a, err = p.expr(0)
		}
		if err != nil {
			return nil, err
		}
		s.args = append(s.args, a)
		t := p.next()
		if t.kind == tkOp && t.text == ")" {
			s.end = t.end
			return s, nil
		}
		if t.kind != tkOp || t.text != "," {
			return nil, fmt.Errorf("expected ',' or ')' at %d", t.start)
		}
	}
}

// isTypeFunction reports functions whose argument is a type specifier.
func isTypeFunction(name string) bool { return name == "as" || name == "is" || name == "ofType" }

func (p *parser) term() (*syntax, error) {
	t := p.next()
	switch t.kind {
	case tkIdent:
		switch t.text {
		case "true", "false":
			return &syntax{kind: synBool, name: t.text, start: t.start, end: t.end}, nil
		}
		return p.member(t)
	case tkString:
		return &syntax{kind: synString, name: t.text, start: t.start, end: t.end}, nil
	case tkNumber:
		return &syntax{kind: synNumber, name: t.text, start: t.start, end: t.end}, nil
	case tkThis:
		return &syntax{kind: synThis, start: t.start, end: t.end}, nil
	case tkOp:
		if t.text == "(" {
			s, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			end := p.peek().end
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			// Keep the parentheses in the span so a branch's text stays valid.
			s.start, s.end = t.start, end
			return s, nil
		}
	}
	if t.kind == tkEOF {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	return nil, fmt.Errorf("unexpected %q at %d", t.text, t.start)
}
