package fhir

// appendNode appends n as compact JSON.
func appendNode(b []byte, n *node) []byte {
	switch n.kind {
	case kNull:
		return append(b, "null"...)
	case kString:
		if n.flags&nEscaped != 0 {
			b = append(b, '"')
			b = append(b, n.str...)
			return append(b, '"')
		}
		return appendString(b, n.str)
	case kNumber, kBool:
		return append(b, n.str...)
	case kObject:
		b = append(b, '{')
		for i := range n.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, n.kids[i].name)
			b = append(b, ':')
			b = appendNode(b, &n.kids[i].node)
		}
		return append(b, '}')
	default: // kArray
		b = append(b, '[')
		for i := range n.kids {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendNode(b, &n.kids[i].node)
		}
		return append(b, ']')
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping only what JSON
// requires; other characters, including non-ASCII, are written as UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strSafe[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
