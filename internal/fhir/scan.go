package fhir

import (
	"strconv"
	"unicode/utf8"
)

// JSON scanning: the lexical layer of the parser. Syntax errors are fatal.

// peek returns the byte at p.pos, or 0 at the end of the input.
func (p *parser) peek() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// skipWS skips JSON whitespace.
func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// enter counts one more level of nesting; past maxDepth it stops the
// parse. Callers decrement p.depth when they leave the level.
func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		p.fatal(codeTooCostly, "nesting deeper than "+strconv.Itoa(maxDepth))
		return false
	}
	return true
}

// strSafe marks bytes that need no attention inside a JSON string (a
// read-only table, built once).
var strSafe = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

// str reads the JSON string at p.pos (a '"'). Without escapes s is its
// text; with escapes (escaped true) s is the raw text between the quotes,
// checked but not decoded: unescape decodes it when the value is needed.
func (p *parser) str() (s string, escaped, ok bool) {
	data := p.data
	i := p.pos + 1
	for i < len(data) && strSafe[data[i]] {
		i++
	}
	if i < len(data) && data[i] == '"' {
		s = p.src[p.pos+1 : i]
		p.pos = i + 1
		return s, false, true
	}
	if i < len(data) && data[i] == '\\' {
		end, ok := p.scanEscaped(i)
		if !ok {
			return "", true, false
		}
		s = p.src[p.pos+1 : end]
		p.pos = end + 1
		return s, true, true
	}
	p.pos = i
	if i >= len(data) {
		p.syntax("unterminated string")
	} else {
		p.syntax("control character in string")
	}
	return "", false, false
}

// scanEscaped checks the rest of a string holding escapes, from its first
// backslash at i, and returns the position of the closing quote.
func (p *parser) scanEscaped(i int) (int, bool) {
	data := p.data
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i, true
		case c == '\\':
			if i+1 >= len(data) {
				break
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
				continue
			case 'u':
				r, ok := hex4(data[i+2:])
				if !ok {
					p.pos = i
					p.syntax("invalid unicode escape")
					return 0, false
				}
				i += 6
				if r >= 0xD800 && r < 0xDC00 {
					var lo rune
					if len(data) >= i+2 && data[i] == '\\' && data[i+1] == 'u' {
						lo, ok = hex4(data[i+2:])
					} else {
						ok = false
					}
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						p.pos = i
						p.syntax("unpaired surrogate in unicode escape")
						return 0, false
					}
					i += 6
				} else if r >= 0xDC00 && r <= 0xDFFF {
					p.pos = i
					p.syntax("unpaired surrogate in unicode escape")
					return 0, false
				}
				continue
			default:
				p.pos = i
				p.syntax("invalid escape in string")
				return 0, false
			}
		case c < 0x20:
			p.pos = i
			p.syntax("control character in string")
			return 0, false
		default:
			i++
			for i < len(data) && strSafe[data[i]] {
				i++
			}
			continue
		}
		break
	}
	p.pos = i
	p.syntax("unterminated string")
	return 0, false
}

// unescape decodes the raw text of a JSON string that scanEscaped
// accepted.
func unescape(raw string) string {
	buf := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			buf = append(buf, raw[i:j]...)
			i = j
			continue
		}
		switch e := raw[i+1]; e {
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, _ := hex4([]byte(raw[i+2 : i+6]))
			i += 6
			if r >= 0xD800 && r < 0xDC00 {
				lo, _ := hex4([]byte(raw[i+2 : i+6]))
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default: // '"', '\\', '/'
			buf = append(buf, e)
		}
		i += 2
	}
	return string(buf)
}

// escapedTextOK reports whether the decoded form of raw (string or
// markdown) is free of control characters other than tab, CR and LF,
// without decoding it.
func escapedTextOK(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		switch raw[i+1] {
		case 'b', 'f':
			return false
		case 'u':
			r, _ := hex4([]byte(raw[i+2 : i+6]))
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				return false
			}
			i += 5
		default:
			i++
		}
	}
	return true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a JSON number and returns its literal text.
func (p *parser) number() (string, bool) {
	data := p.data
	start, i := p.pos, p.pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		p.syntax("invalid number")
		return "", false
	}
	if i < len(data) && data[i] == '.' {
		i++
		j := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == j {
			p.pos = i
			p.syntax("invalid number")
			return "", false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if i == j {
			p.pos = i
			p.syntax("invalid number")
			return "", false
		}
	}
	p.pos = i
	return p.src[start:i], true
}

// literal consumes the keyword lit (true, false or null).
func (p *parser) literal(lit string) bool {
	if len(p.data)-p.pos >= len(lit) && p.src[p.pos:p.pos+len(lit)] == lit {
		p.pos += len(lit)
		return true
	}
	p.syntax("invalid literal")
	return false
}

// next consumes a ',' (more follows: true) or the closing byte (false).
func (p *parser) next(closing byte) (more, ok bool) {
	p.skipWS()
	switch p.peek() {
	case ',':
		p.pos++
		p.skipWS()
		return true, true
	case closing:
		p.pos++
		return false, true
	}
	p.syntax("expected ',' or '" + string(closing) + "'")
	return false, false
}

// key reads an object key and the ':' after it.
func (p *parser) key() (string, bool) {
	if p.peek() != '"' {
		p.syntax("expected an object key")
		return "", false
	}
	k, escaped, ok := p.str()
	if !ok {
		return "", false
	}
	if escaped {
		k = unescape(k)
	}
	p.skipWS()
	if p.peek() != ':' {
		p.syntax("expected ':'")
		return "", false
	}
	p.pos++
	p.skipWS()
	return k, true
}

// skip consumes any JSON value, checking its syntax and depth only. It is
// used for values that are already reported as invalid.
func (p *parser) skip() {
	if p.stop {
		return
	}
	switch c := p.peek(); {
	case c == '{' || c == '[':
		if !p.enter() {
			return
		}
		p.pos++
		p.skipWS()
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		if p.peek() == closing {
			p.pos++
			p.depth--
			return
		}
		for {
			if c == '{' {
				if _, ok := p.key(); !ok {
					return
				}
			}
			p.skip()
			if p.stop {
				return
			}
			more, ok := p.next(closing)
			if !ok {
				return
			}
			if !more {
				break
			}
		}
		p.depth--
	case c == '"':
		p.str()
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		p.number()
	default:
		if p.pos >= len(p.data) {
			p.syntax("unexpected end of input")
		} else {
			p.syntax("unexpected character")
		}
	}
}
