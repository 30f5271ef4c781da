package password

import (
	"crypto/rand"
	"testing"
)

// BenchmarkHash measures one hash with DefaultParams; its ns/op is the
// figure DefaultParams was chosen by (target 50–100 ms on 2 cores).
func BenchmarkHash(b *testing.B) {
	p := DefaultParams()
	for b.Loop() {
		if _, err := Hash("Marigold!Canyon7", p, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures a login: one hash plus parsing.
func BenchmarkVerify(b *testing.B) {
	h, err := Hash("Marigold!Canyon7", DefaultParams(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := Verify("Marigold!Canyon7", h); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCheck measures the policy check of an acceptable password
// without history, so no hashing.
func BenchmarkCheck(b *testing.B) {
	for _, tt := range []struct{ name, pw string }{
		{"typical", "Marigold!Canyon7"},
		{"128 characters", strong(128)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			c := mustChecker(b, HIPAA)
			for b.Loop() {
				if err := c.Check(tt.pw, john, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
