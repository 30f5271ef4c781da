package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed reports a stored hash that is not a well-formed argon2id PHC
// string. Its messages name the faulty part but never echo the hash.
var ErrMalformed = errors.New("malformed password hash")

// b64 is the PHC alphabet: standard base64 without padding; Strict refuses
// non-zero trailing bits so that every hash has exactly one encoding.
var b64 = base64.RawStdEncoding.Strict()

// argonVersion is the only argon2 version golang.org/x/crypto implements.
const argonVersion = 0x13

// decoded is a parsed PHC string.
type decoded struct {
	params Params
	salt   []byte
	key    []byte
}

// encode formats the PHC string
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argonVersion, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses and bounds-checks a PHC string. It accepts only the
// canonical form encode produces (parameters in m,t,p order, decimal
// without sign or leading zeros), then checks the parameters with
// Params.Validate before anything is allocated for them.
func decode(s string) (decoded, error) {
	var d decoded
	// 2 base64 fields of at most 64 bytes plus a short header.
	if len(s) > 256 {
		return d, fmt.Errorf("%w: too long", ErrMalformed)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return d, fmt.Errorf("%w: want 5 '$'-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return d, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformed)
	}
	if parts[2] != "v="+strconv.Itoa(argonVersion) {
		return d, fmt.Errorf("%w: unsupported version field", ErrMalformed)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return d, fmt.Errorf("%w: want parameters m,t,p", ErrMalformed)
	}
	var vals [3]uint32
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return d, fmt.Errorf("%w: parameter %d is not %s", ErrMalformed, i+1, name)
		}
		n, err := parseDecimal(v)
		if err != nil {
			return d, fmt.Errorf("%w: parameter %s: %w", ErrMalformed, name, err)
		}
		vals[i] = n
	}
	if vals[2] > MaxThreads {
		return d, fmt.Errorf("%w: %w: p=%d over %d", ErrMalformed, ErrParams, vals[2], MaxThreads)
	}
	salt, err := decodeB64(parts[4])
	if err != nil {
		return d, fmt.Errorf("%w: salt %w", ErrMalformed, err)
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return d, fmt.Errorf("%w: hash %w", ErrMalformed, err)
	}
	d.params = Params{
		MemoryKiB: vals[0],
		Time:      vals[1],
		Threads:   uint8(vals[2]),
		KeyLen:    uint32(len(key)),
		SaltLen:   uint32(len(salt)),
	}
	if err := d.params.Validate(); err != nil {
		return d, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	d.salt, d.key = salt, key
	return d, nil
}

// decodeB64 decodes canonical unpadded standard base64. The decoder
// skips '\r' and '\n', so the result is re-encoded and compared to keep
// one encoding per hash.
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodeToString(b) != s {
		return nil, errors.New("is not canonical unpadded base64")
	}
	return b, nil
}

// parseDecimal parses a canonical unsigned 32-bit decimal.
func parseDecimal(s string) (uint32, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not a canonical decimal")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a canonical decimal")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("out of 32-bit range")
	}
	return uint32(n), nil
}
