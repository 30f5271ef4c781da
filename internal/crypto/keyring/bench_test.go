package keyring

import (
	"bytes"
	"context"
	"testing"
)

// body2KiB stands in for a typical FHIR resource.
var body2KiB = bytes.Repeat([]byte(`{"resourceType":"Observation"}`), 2048/30+1)[:2048]

func benchFixture(b *testing.B) (*Keyring, string) {
	b.Helper()
	f := newFixture(b, Options{})
	kr := f.another() // crypto/rand, like production
	return kr, dataKey(b, kr, "acme", "p1")
}

func BenchmarkSeal2KiB(b *testing.B) {
	kr, id := benchFixture(b)
	aad := []byte("acme|Observation|o1|1")
	ctx := context.Background()
	b.SetBytes(int64(len(body2KiB)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Seal(ctx, "acme", id, body2KiB, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen2KiB(b *testing.B) {
	kr, id := benchFixture(b)
	aad := []byte("acme|Observation|o1|1")
	ctx := context.Background()
	ct := seal(b, kr, "acme", id, body2KiB, aad)
	b.SetBytes(int64(len(body2KiB)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Open(ctx, "acme", ct, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDataKeyCacheHit(b *testing.B) {
	kr, _ := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.DataKey(ctx, "acme", "p1"); err != nil {
			b.Fatal(err)
		}
	}
}

// The parallel variants show what the single cache lock costs under load.

func BenchmarkSeal2KiBParallel(b *testing.B) {
	kr, id := benchFixture(b)
	aad := []byte("acme|Observation|o1|1")
	b.SetBytes(int64(len(body2KiB)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := kr.Seal(context.Background(), "acme", id, body2KiB, aad); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkOpen2KiBParallel(b *testing.B) {
	kr, id := benchFixture(b)
	aad := []byte("acme|Observation|o1|1")
	ct := seal(b, kr, "acme", id, body2KiB, aad)
	b.SetBytes(int64(len(body2KiB)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := kr.Open(context.Background(), "acme", ct, aad); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
