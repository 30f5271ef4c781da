package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

// Ledger storage: the ledger package's tests cover the encoding, the tree
// and verification on top of these methods; here, only storage.

// leafBuild returns a build func for n leaves whose data records the
// index it was built for and a tag, with a (fake) hash of the data.
func leafBuild(n int, tag string, got *uint64) func(first uint64) ([][]byte, [][]byte, error) {
	return func(first uint64) ([][]byte, [][]byte, error) {
		if got != nil {
			*got = first
		}
		var data, hashes [][]byte
		for i := range n {
			d := fmt.Appendf(nil, "%d|%s", first+uint64(i), tag)
			h := sha256.Sum256(d)
			data, hashes = append(data, d), append(hashes, h[:])
		}
		return data, hashes, nil
	}
}

// allLeaves returns every stored leaf's data, checking indices are 0, 1, ...
// and each data says its own index.
func allLeaves(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	err := db.ScanLeaves(context.Background(), 0, 1<<62, func(index uint64, data, hash []byte) error {
		if index != uint64(len(out)) {
			return fmt.Errorf("leaf index %d at position %d", index, len(out))
		}
		var n uint64
		if _, err := fmt.Sscanf(string(data), "%d|", &n); err != nil || n != index {
			return fmt.Errorf("leaf %d holds %q", index, data)
		}
		if h := sha256.Sum256(data); !bytes.Equal(h[:], hash) {
			return fmt.Errorf("leaf %d: hash not stored with its data", index)
		}
		out = append(out, string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLedgerAppendAssignsConsecutiveIndices(t *testing.T) {
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	for i, n := range []int{1, 3, 2} {
		var built uint64
		first, err := db.AppendLeaves(ctx, n, leafBuild(n, fmt.Sprint("call", i), &built))
		if err != nil {
			t.Fatal(err)
		}
		if first != built {
			t.Errorf("AppendLeaves returned %d, build saw %d", first, built)
		}
	}
	if got := allLeaves(t, db); len(got) != 6 {
		t.Fatalf("%d leaves, want 6: %q", len(got), got)
	}
	// Partial ranges.
	var got []uint64
	if err := db.ScanLeaves(ctx, 2, 5, func(index uint64, _, _ []byte) error {
		got = append(got, index)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Errorf("ScanLeaves(2, 5) = %v", got)
	}
}

func TestLedgerAppendRejectsBadBuild(t *testing.T) {
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	boom := errors.New("boom")
	if _, err := db.AppendLeaves(ctx, 1, func(uint64) ([][]byte, [][]byte, error) { return nil, nil, boom }); !errors.Is(err, boom) {
		t.Errorf("build error: got %v", err)
	}
	if _, err := db.AppendLeaves(ctx, 2, leafBuild(1, "short", nil)); err == nil {
		t.Error("build returning too few leaves was accepted")
	}
	if _, err := db.AppendLeaves(ctx, 0, leafBuild(0, "none", nil)); err == nil {
		t.Error("empty append was accepted")
	}
	if got := allLeaves(t, db); len(got) != 0 {
		t.Errorf("failed appends left %d leaves", len(got))
	}
}

func TestLedgerAppendGroupCommit(t *testing.T) {
	// Appends queued while the writer is busy share one transaction, and
	// still get consecutive, distinct indices.
	db, _ := openTemp(t, Options{})
	release := blockWriter(t, db)
	const n = 40
	firsts := make([]uint64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			firsts[i], errs[i] = db.AppendLeaves(context.Background(), 2, leafBuild(2, fmt.Sprint("g", i), nil))
		})
	}
	waitQueued(t, db, n)
	before := db.Stats()
	release()
	wg.Wait()
	if got := db.Stats().Batches - before.Batches; got != 1 {
		t.Errorf("%d transactions for %d queued appends, want 1", got, n)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	slices.Sort(firsts)
	for i, f := range firsts {
		if f != uint64(2*i) {
			t.Fatalf("first indices %v are not 0, 2, 4, ...", firsts)
		}
	}
	if got := allLeaves(t, db); len(got) != 2*n {
		t.Errorf("%d leaves, want %d", len(got), 2*n)
	}
}

// txAppender is ledger.TxAppender, as the store's callers will see it.
type txAppender interface {
	AppendLeaves(n int, build func(first uint64) (data, hashes [][]byte, err error)) (uint64, error)
}

func TestLedgerAppendInsideWrite(t *testing.T) {
	// Data and its audit leaves commit together; a failing callback takes
	// its leaves with it and leaves no gap, even inside a shared batch.
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	release := blockWriter(t, db)
	boom := errors.New("boom")
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			errs[i] = db.Write(ctx, func(tx store.Tx) error {
				if err := tx.Insert("t1", store.Row{Type: "Patient", ID: fmt.Sprint("p", i), Version: 1,
					LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")}); err != nil {
					return err
				}
				ta, ok := tx.(txAppender)
				if !ok {
					return errors.New("store.Tx does not implement AppendLeaves")
				}
				if _, err := ta.AppendLeaves(1, leafBuild(1, fmt.Sprint("w", i), nil)); err != nil {
					return err
				}
				if i == 1 {
					return boom
				}
				return nil
			})
		})
	}
	waitQueued(t, db, 3)
	release()
	wg.Wait()
	for i, err := range errs {
		if (i == 1) != errors.Is(err, boom) || (i != 1 && err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	leaves := allLeaves(t, db) // also checks there is no gap
	if len(leaves) != 2 {
		t.Fatalf("leaves = %q, want the two committed writes' leaves", leaves)
	}
	for _, l := range leaves {
		if bytes.HasSuffix([]byte(l), []byte("|w1")) {
			t.Errorf("the failed write's leaf %q was kept", l)
		}
	}
	rows, err := db.History(ctx, "t1", store.HistoryQuery{})
	if err != nil || len(rows) != 2 {
		t.Errorf("history has %d rows, %v; want 2", len(rows), err)
	}

	// The Tx is dead after its callback.
	var kept store.Tx
	if err := db.Write(ctx, func(tx store.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.(txAppender).AppendLeaves(1, leafBuild(1, "late", nil)); !errors.Is(err, errTxDone) {
		t.Errorf("AppendLeaves after the callback: %v", err)
	}
}

func TestLedgerCheckpointsStateAndNodes(t *testing.T) {
	db, path := openTemp(t, Options{})
	ctx := context.Background()
	if st, err := db.LoadState(ctx); err != nil || st != nil {
		t.Fatalf("LoadState on a new database = %q, %v", st, err)
	}
	if err := db.SaveCheckpoint(ctx, 20, []byte("note20"), []byte("state20"), map[uint64][]byte{1 << 56: []byte("n0")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveCheckpoint(ctx, 10, []byte("note10"), []byte("state10"), map[uint64][]byte{1<<56 | 1: []byte("n1"), 2 << 56: []byte("m0")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveCheckpoint(ctx, 10, []byte("again"), []byte("s"), nil); err == nil {
		t.Error("a second checkpoint of size 10 was accepted")
	}
	if err := db.SaveCheckpoint(ctx, 0, []byte("n"), []byte("s"), nil); err == nil {
		t.Error("a checkpoint of size 0 was accepted")
	}
	var got []string
	if err := db.ScanCheckpoints(ctx, func(size uint64, note []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", size, note))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"10:note10", "20:note20"}) {
		t.Errorf("checkpoints = %q", got)
	}
	if st, err := db.LoadState(ctx); err != nil || string(st) != "state10" {
		t.Errorf("LoadState = %q, %v; want the last saved", st, err)
	}
	var nodes []string
	if err := db.ScanNodes(ctx, 1<<56, 2<<56, func(key uint64, hash []byte) error {
		nodes = append(nodes, fmt.Sprintf("%d:%s", key&(1<<56-1), hash))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nodes, []string{"0:n0", "1:n1"}) {
		t.Errorf("level-1 nodes = %q", nodes)
	}

	// Leaves and checkpoints are append-only, even to plain SQL.
	if _, err := db.AppendLeaves(ctx, 1, leafBuild(1, "x", nil)); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)
	for _, q := range []string{
		`UPDATE audit_leaves SET data = x'00'`,
		`DELETE FROM audit_leaves`,
		`UPDATE audit_checkpoints SET note = x'00'`,
		`DELETE FROM audit_checkpoints`,
	} {
		if _, err := raw.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

func TestLedgerScanStopsOnError(t *testing.T) {
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	if _, err := db.AppendLeaves(ctx, 5, leafBuild(5, "x", nil)); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err := db.ScanLeaves(ctx, 0, 100, func(uint64, []byte, []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("scan: %d calls, %v", n, err)
	}
}
