package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize prepares text for string search (and token :text): it
// decomposes it (Unicode NFKD), drops combining marks and invisible
// format characters, folds case, maps the few Latin letters that do not
// decompose to their base letters (ø→o, ł→l, đ→d, ħ→h, ı→i, æ→ae,
// œ→oe, ß→ss, þ→th), and collapses runs of white space to one space,
// trimming both ends; invalid UTF-8 is dropped. "  Zoë  ÅSTRÖM "
// becomes "zoe astrom". Queries
// are normalised the same way, so comparisons are case- and
// accent-insensitive, as R4 string search requires.
func Normalize(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return normalizeUnicode(s)
		}
	}
	return normalizeASCII(s)
}

// normalizeASCII lower-cases and collapses white space; it returns s
// itself when nothing changes.
func normalizeASCII(s string) string {
	clean := true
	prevSpace := true // trims leading space
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			clean = false
		case isASCIISpace(c):
			if c != ' ' || prevSpace || i == len(s)-1 {
				clean = false
			}
			prevSpace = true
			continue
		}
		prevSpace = false
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isASCIISpace(c) {
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func normalizeUnicode(s string) string {
	// Invalid UTF-8 (possible in a query string) is dropped first: NFKD
	// would pass it through and leave the rune after it undecomposed.
	d := norm.NFKD.String(strings.ToValidUTF8(s, ""))
	var b strings.Builder
	b.Grow(len(d))
	space := false
	for _, r := range d {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		r = unicode.ToLower(r)
		if m := foldExtra(r); m != "" {
			b.WriteString(m)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// foldExtra maps lower-case letters that NFKD leaves whole, or that full
// case folding expands, to their ASCII base letters.
func foldExtra(r rune) string {
	switch r {
	case 'ø':
		return "o"
	case 'ł':
		return "l"
	case 'đ':
		return "d"
	case 'ħ':
		return "h"
	case 'ı':
		return "i"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'ß', 'ẞ':
		return "ss"
	case 'þ':
		return "th"
	case 'ς':
		return "σ"
	}
	return ""
}
