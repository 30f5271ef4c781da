package fhir

import "unicode/utf8"

// Hand-written validators for the R4 primitive types. Each accepts only
// strings its published regex accepts (regex_gen_test.go checks this);
// some are stricter where the specification says more than the regex:
// calendar dates must exist, integers fit 32 bits, strings have no
// control characters other than tab, CR and LF and hold at most 1 MiB
// characters, base64 padding only at the end, and no empty strings.

// maxStringChars is the R4 limit on string (and markdown) length.
const maxStringChars = 1 << 20

// jsonKindOf is the JSON kind a primitive type is written as.
func jsonKindOf(t typeID) kind {
	switch t {
	case tBoolean:
		return kBool
	case tInteger, tDecimal, tPositiveInt, tUnsignedInt:
		return kNumber
	}
	return kString
}

// validPrimitive reports whether s is a valid value of primitive type t.
// For numeric types s is the JSON number literal, for strings the decoded
// text. escaped says the JSON string held escapes, so may contain control
// characters (the JSON grammar excludes them otherwise).
func validPrimitive(t typeID, s string, escaped bool) bool {
	if s == "" {
		return false
	}
	switch t {
	case tString, tMarkdown:
		if escaped && !noControl(s) {
			return false
		}
		return len(s) <= maxStringChars || utf8.RuneCountInString(s) <= maxStringChars
	case tXhtml:
		return validXhtml(s)
	case tCode:
		return validCode(s)
	case tId:
		return validID(s)
	case tUri, tUrl, tCanonical:
		return noSpace(s)
	case tOid:
		return validOID(s)
	case tUuid:
		return validUUID(s)
	case tBase64Binary:
		return validBase64(s)
	case tDate:
		return validDate(s)
	case tDateTime:
		return validDateTime(s)
	case tInstant:
		return validInstant(s)
	case tTime:
		return validTime(s)
	case tBoolean:
		return s == "true" || s == "false"
	case tDecimal:
		return validDecimal(s)
	case tInteger:
		return validInt(s, -1<<31, 1<<31-1)
	case tPositiveInt:
		return validInt(s, 1, 1<<31-1)
	case tUnsignedInt:
		return validInt(s, 0, 1<<31-1)
	}
	return false
}

// isSpace is the regex class \s (Java, ASCII): space, \t, \n, \v, \f, \r.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func noControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func noSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return false
		}
	}
	return true
}

// validCode: [^\s]+(\s[^\s]+)*
func validCode(s string) bool {
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return false
		}
	}
	return true
}

// ValidID reports whether s is a FHIR id: [A-Za-z0-9\-\.]{1,64}.
func ValidID(s string) bool { return s != "" && validID(s) }

// validID: [A-Za-z0-9\-\.]{0,64} (emptiness is checked by callers).
func validID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validOID: urn:oid:[0-2](\.(0|[1-9][0-9]*))+
func validOID(s string) bool {
	const prefix = "urn:oid:"
	if len(s) < len(prefix)+3 || s[:len(prefix)] != prefix {
		return false
	}
	s = s[len(prefix):]
	if s[0] < '0' || s[0] > '2' {
		return false
	}
	s = s[1:]
	if s == "" {
		return false
	}
	for s != "" {
		if s[0] != '.' || len(s) < 2 {
			return false
		}
		s = s[1:]
		n := digits(s)
		if n == 0 || n > 1 && s[0] == '0' {
			return false
		}
		s = s[n:]
	}
	return true
}

// validUUID: urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
func validUUID(s string) bool {
	const prefix = "urn:uuid:"
	if len(s) != len(prefix)+36 || s[:len(prefix)] != prefix {
		return false
	}
	s = s[len(prefix):]
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// validBase64: (\s*([0-9a-zA-Z\+/=]){4}\s*)+ (whitespace only between
// groups of four), and padding only at the end.
func validBase64(s string) bool {
	n, pad := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isSpace(c):
			if n%4 != 0 {
				return false
			}
			continue
		case c == '=':
			pad++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/':
			if pad > 0 {
				return false
			}
		default:
			return false
		}
		n++
	}
	return n > 0 && n%4 == 0 && pad <= 2
}

// validXhtml checks the outline of Narrative.div: a div element. The
// XHTML content rules (txt-1, txt-2) are not checked.
func validXhtml(s string) bool {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	s = s[i:j]
	return len(s) >= 6 && s[:4] == "<div" && (s[4] == '>' || isSpace(s[4]) || s[4] == '/') && s[len(s)-1] == '>'
}

// digits returns the number of leading ASCII digits of s.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// validDecimal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, which is
// also the JSON number grammar.
func validDecimal(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	n := digits(s)
	if n == 0 || n > 1 && s[0] == '0' {
		return false
	}
	s = s[n:]
	if s != "" && s[0] == '.' {
		n = digits(s[1:])
		if n == 0 {
			return false
		}
		s = s[1+n:]
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s != "" && (s[0] == '+' || s[0] == '-') {
			s = s[1:]
		}
		n = digits(s)
		if n == 0 {
			return false
		}
		s = s[n:]
	}
	return s == ""
}

// validInt checks an integer literal -?(0|[1-9][0-9]*) within [lo, hi].
func validInt(s string, lo, hi int64) bool {
	neg := s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	if n := digits(d); n == 0 || n != len(d) || n > 10 || n > 1 && d[0] == '0' {
		return false
	}
	var v int64
	for i := 0; i < len(d); i++ {
		v = v*10 + int64(d[i]-'0')
	}
	if neg {
		if lo >= 0 {
			return false // positiveInt and unsignedInt have no sign
		}
		v = -v
	}
	return v >= lo && v <= hi
}

// num2 parses two ASCII digits.
func num2(s string) (int, bool) {
	if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// year parses a four-digit year other than 0000.
func year(s string) (int, bool) {
	if digits(s) < 4 {
		return 0, false
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	return y, y != 0
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// datePart parses YYYY, YYYY-MM or YYYY-MM-DD at the start of s and
// returns how many bytes it used and how many components it read.
func datePart(s string) (n, parts int) {
	y, ok := year(s)
	if !ok {
		return 0, 0
	}
	if len(s) == 4 || s[4] != '-' {
		return 4, 1
	}
	m, ok := num2(s[5:])
	if !ok || m < 1 || m > 12 {
		return 0, 0
	}
	if len(s) == 7 || s[7] != '-' {
		return 7, 2
	}
	d, ok := num2(s[8:])
	if !ok || d < 1 || d > daysIn(y, m) {
		return 0, 0
	}
	return 10, 3
}

// timePart parses hh:mm:ss(.f+)? at the start of s.
func timePart(s string) int {
	h, ok := num2(s)
	if !ok || h > 23 || len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0
	}
	if m, ok := num2(s[3:]); !ok || m > 59 {
		return 0
	}
	if sec, ok := num2(s[6:]); !ok || sec > 60 {
		return 0
	}
	if len(s) > 8 && s[8] == '.' {
		f := digits(s[9:])
		if f == 0 {
			return 0
		}
		return 9 + f
	}
	return 8
}

// validZone: Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)
func validZone(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || s[0] != '+' && s[0] != '-' || s[3] != ':' {
		return false
	}
	h, ok1 := num2(s[1:])
	m, ok2 := num2(s[4:])
	return ok1 && ok2 && (h <= 13 && m <= 59 || h == 14 && m == 0)
}

func validDate(s string) bool {
	n, _ := datePart(s)
	return n > 0 && n == len(s)
}

func validDateTime(s string) bool {
	n, parts := datePart(s)
	if n == 0 {
		return false
	}
	if n == len(s) {
		return true
	}
	if parts != 3 || s[n] != 'T' {
		return false
	}
	s = s[n+1:]
	t := timePart(s)
	return t > 0 && validZone(s[t:])
}

func validInstant(s string) bool {
	n, parts := datePart(s)
	if parts != 3 || len(s) <= n || s[n] != 'T' {
		return false
	}
	s = s[n+1:]
	t := timePart(s)
	return t > 0 && validZone(s[t:])
}

func validTime(s string) bool {
	t := timePart(s)
	return t > 0 && t == len(s)
}
