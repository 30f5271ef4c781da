package password

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Person is what is known about the account holder when a password is
// checked. None of it appears in errors.
type Person struct {
	Username string
	Email    string
	Names    []string // given, family and other names; may hold several words each
	HasMFA   bool     // the account has a second factor (lowers the NIST minimum length)
}

// minPersonalRunes is the shortest piece of personal information looked
// for in a password; shorter pieces ("Li", "Al") would reject too much.
const minPersonalRunes = 3

// sources returns the normalised, lower-cased pieces of personal
// information: the username, the e-mail address and its local part, every
// name, and the words that '.', '_', '-', '+', spaces and similar separate
// in the username, the local part and the names ("john.smith" gives "john"
// and "smith"). The e-mail domain is not split: its words ("org",
// "example") are not personal.
func (who Person) sources() []string {
	var out []string
	add := func(s string, split bool) {
		n, err := normalize(s)
		if err != nil {
			return
		}
		n = strings.ToLower(n)
		out = append(out, n)
		if split {
			out = append(out, strings.FieldsFunc(n, func(r rune) bool {
				return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
			})...)
		}
	}
	add(who.Username, true)
	add(who.Email, false)
	if local, _, ok := strings.Cut(who.Email, "@"); ok {
		add(local, true)
	}
	for _, n := range who.Names {
		add(n, true)
	}
	out = slices.DeleteFunc(out, func(s string) bool { return utf8.RuneCountInString(s) < minPersonalRunes })
	slices.Sort(out)
	return slices.Compact(out)
}

// personalTokens returns the strings a password must not contain: each
// source, its stems without digits and symbols ("jsmith42" → "jsmith"),
// and its leetspeak reading ("j0hn" → "john"), each at least 3 characters.
func personalTokens(sources []string) []string {
	var out []string
	for _, s := range sources {
		trail, both := stems(s)
		out = append(out, s, trail, both)
		out = append(out, unleet(s)...)
	}
	out = slices.DeleteFunc(out, func(s string) bool { return utf8.RuneCountInString(s) < minPersonalRunes })
	slices.Sort(out)
	return slices.Compact(out)
}

// containsPersonal reports whether the lower-cased password lower contains
// any token, as written, with leetspeak undone, or reversed. A digit or
// symbol suffix ("smith1985!") does not hide a token, since containment
// ignores what surrounds it.
func containsPersonal(lower string, tokens []string) bool {
	if len(tokens) == 0 {
		return false
	}
	forms := append([]string{lower}, unleet(lower)...)
	for _, f := range slices.Clone(forms) {
		forms = append(forms, reverse(f))
	}
	for _, f := range forms {
		for _, t := range tokens {
			if strings.Contains(f, t) {
				return true
			}
		}
	}
	return false
}
