package mfa

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

var codeFormat = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$`)

func newCodes(t *testing.T, seed byte) (codes, hashes []string) {
	t.Helper()
	codes, hashes, err := NewRecoveryCodes(seeded(seed))
	if err != nil {
		t.Fatalf("NewRecoveryCodes: %v", err)
	}
	return codes, hashes
}

func TestNewRecoveryCodes(t *testing.T) {
	codes, hashes := newCodes(t, 20)
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes and %d hashes, want %d of each", len(codes), len(hashes), RecoveryCodeCount)
	}
	if RecoveryCodeBits < 80 {
		t.Errorf("RecoveryCodeBits = %d, want at least 80", RecoveryCodeBits)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(codes)))); n != RecoveryCodeCount {
		t.Errorf("%d distinct codes, want %d", n, RecoveryCodeCount)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(hashes)))); n != RecoveryCodeCount {
		t.Errorf("%d distinct hashes, want %d", n, RecoveryCodeCount)
	}

	// Each code must be the random source's 15 bytes, shown in full:
	// the entropy comes from rand and none is lost in formatting.
	src := seeded(20)
	enc := recoveryEncoding()
	for i, c := range codes {
		if !codeFormat.MatchString(c) {
			t.Errorf("code %d = %q, want six dash-separated groups of four from %s", i, c, recoveryAlphabet)
		}
		want := make([]byte, recoveryCodeBytes)
		if _, err := io.ReadFull(src, want); err != nil {
			t.Fatal(err)
		}
		got, err := enc.DecodeString(strings.ReplaceAll(c, "-", ""))
		if err != nil {
			t.Fatalf("code %d does not decode: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("code %d does not carry the %d random bytes read for it", i, recoveryCodeBytes)
		}
	}

	for i, h := range hashes {
		if !strings.HasPrefix(h, recoveryHashPrefix) {
			t.Errorf("hash %d = %q, want prefix %q", i, h, recoveryHashPrefix)
		}
		for _, c := range codes {
			bare := strings.ReplaceAll(c, "-", "")
			for _, form := range []string{c, bare, strings.ToLower(bare)} {
				if strings.Contains(strings.ToUpper(h), strings.ToUpper(form)) {
					t.Errorf("hash %d contains a code", i)
				}
			}
		}
	}

	if other, _ := newCodes(t, 21); slices.Equal(other, codes) {
		t.Errorf("different random sources gave the same codes")
	}
}

func TestNewRecoveryCodesRandomFailure(t *testing.T) {
	boom := errors.New("entropy exhausted")
	tests := []struct {
		name   string
		rand   io.Reader
		wantIs error
	}{
		{"nil", nil, nil},
		{"failing", iotest.ErrReader(boom), boom},
		{"runs out", io.LimitReader(seeded(27), recoveryCodeBytes*RecoveryCodeCount-1), io.ErrUnexpectedEOF},
		{"repeats itself", bytes.NewReader(make([]byte, 1024)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, hashes, err := NewRecoveryCodes(tt.rand)
			if err == nil {
				t.Fatal("NewRecoveryCodes succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want %v", err, tt.wantIs)
			}
			if codes != nil || hashes != nil {
				t.Errorf("codes or hashes returned with an error")
			}
		})
	}
}

func TestUseRecoveryCodeEachOnce(t *testing.T) {
	codes, hashes := newCodes(t, 22)
	stored := slices.Clone(hashes)
	// Spend them out of order, as people do.
	order := []int{3, 0, 9, 5, 1, 8, 2, 7, 4, 6}
	for n, i := range order {
		before := slices.Clone(stored)
		remaining, err := UseRecoveryCode(codes[i], stored)
		if err != nil {
			t.Fatalf("use %d (code %d): %v", n, i, err)
		}
		if !slices.Equal(stored, before) {
			t.Fatalf("use %d modified the hashes passed in", n)
		}
		want := slices.DeleteFunc(slices.Clone(before), func(h string) bool { return h == hashes[i] })
		if !slices.Equal(remaining, want) {
			t.Fatalf("use %d: remaining = %v, want the list without code %d's hash", n, remaining, i)
		}
		stored = remaining

		if again, err := UseRecoveryCode(codes[i], stored); !errors.Is(err, ErrInvalidCode) || again != nil {
			t.Fatalf("reuse of code %d: remaining %v, err %v; want nil, ErrInvalidCode", i, again, err)
		}
	}
	if len(stored) != 0 {
		t.Errorf("%d hashes left after using every code", len(stored))
	}
	for i, c := range codes {
		if _, err := UseRecoveryCode(c, stored); !errors.Is(err, ErrInvalidCode) {
			t.Errorf("code %d after all were used: err = %v, want ErrInvalidCode", i, err)
		}
	}
}

func TestUseRecoveryCodeNormalises(t *testing.T) {
	codes, hashes := newCodes(t, 23)
	// with returns the index of a code holding digit, so the O/I/L cases
	// below test something.
	with := func(digit string) int {
		i := slices.IndexFunc(codes, func(c string) bool { return strings.Contains(c, digit) })
		if i < 0 {
			t.Fatalf("no code holds %q for this seed; choose another", digit)
		}
		return i
	}
	dashes := func(c string) string { return strings.ReplaceAll(c, "-", "") }
	tests := []struct {
		name  string
		idx   int
		input func(string) string
	}{
		{"as shown", 0, func(c string) string { return c }},
		{"lower case", 1, strings.ToLower},
		{"no dashes", 2, dashes},
		{"lower case, no dashes", 3, func(c string) string { return strings.ToLower(dashes(c)) }},
		{"spaces for dashes", 4, func(c string) string { return strings.ReplaceAll(c, "-", " ") }},
		{"surrounding whitespace", 5, func(c string) string { return "  " + c + "\t\n" }},
		{"en dashes", 6, func(c string) string { return strings.ReplaceAll(c, "-", "\u2013") }},
		{"irregular grouping", 7, func(c string) string { b := dashes(c); return b[:5] + " " + b[5:11] + "-" + b[11:] }},
		{"O for 0", with("0"), strings.NewReplacer("0", "O").Replace},
		{"o for 0", with("0"), strings.NewReplacer("0", "o").Replace},
		{"I for 1", with("1"), strings.NewReplacer("1", "I").Replace},
		{"i for 1", with("1"), strings.NewReplacer("1", "i").Replace},
		{"L for 1", with("1"), strings.NewReplacer("1", "L").Replace},
		{"l for 1", with("1"), strings.NewReplacer("1", "l").Replace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input(codes[tt.idx])
			remaining, err := UseRecoveryCode(input, hashes)
			if err != nil {
				t.Fatalf("UseRecoveryCode(%q): %v", input, err)
			}
			if len(remaining) != len(hashes)-1 || slices.Contains(remaining, hashes[tt.idx]) {
				t.Errorf("remaining still holds the used hash or lost another")
			}
		})
	}
}

// TestUseRecoveryCodeDuplicateHash checks that one use removes one entry
// even from a damaged list that holds a hash twice.
func TestUseRecoveryCodeDuplicateHash(t *testing.T) {
	codes, hashes := newCodes(t, 28)
	stored := append(slices.Clone(hashes), hashes[2])
	remaining, err := UseRecoveryCode(codes[2], stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(remaining) != len(stored)-1 {
		t.Fatalf("removed %d entries, want 1", len(stored)-len(remaining))
	}
	want := slices.Concat(hashes[:2], hashes[3:], hashes[2:3])
	if !slices.Equal(remaining, want) {
		t.Errorf("remaining = %v, want the first copy removed: %v", remaining, want)
	}
}

func TestUseRecoveryCodeRejects(t *testing.T) {
	codes, hashes := newCodes(t, 24)
	others, _ := newCodes(t, 25)
	bare := strings.ReplaceAll(codes[0], "-", "")
	tests := []struct {
		name   string
		input  string
		hashes []string
	}{
		{"another set's code", others[0], hashes},
		{"one character changed", flip(codes[0]), hashes},
		{"too short", bare[:len(bare)-1], hashes},
		{"too long", bare + "0", hashes},
		{"U is not in the alphabet", "U" + bare[1:], hashes},
		{"fullwidth letters", "Ｘ" + bare[1:], hashes},
		{"punctuation", bare[:12] + "." + bare[12:], hashes},
		{"empty", "", hashes},
		{"only separators", " - - ", hashes},
		{"huge input", strings.Repeat(" ", 1<<16) + codes[0], hashes},
		{"no stored hashes", codes[0], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.hashes)
			remaining, err := UseRecoveryCode(tt.input, tt.hashes)
			if !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("err = %v, want ErrInvalidCode", err)
			}
			if remaining != nil {
				t.Errorf("remaining = %v with an error, want nil", remaining)
			}
			if !slices.Equal(tt.hashes, before) {
				t.Errorf("the stored hashes were modified")
			}
			if strings.Contains(err.Error(), bare) {
				t.Errorf("error %q contains the code", err)
			}
		})
	}
	// After all those failures, the right code still works.
	if _, err := UseRecoveryCode(codes[0], hashes); err != nil {
		t.Errorf("valid code after failures: %v", err)
	}
}

// flip changes the first character of code to another alphabet character.
func flip(code string) string {
	c := byte('A')
	if code[0] == 'A' {
		c = 'B'
	}
	return string(c) + code[1:]
}

func FuzzUseRecoveryCode(f *testing.F) {
	codes, hashes, err := NewRecoveryCodes(seeded(26))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{codes[0], strings.ToLower(codes[1]), "", "0000-0000", "ＡＢ", " - "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		before := slices.Clone(hashes)
		remaining, err := UseRecoveryCode(input, hashes)
		if !slices.Equal(hashes, before) {
			t.Fatal("stored hashes modified")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidCode) || remaining != nil {
				t.Errorf("failure returned %v, %v", remaining, err)
			}
			return
		}
		if len(remaining) != len(hashes)-1 {
			t.Errorf("success removed %d hashes, want 1", len(hashes)-len(remaining))
		}
		if canonical, ok := normaliseRecoveryCode(input); !ok || len(canonical) != recoveryCodeChars {
			t.Errorf("accepted %q, which does not normalise to a code", input)
		}
	})
}

// TestRecoveryHashIsStable pins the stored format: changing it would lock
// every user out of their recovery codes, so it needs a new prefix instead.
// The expected value is printf 'ward/mfa/recovery-code/v1\0%s' CODE | sha256sum.
func TestRecoveryHashIsStable(t *testing.T) {
	const (
		code = "7kq4 mz2p-xr9d-a3f0-w8tn-5hjc"
		want = "sha256:41861365ecb5efd844eed3f55ce969ebe07088b91fe2c7ab266c71ce13810a7d"
	)
	remaining, err := UseRecoveryCode(code, []string{"sha256:00", want})
	if err != nil {
		t.Fatalf("stored hash of %q no longer matches: %v", code, err)
	}
	if !slices.Equal(remaining, []string{"sha256:00"}) {
		t.Errorf("remaining = %v, want [sha256:00]", remaining)
	}
}
