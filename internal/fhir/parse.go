package fhir

import (
	"strconv"
	"unicode/utf8"
)

// The parser decodes JSON and validates it against the generated schema
// in one pass over the input, building the node tree as it goes. Strings
// without escapes and number literals are substrings of one copy of the
// input; members of each object and array are carved from a shared
// arena, so a parse makes few allocations.

// seg is one step of the path to the value being parsed.
type seg struct {
	name string
	idx  int // array index, or -1
}

// parser holds the state of one Parse call.
type parser struct {
	data   []byte
	src    string // string(data): unescaped strings are substrings of it
	pos    int
	depth  int
	stop   bool // a fatal issue ends the parse
	stack  []member
	arena  []member
	chunk  int
	path   []seg
	issues []Issue
}

// Parse parses one resource from JSON and validates it against the R4
// base definitions (every resource type). Invalid input yields *Error.
func Parse(data []byte) (*Resource, error) {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = data[3:] // a UTF-8 byte order mark may be ignored (RFC 8259 §8.1)
	}
	var p parser
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, n := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		p.fatal(codeStructure, "invalid UTF-8 at byte offset "+strconv.Itoa(off))
		return nil, &Error{Issues: p.issues}
	}
	p.data = data
	p.src = string(data)
	p.chunk = min(max(len(data)/32, 16), 4096)
	p.stack = make([]member, 0, 32)
	p.path = make([]seg, 0, 16)
	p.skipWS()
	var n node
	if p.peek() != '{' {
		p.syntax("expected a JSON object")
	} else {
		n = p.resource(false)
	}
	if !p.stop {
		p.skipWS()
		if p.pos < len(p.data) {
			p.path = p.path[:0]
			p.syntax("unexpected data after the resource")
		}
	}
	if len(p.issues) > 0 {
		return nil, &Error{Issues: p.issues}
	}
	r := &Resource{root: n, size: len(data)}
	r.n = &r.root
	return r, nil
}

// expr renders the current path, extended by last, as an Expression.
func (p *parser) expr(last string) []string {
	if len(p.path) == 0 && last == "" {
		return nil
	}
	b := make([]byte, 0, 64)
	for i, s := range p.path {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, s.name...)
		if s.idx >= 0 {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.idx), 10)
			b = append(b, ']')
		}
	}
	if last != "" {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, last...)
	}
	return []string{string(b)}
}

// issueAt records an error at the current path extended by last.
func (p *parser) issueAt(code, diag, last string) {
	if p.stop {
		return
	}
	if len(p.issues) >= maxIssues {
		p.issues = append(p.issues, Issue{Severity: "fatal", Code: codeTooCostly,
			Diagnostics: "too many issues; validation stopped"})
		p.stop = true
		return
	}
	p.issues = append(p.issues, Issue{Severity: "error", Code: code, Diagnostics: diag, Expression: p.expr(last)})
}

func (p *parser) issue(code, diag string) { p.issueAt(code, diag, "") }

// fatal records an issue that ends the parse.
func (p *parser) fatal(code, diag string) {
	if p.stop {
		return
	}
	p.issues = append(p.issues, Issue{Severity: "fatal", Code: code, Diagnostics: diag, Expression: p.expr("")})
	p.stop = true
}

func (p *parser) syntax(what string) {
	p.fatal(codeStructure, "invalid JSON: "+what+" at byte offset "+strconv.Itoa(p.pos))
}

// push and pop maintain the path to the value being parsed.
func (p *parser) push(name string) { p.path = append(p.path, seg{name, -1}) }
func (p *parser) pop()             { p.path = p.path[:len(p.path)-1] }

// displayName returns key for use in a path if it has the shape of an
// element name; other keys are not shown, as they may hold data.
func displayName(key string) (string, bool) {
	if len(key) == 0 || len(key) > 64 {
		return "", false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return "", false
		}
	}
	return key, true
}
