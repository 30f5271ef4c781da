package mfa

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Recovery code parameters.
const (
	// RecoveryCodeCount is how many recovery codes a set holds.
	RecoveryCodeCount = 10
	// RecoveryCodeBits is the entropy of one recovery code.
	RecoveryCodeBits = recoveryCodeBytes * 8

	// 15 bytes encode to exactly 24 base32 characters, shown as six groups
	// of four.
	recoveryCodeBytes = 15
	recoveryCodeChars = recoveryCodeBytes * 8 / 5
	recoveryGroupLen  = 4
	// recoveryAlphabet is Crockford's base32: digits and upper-case letters
	// without I, L, O and U, so nothing on paper reads as something else.
	recoveryAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// recoveryHashPrefix names the stored hash format, so a later format
	// can sit beside it.
	recoveryHashPrefix = "sha256:"
	// recoveryDomain separates these hashes from any other SHA-256 of the
	// same text.
	recoveryDomain = "ward/mfa/recovery-code/v1\x00"
	// maxRecoveryInput bounds the work spent on untrusted input.
	maxRecoveryInput = 128
)

// NewRecoveryCodes returns RecoveryCodeCount single-use recovery codes read
// from rand, formatted for people ("7KQ4-MZ2P-XR9D-A3F0-W8TN-5HJC"), and
// the hashes to store in their place. Show the codes once; keep only the
// hashes.
//
// Each code carries 120 bits (above the 80 a code needs against online
// guessing) so that storing a plain SHA-256 is sound: NIST SP 800-63B
// §5.1.2.2 lets look-up secrets of at least 112 bits be stored under an
// approved one-way hash, and 2^120 guesses per code is out of reach
// offline. A salted slow hash (argon2id) would add nothing at that entropy
// but cost tens of milliseconds for each of the ten stored hashes on every
// attempt, an easy way to burn server CPU.
func NewRecoveryCodes(rand io.Reader) (codes []string, hashes []string, err error) {
	if rand == nil {
		return nil, nil, errors.New("mfa: new recovery codes: nil random source")
	}
	enc := recoveryEncoding()
	codes = make([]string, 0, RecoveryCodeCount)
	hashes = make([]string, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	buf := make([]byte, recoveryCodeBytes)
	for range RecoveryCodeCount {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, nil, fmt.Errorf("mfa: new recovery codes: read random: %w", err)
		}
		canonical := enc.EncodeToString(buf)
		if seen[canonical] {
			// At 120 bits this only happens when the random source is broken.
			return nil, nil, errors.New("mfa: new recovery codes: random source repeated itself")
		}
		seen[canonical] = true
		codes = append(codes, group(canonical))
		hashes = append(hashes, hashRecoveryCode(canonical))
	}
	return codes, hashes, nil
}

// UseRecoveryCode checks code against the stored hashes and, when it
// matches one, returns the hashes without it. hashes itself is not
// modified. The caller must store remaining in place of hashes atomically
// (a compare-and-swap on the list it read) so that one code cannot be spent
// by two concurrent requests; afterwards the same code fails. The caller
// must also rate-limit attempts.
//
// Input is normalised first: case is ignored, spaces and dashes are
// dropped, and O, I and L are read as 0, 1 and 1, as Crockford's base32
// does. Anything else, a wrong length, or no match is ErrInvalidCode, with
// remaining nil.
func UseRecoveryCode(code string, hashes []string) (remaining []string, err error) {
	canonical, ok := normaliseRecoveryCode(code)
	if !ok {
		return nil, ErrInvalidCode
	}
	want := []byte(hashRecoveryCode(canonical))
	match := -1
	// Each stored hash is compared in constant time, and all are compared,
	// so timing says nothing about which entry (if any) matched.
	for i, h := range hashes {
		if subtle.ConstantTimeCompare([]byte(h), want) == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return nil, ErrInvalidCode
	}
	remaining = make([]string, 0, len(hashes)-1)
	remaining = append(remaining, hashes[:match]...)
	remaining = append(remaining, hashes[match+1:]...)
	return remaining, nil
}

// recoveryEncoding is base32 over recoveryAlphabet without padding.
func recoveryEncoding() *base32.Encoding {
	return base32.NewEncoding(recoveryAlphabet).WithPadding(base32.NoPadding)
}

// hashRecoveryCode is the stored form of a canonical code.
func hashRecoveryCode(canonical string) string {
	sum := sha256.Sum256([]byte(recoveryDomain + canonical))
	return recoveryHashPrefix + hex.EncodeToString(sum[:])
}

// group splits a canonical code into dash-separated groups for display.
func group(canonical string) string {
	var b strings.Builder
	for i := 0; i < len(canonical); i += recoveryGroupLen {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(canonical[i:min(i+recoveryGroupLen, len(canonical))])
	}
	return b.String()
}

// normaliseRecoveryCode turns what a person typed into the canonical
// 24-character form, or reports false if it cannot be a recovery code.
func normaliseRecoveryCode(code string) (string, bool) {
	if len(code) > maxRecoveryInput {
		return "", false
	}
	var b strings.Builder
	for _, r := range code {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > unicode.MaxASCII || !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != recoveryCodeChars {
		return "", false
	}
	return b.String(), true
}
