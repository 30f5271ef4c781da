package password

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// john is the person most cases check passwords for.
var john = Person{Username: "jsmith", Email: "john.smith@example.org", Names: []string{"John", "Smith"}}

// mustChecker returns a Checker for the named preset with the embedded list.
func mustChecker(t testing.TB, preset string) *Checker {
	t.Helper()
	p, err := Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChecker(p, mustList(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// strong returns a deterministic, non-repeating password of n characters
// with an upper-case letter, a digit and a symbol, that contains none of
// john's details.
func strong(n int) string {
	var b strings.Builder
	b.WriteString("Vq7#")
	seed := []byte("ward")
	for b.Len() < n {
		sum := sha512.Sum512(seed)
		seed = sum[:]
		b.WriteString(base64.RawStdEncoding.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

// violation returns the *Violation err wraps, or nil.
func violation(t *testing.T, err error) *Violation {
	t.Helper()
	var v *Violation
	if errors.As(err, &v) {
		if !errors.Is(err, ErrRejected) {
			t.Fatal("a Violation does not match ErrRejected")
		}
		return v
	}
	if err != nil {
		t.Fatalf("Check returned a non-Violation error: %v", err)
	}
	return nil
}

// assertNoEcho fails if msg contains the password or personal details.
func assertNoEcho(t *testing.T, msg, pw string, who Person) {
	t.Helper()
	for _, s := range append([]string{pw, who.Username, who.Email}, who.Names...) {
		if len(s) >= 3 && strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
			t.Fatalf("error %q echoes input %q", msg, s)
		}
	}
}

func TestCheck(t *testing.T) {
	withMFA := john
	withMFA.HasMFA = true
	li := Person{Username: "wli", Email: "w.li@example.org", Names: []string{"Wei", "Li"}}
	tests := []struct {
		name   string
		preset string
		pw     string
		who    Person
		want   []Rule
	}{
		// Length, counted in characters after NFKC.
		{"hipaa 8 characters", HIPAA, "Vq7#mK2z", john, nil},
		{"hipaa 7 characters", HIPAA, "Vq7#mK2", john, []Rule{RuleTooShort}},
		{"hipaa 128 characters", HIPAA, strong(128), john, nil},
		{"hipaa 129 characters", HIPAA, strong(129), john, []Rule{RuleTooLong}},
		{"hipaa 8 two-byte characters", HIPAA, "Ωq7#mK2ž", john, nil},
		{"hipaa 512 ASCII characters", HIPAA, strong(MaxBytes), john, []Rule{RuleTooLong}},
		{"hipaa 10 MB", HIPAA, strings.Repeat("Vq7#mK2z", 10<<20/8), john, []Rule{RuleTooLong}},
		{"nist 15 characters without MFA", NIST, "vq7mk2zquartzbl", john, nil},
		{"nist 14 characters without MFA", NIST, "vq7mk2zquartzb", john, []Rule{RuleTooShort}},
		{"nist 8 characters with MFA", NIST, "Vq7#mK2z", withMFA, nil},
		{"nist 8 characters without MFA", NIST, "Vq7#mK2z", john, []Rule{RuleTooShort}},
		{"nist 7 characters with MFA", NIST, "Vq7#mK2", withMFA, []Rule{RuleTooShort}},
		{"nist 129 characters", NIST, strong(129), john, []Rule{RuleTooLong}},

		// Composition: HIPAA only.
		{"hipaa no upper", HIPAA, "marigold!canyon7q", john, []Rule{RuleUpper}},
		{"hipaa no digit", HIPAA, "Marigold!Canyonq", john, []Rule{RuleDigit}},
		{"hipaa no symbol", HIPAA, "Marigold7Canyonq", john, []Rule{RuleSpecial}},
		{"hipaa space is a symbol", HIPAA, "Marigold Canyon7", john, nil},
		{"hipaa non-ASCII upper", HIPAA, "ÉLAN!canyon7mq", john, nil},
		{"nist no composition", NIST, "amber kettle violin", john, nil},

		// Invalid input.
		{"invalid UTF-8", HIPAA, "Vq7#mK2z\xff", john, []Rule{RuleInvalid}},
		{"NUL", HIPAA, "Vq7#\x00mK2z", john, []Rule{RuleInvalid}},
		{"newline", NIST, "amber kettle\nviolin", john, []Rule{RuleInvalid}},
		{"zero-width space", HIPAA, "Pass\u200bw0rd!x", john, []Rule{RuleInvalid}},
		{"DEL", HIPAA, "Vq7#mK2z\x7f", john, []Rule{RuleInvalid}},

		// Common passwords and their variants.
		{"Password1!", HIPAA, "Password1!", john, []Rule{RuleCommon, RuleWeak}},
		{"qwerty123!", HIPAA, "qwerty123!", john, []Rule{RuleUpper, RuleCommon, RuleWeak}},
		{"Qwerty123!", HIPAA, "Qwerty123!", john, []Rule{RuleCommon, RuleWeak}},
		{"P@ssw0rd1!", HIPAA, "P@ssw0rd1!", john, []Rule{RuleCommon, RuleWeak}},
		{"fullwidth Password1!", HIPAA, "Ｐａｓｓｗｏｒｄ１！", john, []Rule{RuleCommon, RuleWeak}},
		{"leading symbols", HIPAA, "#1Sunshine", john, []Rule{RuleCommon, RuleWeak}},
		{"nist common passphrase", NIST, "iloveyou12345678", john, []Rule{RuleCommon, RuleWeak}},
		{"nist leet common", NIST, "p@ssw0rd12345678", john, []Rule{RuleCommon, RuleWeak}},

		// Personal information.
		{"surname", HIPAA, "Smith!Quartz9Vq", john, []Rule{RulePersonal}},
		{"surname reversed", HIPAA, "htimS!Quartz9", john, []Rule{RulePersonal}},
		{"surname leet", HIPAA, "Sm17h!Quartz9Vq", john, []Rule{RulePersonal}},
		{"username with digit suffix", HIPAA, "Quartz!Jsmith1985Vq", john, []Rule{RulePersonal}},
		{"username leet", HIPAA, "Quartz!j5m17hVq8#x", john, []Rule{RulePersonal}},
		{"e-mail local part reversed", HIPAA, "Quartz9!htims.nhoj", john, []Rule{RulePersonal}},
		{"given name reversed", HIPAA, "Nhoj#Vq7mK2z", john, []Rule{RulePersonal}},
		{"e-mail domain is not personal", HIPAA, "Quartz9!exampleVq", john, nil},
		{"name under 3 characters ignored", HIPAA, "Lily#Vq7mK2z", li, nil},
		{"3-character name", HIPAA, "Vq7#mK2zWei", li, []Rule{RulePersonal}},
		{"nist personal", NIST, "amber kettle john violin", john, []Rule{RulePersonal}},

		// Patterns the estimator misses.
		{"repeated unit", HIPAA, "aZ9!aZ9!aZ9!", john, []Rule{RuleRepetitive}},
		{"repeated unit with suffix", HIPAA, "P@ssw0rdP@ssw0rdP@ssw0rd1", john, []Rule{RuleRepetitive}},
		{"repeated non-ASCII", NIST, strings.Repeat("é", 20), john, []Rule{RuleRepetitive}},
		{"weak", HIPAA, "Abcd1234!xyz", john, []Rule{RuleWeak}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustChecker(t, tt.preset)
			start := time.Now()
			err := c.Check(tt.pw, tt.who, nil)
			elapsed := time.Since(start)
			v := violation(t, err)
			var got []Rule
			if v != nil {
				got = v.Rules()
				assertNoEcho(t, err.Error(), tt.pw, tt.who)
				if !strings.HasPrefix(err.Error(), tt.preset+" policy: ") {
					t.Errorf("error %q does not name the policy", err)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Check = %v, want rules %v", got, tt.want)
			}
			if len(tt.pw) > 2*MaxRunes && elapsed > 50*time.Millisecond {
				t.Errorf("refusing %d bytes took %v", len(tt.pw), elapsed)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	c := mustChecker(t, HIPAA)
	v := violation(t, c.Check("abc", john, nil))
	if v == nil {
		t.Fatal("a 3-character password was accepted")
	}
	for _, f := range v.Failures {
		if f.Message == "" {
			t.Errorf("rule %s has no message", f.Rule)
		}
	}
	if !v.Has(RuleTooShort) || v.Has(RuleTooLong) {
		t.Fatalf("Has: rules %v", v.Rules())
	}
	if !strings.Contains(v.Error(), "at least 8 characters") {
		t.Fatalf("message %q does not state the minimum", v.Error())
	}
}

func TestCheckHistory(t *testing.T) {
	c := mustChecker(t, HIPAA)
	pw := "Marigold!Canyon7"
	others := make([]string, 13)
	for i := range others {
		others[i] = mustHash(t, fmt.Sprintf("Old#Password%02d", i))
	}
	// history returns 13 previous hashes, newest first, with pw at index at.
	history := func(at int) []string {
		h := slices.Clone(others)
		if at >= 0 {
			h[at] = mustHash(t, pw)
		}
		return h
	}
	tests := []struct {
		name string
		prev []string
		want []Rule
	}{
		{"no history", nil, nil},
		{"not in history", history(-1), nil},
		{"newest", history(0), []Rule{RuleReused}},
		{"12th newest", history(11), []Rule{RuleReused}},
		{"13th newest is forgotten", history(12), nil},
		{"NFKC form in history", []string{mustHash(t, "Ｍａｒｉｇｏｌｄ！Ｃａｎｙｏｎ７")}, []Rule{RuleReused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := violation(t, c.Check(pw, john, tt.prev))
			var got []Rule
			if v != nil {
				got = v.Rules()
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Check = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("malformed entry fails closed", func(t *testing.T) {
		err := c.Check(pw, john, []string{others[0], "$argon2id$v=19$m=1073741824,t=16,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"})
		var v *Violation
		if !errors.Is(err, ErrMalformed) || errors.As(err, &v) {
			t.Fatalf("Check = %v, want an ErrMalformed error that is not a Violation", err)
		}
	})
	t.Run("history skipped when other rules fail", func(t *testing.T) {
		weak := "Password1!"
		v := violation(t, c.Check(weak, john, []string{mustHash(t, weak)}))
		if v == nil || v.Has(RuleReused) {
			t.Fatalf("Check = %v, want a violation without %s", v, RuleReused)
		}
	})
}

func TestCheckConcurrent(t *testing.T) {
	c := mustChecker(t, NIST)
	prev := []string{mustHash(t, "amber kettle violin")}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			if err := c.Check("amber kettle violin", john, prev); !errors.Is(err, ErrRejected) {
				errs[i] = fmt.Errorf("reused password: %v", err)
			}
			if err := c.Check(fmt.Sprintf("orbit lantern quartz %d", i), john, prev); err != nil {
				errs[i] = fmt.Errorf("fresh password: %v", err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// TestCheckBoundedCost feeds the estimator the input that once made it
// take seconds: 128 characters full of look-alike symbols.
func TestCheckBoundedCost(t *testing.T) {
	const leet, letters = "4@8({[<369!|$5+7%2l0", "abcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	for i := 0; b.Len() < MaxRunes; i++ {
		b.WriteByte(leet[i*7%len(leet)])
		b.WriteByte(letters[i*11%len(letters)])
	}
	c := mustChecker(t, HIPAA)
	for _, n := range []int{maxLeetEstimateRunes, maxLeetEstimateRunes + 1, MaxRunes} {
		pw := "Q" + b.String()[:n-1]
		start := time.Now()
		if err := c.Check(pw, john, nil); err != nil {
			t.Fatalf("%d characters: %v", n, err)
		}
		// About 25 ms at most without -race; the exponential case took 4 s.
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%d characters took %v", n, d)
		}
	}
}

func TestNewChecker(t *testing.T) {
	p, _ := Preset(HIPAA)
	if _, err := NewChecker(p, nil); !errors.Is(err, ErrPolicy) {
		t.Fatalf("NewChecker(nil list) = %v, want ErrPolicy", err)
	}
	p.MaxLen = MaxRunes + 1
	if _, err := NewChecker(p, NewBlocklist(nil)); !errors.Is(err, ErrPolicy) {
		t.Fatalf("NewChecker(MaxLen over) = %v, want ErrPolicy", err)
	}
}

func TestRepetitive(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"aaaaaaaa", true},
		{"abababab", true},
		{"abcabcab", true},
		{"aZ9!aZ9!", true},
		{"ééééé", true},
		{"abcabcax", false},
		{"abcdefgh", false},
		{"a", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			if got := repetitive(tt.s); got != tt.want {
				t.Fatalf("repetitive = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"Password1!", "Ｐａｓｓｗｏｒｄ１！", "Sm17h!Quartz9", "ab\xffcd", "é\u0301\u0301", strong(128)} {
		f.Add(s)
	}
	c := mustChecker(f, HIPAA)
	f.Fuzz(func(t *testing.T, in string) {
		pw := in + "\u00a7" // the marker is NFKC-stable and appears in no message
		err := c.Check(pw, john, nil)
		if err == nil {
			return
		}
		var v *Violation
		if !errors.As(err, &v) || len(v.Failures) == 0 {
			t.Fatalf("Check = %v, want a non-empty Violation", err)
		}
		for _, r := range err.Error() {
			if r >= utf8.RuneSelf || r < ' ' {
				t.Fatalf("error %q has a character that is not printable ASCII, so it may echo input", err)
			}
		}
	})
}
