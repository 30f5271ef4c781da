package access

import (
	"bytes"
	"encoding/json"
	"errors"
)

// The JSON scanning under Masks.Apply. A body is checked once by
// jsonValidate; the scanner then walks it by byte offsets, so values that no
// mask reaches are copied, never decoded, and member order is kept.

// jsonValidate reports whether b is exactly one JSON value, as json.Valid
// does (RFC 8259 grammar, nesting up to 10000, UTF-8 not checked), at
// several times its speed: most of a body is long strings.
func jsonValidate(b []byte) bool {
	i, ok := jsonValidValue(b, jsonSkipSpace(b, 0), 0)
	return ok && jsonSkipSpace(b, i) == len(b)
}

// jsonMaxDepth is encoding/json's nesting limit.
const jsonMaxDepth = 10000

// jsonValidValue checks the value at b[i] and returns the index after it.
func jsonValidValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return jsonValidString(b, i)
	case c == '{':
		if depth++; depth > jsonMaxDepth {
			return i, false
		}
		i = jsonSkipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			var ok bool
			if i, ok = jsonValidString(b, i); !ok {
				return i, false
			}
			if i = jsonSkipSpace(b, i); i >= len(b) || b[i] != ':' {
				return i, false
			}
			if i, ok = jsonValidValue(b, jsonSkipSpace(b, i+1), depth); !ok {
				return i, false
			}
			if i = jsonSkipSpace(b, i); i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '}':
				return i + 1, true
			case ',':
				i = jsonSkipSpace(b, i+1)
			default:
				return i, false
			}
		}
	case c == '[':
		if depth++; depth > jsonMaxDepth {
			return i, false
		}
		i = jsonSkipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = jsonValidValue(b, i, depth); !ok {
				return i, false
			}
			if i = jsonSkipSpace(b, i); i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ']':
				return i + 1, true
			case ',':
				i = jsonSkipSpace(b, i+1)
			default:
				return i, false
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return jsonValidNumber(b, i)
	case c == 't':
		return i + 4, bytes.HasPrefix(b[i:], []byte("true"))
	case c == 'f':
		return i + 5, bytes.HasPrefix(b[i:], []byte("false"))
	case c == 'n':
		return i + 4, bytes.HasPrefix(b[i:], []byte("null"))
	}
	return i, false
}

// jsonValidString checks the string that starts at b[i].
func jsonValidString(b []byte, i int) (int, bool) {
	for i++; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !jsonIsHex(b[i+2]) || !jsonIsHex(b[i+3]) || !jsonIsHex(b[i+4]) || !jsonIsHex(b[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		default:
			i++
		}
	}
	return i, false
}

func jsonIsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// jsonValidNumber checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func jsonValidNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = jsonDigits(b, i)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := jsonDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := jsonDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func jsonDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// jsonMember is one name/value pair of a JSON object, as slices of the body.
type jsonMember struct {
	key  []byte // the name, unescaped
	raw  []byte // the name as written, quoted
	val  []byte // the value as written, or its masked replacement
	drop bool
}

// set replaces the value with v unless v is nil (unchanged), dropping the
// member when v is empty ({} or []): FHIR allows no empty elements. It
// reports whether anything changed.
func (mb *jsonMember) set(v []byte) bool {
	if v == nil {
		return false
	}
	if string(v) == "{}" || string(v) == "[]" {
		mb.drop = true
	} else {
		mb.val = v
	}
	return true
}

// jsonMembers appends the members of a JSON object, already checked by
// jsonValidate, to ms.
func jsonMembers(obj []byte, ms []jsonMember) ([]jsonMember, error) {
	i := jsonSkipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		end := jsonSkipString(obj, i)
		raw := obj[i:end]
		key := raw[1 : len(raw)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, errors.New("mask: malformed JSON")
			}
			key = []byte(s)
		}
		i = jsonSkipSpace(obj, jsonSkipSpace(obj, end)+1) // past ':'
		vend := jsonSkipValue(obj, i)
		ms = append(ms, jsonMember{key: key, raw: raw, val: obj[i:vend]})
		i = jsonSkipSpace(obj, vend)
		if i < len(obj) && obj[i] == ',' {
			i = jsonSkipSpace(obj, i+1)
		}
	}
	return ms, nil
}

// jsonMapArray rewrites a JSON array's object elements with f, which returns
// nil for an unchanged element and {} for one left empty (then dropped).
// It returns nil when nothing changed.
func jsonMapArray(arr []byte, f func([]byte) ([]byte, error)) ([]byte, error) {
	if jsonFirst(arr) != '[' {
		return nil, nil
	}
	var es [][]byte
	changed := false
	i := jsonSkipSpace(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		end := jsonSkipValue(arr, i)
		e := arr[i:end]
		if e[0] == '{' {
			v, err := f(e)
			if err != nil {
				return nil, err
			}
			if v != nil {
				changed, e = true, v
			}
		}
		if string(e) != "{}" {
			es = append(es, e)
		}
		i = jsonSkipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = jsonSkipSpace(arr, i+1)
		}
	}
	if !changed {
		return nil, nil
	}
	return append(append([]byte{'['}, bytes.Join(es, []byte{','})...), ']'), nil
}

func jsonWriteObject(dst []byte, ms []jsonMember) []byte {
	dst = append(dst, '{')
	first := true
	for _, mb := range ms {
		if mb.drop {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(append(append(dst, mb.raw...), ':'), mb.val...)
	}
	return append(dst, '}')
}

func jsonFirst(v []byte) byte {
	if i := jsonSkipSpace(v, 0); i < len(v) {
		return v[i]
	}
	return 0
}

func jsonSkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonSkipString returns the index after the string that starts at b[i].
func jsonSkipString(b []byte, i int) int {
	for i++; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		k := i - 1
		for b[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1
		}
		i++
	}
}

// jsonSkipValue returns the index after the JSON value that starts at b[i].
func jsonSkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return jsonSkipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = jsonSkipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}
