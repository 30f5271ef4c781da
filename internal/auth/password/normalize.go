package password

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxRunes is the longest password any policy accepts, in characters
// (runes) after NFKC normalisation.
const MaxRunes = 128

// MaxBytes bounds a password in bytes, both as received and after NFKC
// normalisation. It is checked before any other work, so an oversized input
// costs neither normalisation nor a hash.
const MaxBytes = 4 * MaxRunes

// Errors for input that no policy could accept. They never contain the
// password.
var (
	ErrTooLong     = errors.New("password is too long")
	ErrInvalidUTF8 = errors.New("password is not valid UTF-8")
	ErrControlChar = errors.New("password contains a control or invisible formatting character")
)

// normalize validates pw and returns its NFKC form, the single form that is
// checked, hashed and verified, so that look-alike spellings (fullwidth
// letters, ligatures) are one password. Control characters (Cc), invisible
// format characters (Cf, such as zero-width spaces and bidi overrides) and
// line or paragraph separators are refused because they let a password look
// like another one.
func normalize(pw string) (string, error) {
	if len(pw) > MaxBytes {
		return "", fmt.Errorf("%w: over %d bytes", ErrTooLong, MaxBytes)
	}
	if !utf8.ValidString(pw) {
		return "", ErrInvalidUTF8
	}
	n := norm.NFKC.String(pw)
	if len(n) > MaxBytes {
		return "", fmt.Errorf("%w: over %d bytes after normalisation", ErrTooLong, MaxBytes)
	}
	for _, r := range n {
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return "", ErrControlChar
		}
	}
	return n, nil
}
