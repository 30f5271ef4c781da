package password

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
	"github.com/ccojocar/zxcvbn-go/match"
	"github.com/ccojocar/zxcvbn-go/matching"
)

// maxLeetEstimateRunes bounds the passwords the estimator's leetspeak
// matcher sees: its cost grows exponentially with the number of distinct
// look-alike symbols and with the square of the length (4 s for a crafted
// 128-character input, 5 ms at 24). Longer passwords are estimated without
// it; the blocklist still undoes leetspeak for them.
const maxLeetEstimateRunes = 24

// Checker enforces one Policy with one Blocklist. It is immutable and safe
// for concurrent use.
type Checker struct {
	policy Policy
	list   *Blocklist
}

// NewChecker returns a Checker for p, refusing a policy that fails
// Validate or a nil list (the blocklist is never optional).
func NewChecker(p Policy, list *Blocklist) (*Checker, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if list == nil {
		return nil, fmt.Errorf("%w: no blocklist", ErrPolicy)
	}
	return &Checker{policy: p, list: list}, nil
}

// Policy returns the policy c enforces.
func (c *Checker) Policy() Policy { return c.policy }

// Check reports whether pw is acceptable as a new password for who. It
// returns nil, or an error wrapping a *Violation that lists every failed
// rule, or another error when a previous hash cannot be read.
//
// All rules run on the NFKC form of pw. Invalid input (over MaxBytes, not
// UTF-8, control characters) and input over MaxLen are refused at once,
// before any other work.
//
// previous holds the person's earlier password hashes, newest first; the
// first Policy.History of them are compared with Verify. That costs one
// argon2id hash per entry (about 70 ms each with DefaultParams, so about
// 0.9 s for 12), and so it runs only when every other rule passed: a
// Violation that lists other rules may leave out RuleReused.
func (c *Checker) Check(pw string, who Person, previous []string) error {
	p := c.policy
	v := &Violation{}
	n, err := normalize(pw)
	if err != nil {
		if errors.Is(err, ErrTooLong) {
			v.add(RuleTooLong, fmt.Sprintf("use at most %d characters", p.MaxLen))
		} else {
			v.add(RuleInvalid, "use only printable characters (no control or invisible characters)")
		}
		return c.rejected(v)
	}

	runes := utf8.RuneCountInString(n)
	if runes > p.MaxLen {
		// Decisive, and it spares the estimator (quadratic in length) up to
		// MaxBytes of input.
		v.add(RuleTooLong, fmt.Sprintf("use at most %d characters", p.MaxLen))
		return c.rejected(v)
	}
	if least := p.minLen(who); runes < least {
		v.add(RuleTooShort, fmt.Sprintf("use at least %d characters", least))
	}
	upper, digit, special := composition(n)
	if p.RequireUpper && !upper {
		v.add(RuleUpper, "include an upper-case letter")
	}
	if p.RequireDigit && !digit {
		v.add(RuleDigit, "include a digit")
	}
	if p.RequireSpecial && !special {
		v.add(RuleSpecial, "include a symbol (a character that is neither a letter nor a digit)")
	}

	lower := strings.ToLower(n)
	if c.list.matchCommon(lower) {
		v.add(RuleCommon, "this password, or a small variation of it, is too common")
	}
	sources := who.sources()
	if containsPersonal(lower, personalTokens(sources)) {
		v.add(RulePersonal, "do not use your name, username or e-mail address, even reversed or with letters swapped for digits")
	}
	if trail, _ := stems(n); repetitive(n) || repetitive(trail) {
		v.add(RuleRepetitive, "do not repeat a short pattern")
	}
	if p.MinScore > 0 && score(n, runes, sources) < p.MinScore {
		v.add(RuleWeak, "this password is too easy to guess; a few unrelated words make a stronger one")
	}
	if len(v.Failures) > 0 {
		return c.rejected(v)
	}

	for i, h := range previous[:min(len(previous), p.History)] {
		ok, _, err := Verify(pw, h)
		if err != nil {
			return fmt.Errorf("check history entry %d: %w", i, err)
		}
		if ok {
			v.add(RuleReused, fmt.Sprintf("do not reuse any of your last %d passwords", p.History))
			return c.rejected(v)
		}
	}
	return nil
}

func (c *Checker) rejected(v *Violation) error {
	return fmt.Errorf("%s policy: %w", c.policy.Preset, v)
}

// score returns the zxcvbn strength estimate (0..4) of the normalised
// password n of the given length, with the person's details as
// dictionary words.
func score(n string, runes int, sources []string) int {
	var filters []func(match.Matcher) bool
	if runes > maxLeetEstimateRunes {
		filters = append(filters, matching.FilterL33tMatcher)
	}
	return zxcvbn.PasswordStrength(n, sources, filters...).Score
}

// composition reports whether s has an upper-case letter, a digit, and a
// symbol: a character that is not a letter, digit or combining mark
// (spaces count as symbols).
func composition(s string) (upper, digit, special bool) {
	for _, r := range s {
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r) && !unicode.IsMark(r):
			special = true
		}
	}
	return upper, digit, special
}

// repetitive reports whether s is one short unit repeated, possibly with a
// partial unit at the end ("aZ9!aZ9!", "abcabcab", "ééééé"). The strength
// estimator misses such patterns for units longer than one character and
// for non-ASCII text.
func repetitive(s string) bool {
	r := []rune(s)
	for period := 1; 2*period <= len(r); period++ {
		i := period
		for i < len(r) && r[i] == r[i-period] {
			i++
		}
		if i == len(r) {
			return true
		}
	}
	return false
}
