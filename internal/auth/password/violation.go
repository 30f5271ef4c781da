package password

import (
	"errors"
	"strings"
)

// Rule names one password requirement. Its value is a stable code an API
// can return to clients.
type Rule string

// The rules a password can fail.
const (
	RuleInvalid    Rule = "invalid"    // not UTF-8, control characters, or over MaxBytes
	RuleTooShort   Rule = "too_short"  // fewer characters than the minimum
	RuleTooLong    Rule = "too_long"   // more characters than the maximum
	RuleUpper      Rule = "upper"      // no upper-case letter
	RuleDigit      Rule = "digit"      // no digit
	RuleSpecial    Rule = "special"    // no symbol
	RuleCommon     Rule = "common"     // on the common-password list, or a variant of an entry
	RulePersonal   Rule = "personal"   // contains the username, e-mail or a name
	RuleRepetitive Rule = "repetitive" // one short pattern repeated ("abcabcabc")
	RuleWeak       Rule = "weak"       // the strength estimate is below the minimum score
	RuleReused     Rule = "reused"     // equal to one of the previous passwords
)

// ErrRejected is matched by every *Violation (errors.Is(err, ErrRejected)).
var ErrRejected = errors.New("password rejected")

// Failure is one failed rule with a message fit to show the person. It
// never contains the password or the personal information checked.
type Failure struct {
	Rule    Rule
	Message string
}

// Violation lists every rule a password failed. Check returns it wrapped.
type Violation struct {
	Failures []Failure
}

// Error joins the user-facing messages.
func (v *Violation) Error() string {
	msgs := make([]string, len(v.Failures))
	for i, f := range v.Failures {
		msgs[i] = f.Message
	}
	return "password rejected: " + strings.Join(msgs, "; ")
}

// Is makes errors.Is(err, ErrRejected) true for a Violation.
func (v *Violation) Is(target error) bool { return target == ErrRejected }

// Rules returns the failed rules in the order they were checked.
func (v *Violation) Rules() []Rule {
	out := make([]Rule, len(v.Failures))
	for i, f := range v.Failures {
		out[i] = f.Rule
	}
	return out
}

// Has reports whether r is among the failed rules.
func (v *Violation) Has(r Rule) bool {
	for _, f := range v.Failures {
		if f.Rule == r {
			return true
		}
	}
	return false
}

func (v *Violation) add(r Rule, msg string) {
	v.Failures = append(v.Failures, Failure{Rule: r, Message: msg})
}
