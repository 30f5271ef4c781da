package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wardhealth/ward/internal/audit/ledger"
)

// Reference RFC 6962 (section 2.1) algorithms, written from the RFC and
// independent of the merkle module, over leaf hashes.

func refNode(l, r []byte) []byte {
	h := sha256.Sum256(append(append([]byte{1}, l...), r...))
	return h[:]
}

// split is k, the largest power of two smaller than n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// ref computes over leaf hashes d; MTH results are memoised by range,
// since proofs for nearby sizes share most subtrees.
type ref struct {
	d    [][]byte
	memo map[[2]int][]byte
}

func (r *ref) mth(lo, hi int) []byte {
	switch hi - lo {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return r.d[lo]
	}
	if h, ok := r.memo[[2]int{lo, hi}]; ok {
		return h
	}
	k := split(hi - lo)
	h := refNode(r.mth(lo, lo+k), r.mth(lo+k, hi))
	r.memo[[2]int{lo, hi}] = h
	return h
}

// path is PATH(m, D[lo:hi]).
func (r *ref) path(m, lo, hi int) [][]byte {
	if hi-lo <= 1 {
		return nil
	}
	k := split(hi - lo)
	if m < k {
		return append(r.path(m, lo, lo+k), r.mth(lo+k, hi))
	}
	return append(r.path(m-k, lo+k, hi), r.mth(lo, lo+k))
}

// subproof is SUBPROOF(m, D[lo:hi], b).
func (r *ref) subproof(m, lo, hi int, b bool) [][]byte {
	if m == hi-lo {
		if b {
			return nil
		}
		return [][]byte{r.mth(lo, hi)}
	}
	k := split(hi - lo)
	if m <= k {
		return append(r.subproof(m, lo, lo+k, b), r.mth(lo+k, hi))
	}
	return append(r.subproof(m-k, lo+k, hi, false), r.mth(lo, lo+k))
}

// consistency is PROOF(m, D[0:n]).
func (r *ref) consistency(m, n int) [][]byte {
	if m == 0 || m == n {
		return nil
	}
	return r.subproof(m, 0, n, true)
}

// leafHashes reads every stored leaf hash, recomputed from its data.
func leafHashes(t *testing.T, r ledger.Reader) [][]byte {
	t.Helper()
	var out [][]byte
	if err := r.ScanLeaves(context.Background(), 0, 1<<62, func(_ uint64, data, _ []byte) error {
		h := sha256.Sum256(append([]byte{0}, data...))
		out = append(out, h[:])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestProofs(t *testing.T) {
	// Enough leaves for cached nodes at levels 8 and 16, checkpointed in
	// uneven steps, plus a tail the integrator has not checkpointed.
	total, step := 70_000, 9_999
	if testing.Short() {
		total, step = 3_000, 999
	}
	path := filepath.Join(t.TempDir(), "ward.db")
	db := openDB(t, path)
	s, v := testKey(t)
	l := newLedger(t, db, s, v, ledger.Options{CheckpointEvents: 1 << 40})
	ctx := context.Background()
	var sizes []uint64
	for i := 0; i < total; i += step {
		if err := l.Record(ctx, events(i, min(step, total-i))); err != nil {
			t.Fatal(err)
		}
		signed, err := l.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ledger.OpenCheckpoint(signed, v)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, c.Size)
	}
	if err := l.Record(ctx, events(total, 300)); err != nil {
		t.Fatal(err)
	}
	d := leafHashes(t, db)
	n := len(d)
	rf := &ref{d: d, memo: make(map[[2]int][]byte)}
	rng := rand.New(rand.NewPCG(1, 2))

	// Checkpoint roots are the RFC 6962 roots, and RootHash agrees.
	for _, size := range append(sizes, uint64(n), 1, 0) {
		root, err := ledger.RootHash(ctx, db, size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root, rf.mth(0, int(size))) {
			t.Errorf("RootHash(%d) differs from the RFC 6962 MTH", size)
		}
	}

	check := func(t *testing.T, iters int) {
		for range iters {
			size := 1 + rng.IntN(n)
			index := rng.IntN(size)
			p, err := ledger.InclusionProof(ctx, db, uint64(index), uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			if want := rf.path(index, 0, size); !slices.EqualFunc(p, want, bytes.Equal) {
				t.Fatalf("inclusion proof (%d, %d) differs from RFC 6962 PATH", index, size)
			}
			root := rf.mth(0, size)
			if err := ledger.VerifyInclusion(uint64(index), uint64(size), d[index], p, root); err != nil {
				t.Fatalf("inclusion (%d, %d): %v", index, size, err)
			}
			for name, bad := range alterations(p, rng) {
				if ledger.VerifyInclusion(uint64(index), uint64(size), d[index], bad, root) == nil {
					t.Errorf("inclusion (%d, %d) still verifies when %s", index, size, name)
				}
			}
			if other := (index + 1) % size; other != index && ledger.VerifyInclusion(uint64(other), uint64(size), d[index], p, root) == nil && !bytes.Equal(d[other], d[index]) {
				t.Errorf("inclusion proof for %d verifies at index %d", index, other)
			}

			size1 := rng.IntN(size + 1)
			c, err := ledger.ConsistencyProof(ctx, db, uint64(size1), uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			if want := rf.consistency(size1, size); !slices.EqualFunc(c, want, bytes.Equal) {
				t.Fatalf("consistency proof (%d, %d) differs from RFC 6962 PROOF", size1, size)
			}
			root1 := rf.mth(0, size1)
			if err := ledger.VerifyConsistency(uint64(size1), uint64(size), c, root1, root); err != nil {
				t.Fatalf("consistency (%d, %d): %v", size1, size, err)
			}
			if size1 > 0 && size1 < size {
				for name, bad := range alterations(c, rng) {
					if ledger.VerifyConsistency(uint64(size1), uint64(size), bad, root1, root) == nil {
						t.Errorf("consistency (%d, %d) still verifies when %s", size1, size, name)
					}
				}
				if ledger.VerifyConsistency(uint64(size1), uint64(size), c, rf.mth(0, size1-1), root) == nil {
					t.Errorf("consistency (%d, %d) verifies against the wrong old root", size1, size)
				}
			}
		}
	}
	t.Run("cached nodes", func(t *testing.T) { check(t, 20) })
	var cached int
	if err := db.ScanNodes(ctx, 0, 1<<62, func(uint64, []byte) error { cached++; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := n / 256; cached < want-2 {
		t.Errorf("%d cached nodes, want about %d", cached, want)
	}
	// The cache is only a cache: without it the proofs are the same.
	mustExec(t, openRaw(t, path), `DELETE FROM audit_nodes`)
	t.Run("no cached nodes", func(t *testing.T) { check(t, 3) })

	// The Ledger serves proofs only up to what it has integrated.
	if _, err := l.InclusionProof(ctx, 0, l.Size()+1); err == nil {
		t.Error("Ledger.InclusionProof beyond Size succeeded")
	}
	if _, err := l.ConsistencyProof(ctx, 1, l.Size()+1); err == nil {
		t.Error("Ledger.ConsistencyProof beyond Size succeeded")
	}
	if _, err := ledger.InclusionProof(ctx, db, uint64(n), uint64(n)+5); err == nil {
		t.Error("InclusionProof beyond the stored leaves succeeded")
	}
}

// alterations returns broken copies of a proof.
func alterations(p [][]byte, rng *rand.Rand) map[string][][]byte {
	out := make(map[string][][]byte)
	if len(p) == 0 {
		out["a hash is added"] = [][]byte{make([]byte, 32)}
		return out
	}
	flip := make([][]byte, len(p))
	for i := range p {
		flip[i] = bytes.Clone(p[i])
	}
	i := rng.IntN(len(p))
	flip[i][rng.IntN(32)] ^= 1 << rng.IntN(8)
	out["a bit is flipped"] = flip
	out["the last hash is dropped"] = p[:len(p)-1]
	out["a hash is added"] = append(slices.Clone(p), make([]byte, 32))
	if len(p) > 1 {
		sw := slices.Clone(p)
		sw[0], sw[1] = sw[1], sw[0]
		if !bytes.Equal(sw[0], sw[1]) {
			out["two hashes are swapped"] = sw
		}
	}
	return out
}
