package password

import (
	"slices"
	"strings"
	"unicode"
)

// unleet returns s with leetspeak substitutions undone (0→o, 1→i or l,
// 3→e, 4→a, 5→s, 7→t, @→a, $→s, !→i). '1' reads as 'i' or 'l', so a
// string containing it yields both readings.
func unleet(s string) []string {
	sub := func(one rune) func(rune) rune {
		return func(r rune) rune {
			switch r {
			case '0':
				return 'o'
			case '1':
				return one
			case '3':
				return 'e'
			case '4', '@':
				return 'a'
			case '5', '$':
				return 's'
			case '7':
				return 't'
			case '!':
				return 'i'
			}
			return r
		}
	}
	i := strings.Map(sub('i'), s)
	if !strings.ContainsRune(s, '1') {
		return []string{i}
	}
	return []string{i, strings.Map(sub('l'), s)}
}

// isLetter reports whether r counts as part of a word when stems are cut.
func isLetter(r rune) bool { return unicode.IsLetter(r) || unicode.IsMark(r) }

// stems returns s without its trailing run of non-letters ("qwerty123!"
// becomes "qwerty"), and without both its leading and trailing runs
// ("!!love99" becomes "love").
func stems(s string) (trail, both string) {
	trail = strings.TrimRightFunc(s, func(r rune) bool { return !isLetter(r) })
	both = strings.TrimLeftFunc(trail, func(r rune) bool { return !isLetter(r) })
	return trail, both
}

// variants returns the forms of the lower-cased password s that are looked
// up in a blocklist: s itself, its stems, and each of those with
// leetspeak undone ("p@ssw0rd1!" → stem "p@ssw0rd" → "password"). Digits
// and symbols are stripped before leetspeak is undone, since "1!" at the
// end is a suffix, not letters. Duplicates are removed.
func variants(s string) []string {
	trail, both := stems(s)
	out := []string{s, trail, both}
	for _, v := range []string{s, trail, both} {
		out = append(out, unleet(v)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reverse returns s with its runes in reverse order.
func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}
