// Package kmstest is the conformance suite every kms.Provider must pass,
// in the manner of go-cloud's drivertest: a provider's own tests call
// Run with a freshly configured provider.
package kmstest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wardhealth/ward/internal/crypto/kms"
)

// Run checks that p behaves as the kms.Provider contract says: round
// trips, binds additional data, detects tampering, hides the plaintext,
// randomises every wrap, and is safe for concurrent use.
func Run(t *testing.T, p kms.Provider) {
	t.Helper()
	t.Run("KeyID", func(t *testing.T) { testKeyID(t, p) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, p) })
	t.Run("AADBinding", func(t *testing.T) { testAADBinding(t, p) })
	t.Run("TamperDetection", func(t *testing.T) { testTamper(t, p) })
	t.Run("NoPlaintextInOutput", func(t *testing.T) { testNoPlaintext(t, p) })
	t.Run("DistinctNonces", func(t *testing.T) { testDistinct(t, p) })
	t.Run("InputsUnmodified", func(t *testing.T) { testInputsUnmodified(t, p) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, p) })
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testKeyID(t *testing.T, p kms.Provider) {
	id := p.KeyID()
	if id == "" {
		t.Fatal("KeyID is empty")
	}
	if again := p.KeyID(); again != id {
		t.Fatalf("KeyID not stable: %q then %q", id, again)
	}
}

func testRoundTrip(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	for _, size := range []int{1, 16, 32, 64} {
		for _, aad := range [][]byte{nil, []byte("tenant\x00key\x00name"), randomBytes(t, 200)} {
			t.Run(fmt.Sprintf("size=%d/aad=%d", size, len(aad)), func(t *testing.T) {
				pt := randomBytes(t, size)
				w, err := p.Wrap(ctx, pt, aad)
				if err != nil {
					t.Fatalf("Wrap: %v", err)
				}
				got, err := p.Unwrap(ctx, w, aad)
				if err != nil {
					t.Fatalf("Unwrap: %v", err)
				}
				if !bytes.Equal(got, pt) {
					t.Fatal("Unwrap returned a different plaintext")
				}
			})
		}
	}
}

func testAADBinding(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	pt := randomBytes(t, 32)
	aad := []byte("tenant-a|0123456789abcdef|patient/1")
	w, err := p.Wrap(ctx, pt, aad)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	cases := map[string][]byte{
		"nil":       nil,
		"other":     []byte("tenant-b|0123456789abcdef|patient/1"),
		"prefix":    aad[:len(aad)-1],
		"extended":  append(bytes.Clone(aad), 'x'),
		"bitflip":   flipBit(aad, 0),
		"different": randomBytes(t, len(aad)),
	}
	for name, other := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := p.Unwrap(ctx, w, other)
			if !errors.Is(err, kms.ErrUnwrap) {
				t.Fatalf("Unwrap with wrong aad: err = %v, want ErrUnwrap", err)
			}
		})
	}
	t.Run("nilThenSome", func(t *testing.T) {
		w, err := p.Wrap(ctx, pt, nil)
		if err != nil {
			t.Fatalf("Wrap: %v", err)
		}
		if _, err := p.Unwrap(ctx, w, []byte("x")); !errors.Is(err, kms.ErrUnwrap) {
			t.Fatalf("Unwrap with aad added: err = %v, want ErrUnwrap", err)
		}
	})
}

func flipBit(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func testTamper(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	pt := randomBytes(t, 32)
	aad := []byte("aad")
	w, err := p.Wrap(ctx, pt, aad)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	for i := range w {
		for _, bit := range []byte{0x01, 0x80} {
			c := bytes.Clone(w)
			c[i] ^= bit
			if _, err := p.Unwrap(ctx, c, aad); !errors.Is(err, kms.ErrUnwrap) {
				t.Fatalf("byte %d bit %#x flipped: err = %v, want ErrUnwrap", i, bit, err)
			}
		}
	}
	truncated := map[string][]byte{
		"empty":     {},
		"nil":       nil,
		"oneByte":   w[:1],
		"half":      w[:len(w)/2],
		"lastCut":   w[:len(w)-1],
		"appended":  append(bytes.Clone(w), 0),
		"firstCut":  w[1:],
		"doubled":   append(bytes.Clone(w), w...),
		"garbage":   randomBytes(t, len(w)),
		"textNoise": []byte(strings.Repeat("A", len(w))),
	}
	for name, c := range truncated {
		t.Run(name, func(t *testing.T) {
			if _, err := p.Unwrap(ctx, c, aad); !errors.Is(err, kms.ErrUnwrap) {
				t.Fatalf("err = %v, want ErrUnwrap", err)
			}
		})
	}
}

func testNoPlaintext(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	canary := []byte("CANARY-KEY-MATERIAL-0123456789ab") // 32 bytes, like a key
	for _, pt := range [][]byte{canary, randomBytes(t, 32)} {
		w, err := p.Wrap(ctx, pt, []byte("aad"))
		if err != nil {
			t.Fatalf("Wrap: %v", err)
		}
		for enc, needle := range encodings(pt) {
			if bytes.Contains(w, needle) {
				t.Fatalf("wrapped output contains the plaintext (%s)", enc)
			}
		}
		if _, err := p.Unwrap(ctx, w, []byte("other")); err != nil {
			for enc, needle := range encodings(pt) {
				if strings.Contains(err.Error(), string(needle)) {
					t.Fatalf("Unwrap error contains the plaintext (%s)", enc)
				}
			}
		}
	}
}

// encodings returns the forms in which a secret might leak: raw, hex,
// base64, and as Go prints a byte slice.
func encodings(b []byte) map[string][]byte {
	return map[string][]byte{
		"raw":       b,
		"hex":       []byte(hex.EncodeToString(b)),
		"HEX":       []byte(strings.ToUpper(hex.EncodeToString(b))),
		"base64":    []byte(base64.RawStdEncoding.EncodeToString(b)),
		"base64url": []byte(base64.RawURLEncoding.EncodeToString(b)),
		"%v":        []byte(strings.Trim(fmt.Sprint(b), "[]")),
	}
}

func testDistinct(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	pt := randomBytes(t, 32)
	aad := []byte("aad")
	seen := make(map[string]bool)
	for range 64 {
		w, err := p.Wrap(ctx, pt, aad)
		if err != nil {
			t.Fatalf("Wrap: %v", err)
		}
		if seen[string(w)] {
			t.Fatal("two wraps of the same input gave the same output: nonce reuse")
		}
		seen[string(w)] = true
	}
}

func testInputsUnmodified(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	pt := randomBytes(t, 32)
	aad := randomBytes(t, 16)
	pt0, aad0 := bytes.Clone(pt), bytes.Clone(aad)
	w, err := p.Wrap(ctx, pt, aad)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if !bytes.Equal(pt, pt0) || !bytes.Equal(aad, aad0) {
		t.Fatal("Wrap modified its inputs")
	}
	w0 := bytes.Clone(w)
	got, err := p.Unwrap(ctx, w, aad)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if !bytes.Equal(w, w0) || !bytes.Equal(aad, aad0) {
		t.Fatal("Unwrap modified its inputs")
	}
	clear(got) // the caller owns the result: clearing it must not affect w
	if again, err := p.Unwrap(ctx, w, aad); err != nil || !bytes.Equal(again, pt) {
		t.Fatalf("Unwrap after clearing an earlier result: err = %v, equal = %v", err, bytes.Equal(again, pt))
	}
}

func testConcurrent(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				pt := []byte(fmt.Sprintf("secret-%02d-%03d-padding-to-32-b", g, i))
				aad := []byte(fmt.Sprint(g, i))
				w, err := p.Wrap(ctx, pt, aad)
				if err != nil {
					errs <- fmt.Errorf("wrap: %w", err)
					return
				}
				got, err := p.Unwrap(ctx, w, aad)
				if err != nil {
					errs <- fmt.Errorf("unwrap: %w", err)
					return
				}
				if !bytes.Equal(got, pt) {
					errs <- errors.New("concurrent round trip returned a different plaintext")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
