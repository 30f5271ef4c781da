package mfa

import (
	"io"
	"math/rand/v2"
	"time"
)

// seeded is a deterministic random source: a ChaCha8 stream whose seed is
// the given byte repeated. Two calls with the same seed yield the same bytes.
func seeded(seed byte) io.Reader {
	var s [32]byte
	for i := range s {
		s[i] = seed
	}
	return rand.NewChaCha8(s)
}

// testNow is a fixed instant 7 s into a time step, so ±30 s stays a whole
// step away.
var testNow = time.Date(2026, time.March, 14, 15, 9, 7, 0, time.UTC)
