package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
)

// t0 is the suite's reference time for raw backend rows.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)

func runBackend(t *testing.T, open func(t *testing.T) store.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.Backend)
	}{
		{"InsertVersionRules", testInsertVersionRules},
		{"CurrentAndVersion", testCurrentAndVersion},
		{"TxSeesOwnWrites", testTxSeesOwnWrites},
		{"HistoryOrder", testHistoryOrder},
		{"HistoryPaging", testHistoryPaging},
		{"HistoryCountCap", testHistoryCountCap},
		{"TenantIsolation", testBackendTenantIsolation},
		{"NoTenant", testBackendNoTenant},
		{"FnErrorRollsBackOnlyThatFn", testFnErrorRollsBack},
		{"ConcurrentWrites", testConcurrentWrites},
		{"ContextDoneBeforeStart", testContextDoneBeforeStart},
		{"WriteAfterClose", testWriteAfterClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newBackend(t, open))
		})
	}
}

// row makes a live row with a recognisable body.
func row(typ, id string, version int64, ts time.Time) store.Row {
	return store.Row{
		Type: typ, ID: id, Version: version, LastUpdated: ts,
		KeyID: "key-1", Body: []byte(fmt.Sprintf("sealed %s/%s/%d", typ, id, version)),
	}
}

// gone makes a deletion row.
func gone(typ, id string, version int64, ts time.Time) store.Row {
	return store.Row{Type: typ, ID: id, Version: version, LastUpdated: ts, Deleted: true}
}

// insert writes rows in one Write.
func insert(t *testing.T, b store.Backend, tenant string, rows ...store.Row) error {
	t.Helper()
	return b.Write(context.Background(), func(tx store.Tx) error {
		for _, r := range rows {
			if err := tx.Insert(tenant, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustInsert(t *testing.T, b store.Backend, tenant string, rows ...store.Row) {
	t.Helper()
	if err := insert(t, b, tenant, rows...); err != nil {
		t.Fatalf("insert: %v", err)
	}
}

func sameRow(t *testing.T, what string, got, want store.Row) {
	t.Helper()
	if got.Type != want.Type || got.ID != want.ID || got.Version != want.Version ||
		!got.LastUpdated.Equal(want.LastUpdated) || got.Deleted != want.Deleted ||
		got.KeyID != want.KeyID || !bytes.Equal(got.Body, want.Body) ||
		(got.Body == nil) != (want.Body == nil) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	if got.LastUpdated.Location() != time.UTC {
		t.Errorf("%s: LastUpdated in %v, want UTC", what, got.LastUpdated.Location())
	}
}

func testInsertVersionRules(t *testing.T, b store.Backend) {
	mustInsert(t, b, tenantA, row("Patient", "p", 1, t0))
	for _, v := range []int64{0, 1, 3, -1} {
		if err := insert(t, b, tenantA, row("Patient", "p", v, t0)); !errors.Is(err, store.ErrVersionConflict) {
			t.Errorf("insert version %d after 1: %v, want ErrVersionConflict", v, err)
		}
	}
	if err := insert(t, b, tenantA, row("Observation", "p", 2, t0)); !errors.Is(err, store.ErrVersionConflict) {
		t.Errorf("insert version 2 of a new resource: %v, want ErrVersionConflict", err)
	}
	// A deletion is a version; numbering continues after it.
	mustInsert(t, b, tenantA, gone("Patient", "p", 2, t0), row("Patient", "p", 3, t0))
	// Same id under another type is another resource.
	mustInsert(t, b, tenantA, row("Observation", "p", 1, t0))
	cur, err := b.Current(context.Background(), tenantA, "Patient", "p")
	if err != nil || cur.Version != 3 {
		t.Errorf("Current = v%d, %v; want v3", cur.Version, err)
	}
}

func testCurrentAndVersion(t *testing.T, b store.Backend) {
	ctx := context.Background()
	if _, err := b.Current(ctx, tenantA, "Patient", "p"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Current of missing: %v, want ErrNotFound", err)
	}
	if _, err := b.Version(ctx, tenantA, "Patient", "p", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Version of missing: %v, want ErrNotFound", err)
	}
	r1 := row("Patient", "p", 1, t0)
	r2 := gone("Patient", "p", 2, t0.Add(time.Second))
	mustInsert(t, b, tenantA, r1)
	mustInsert(t, b, tenantA, r2)

	cur, err := b.Current(ctx, tenantA, "Patient", "p")
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	sameRow(t, "Current (a deletion)", cur, r2)

	r3 := row("Patient", "p", 3, t0.Add(2*time.Second))
	mustInsert(t, b, tenantA, r3)
	cur, err = b.Current(ctx, tenantA, "Patient", "p")
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	sameRow(t, "Current", cur, r3)
	for _, want := range []store.Row{r1, r2, r3} {
		got, err := b.Version(ctx, tenantA, "Patient", "p", want.Version)
		if err != nil {
			t.Fatalf("Version %d: %v", want.Version, err)
		}
		sameRow(t, fmt.Sprintf("Version(%d)", want.Version), got, want)
	}
	if _, err := b.Version(ctx, tenantA, "Patient", "p", 4); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Version 4: %v, want ErrNotFound", err)
	}
	if _, err := b.Current(ctx, tenantA, "Observation", "p"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Current under another type: %v, want ErrNotFound", err)
	}
}

func testTxSeesOwnWrites(t *testing.T, b store.Backend) {
	err := b.Write(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Current(tenantA, "Patient", "p"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("Current before insert: %v, want ErrNotFound", err)
		}
		for v := int64(1); v <= 3; v++ {
			if err := tx.Insert(tenantA, row("Patient", "p", v, t0)); err != nil {
				return err
			}
			cur, err := tx.Current(tenantA, "Patient", "p")
			if err != nil || cur.Version != v {
				return fmt.Errorf("Current after insert v%d = v%d, %v", v, cur.Version, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// historyKey names a history row for comparisons.
func historyKey(h store.HistoryRow) string { return fmt.Sprintf("%s/%s/%d", h.Type, h.ID, h.Version) }

func historyKeys(rows []store.HistoryRow) []string {
	out := make([]string, len(rows))
	for i, h := range rows {
		out[i] = historyKey(h)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testHistoryOrder(t *testing.T, b store.Backend) {
	ctx := context.Background()
	t1, t2, t3 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	// Separate writes, so later rows get later sequence numbers; a1 and b1
	// share a timestamp, so the sequence decides (b1 is newer).
	for _, r := range []store.Row{
		row("Patient", "a", 1, t0),
		row("Patient", "b", 1, t0),
		row("Observation", "o", 1, t1),
		gone("Patient", "a", 2, t2),
		row("Patient", "a", 3, t3),
	} {
		mustInsert(t, b, tenantA, r)
	}
	tests := []struct {
		name string
		q    store.HistoryQuery
		want []string
	}{
		{"system", store.HistoryQuery{}, []string{"Patient/a/3", "Patient/a/2", "Observation/o/1", "Patient/b/1", "Patient/a/1"}},
		{"type", store.HistoryQuery{Type: "Patient"}, []string{"Patient/a/3", "Patient/a/2", "Patient/b/1", "Patient/a/1"}},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "a"}, []string{"Patient/a/3", "Patient/a/2", "Patient/a/1"}},
		{"since inclusive", store.HistoryQuery{Since: t1}, []string{"Patient/a/3", "Patient/a/2", "Observation/o/1"}},
		{"since between", store.HistoryQuery{Since: t1.Add(time.Nanosecond)}, []string{"Patient/a/3", "Patient/a/2"}},
		{"type since", store.HistoryQuery{Type: "Patient", Since: t1}, []string{"Patient/a/3", "Patient/a/2"}},
		{"count", store.HistoryQuery{Count: 2}, []string{"Patient/a/3", "Patient/a/2"}},
		{"missing instance", store.HistoryQuery{Type: "Patient", ID: "zz"}, nil},
	}
	for _, tt := range tests {
		rows, err := b.History(ctx, tenantA, tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := historyKeys(rows); !equalStrings(got, tt.want) {
			t.Errorf("%s: history = %v, want %v", tt.name, got, tt.want)
		}
	}
	rows, err := b.History(ctx, tenantA, store.HistoryQuery{Type: "Patient", ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rows {
		if h.Seq == 0 {
			t.Errorf("%s: Seq 0", historyKey(h))
		}
		if h.Deleted != (h.Body == nil) || h.Deleted != (h.KeyID == "") {
			t.Errorf("%s: Deleted %v with body %q key %q", historyKey(h), h.Deleted, h.Body, h.KeyID)
		}
	}
	if len(rows) == 3 {
		sameRow(t, "history a/3", rows[0].Row, row("Patient", "a", 3, t3))
		sameRow(t, "history a/2", rows[1].Row, gone("Patient", "a", 2, t2))
	}
}

// pageAll pages through q with the given page size and returns every row.
func pageAll(t *testing.T, b store.Backend, q store.HistoryQuery, size int) []store.HistoryRow {
	t.Helper()
	var all []store.HistoryRow
	q.Count = size
	for range 1000 {
		rows, err := b.History(context.Background(), tenantA, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
		if len(rows) < size {
			return all
		}
		last := rows[len(rows)-1]
		q.Before = store.Cursor{LastUpdated: last.LastUpdated, Seq: last.Seq}
	}
	t.Fatal("paging did not end")
	return nil
}

func testHistoryPaging(t *testing.T, b store.Backend) {
	// 30 versions over 10 resources, three to a timestamp, so pages split
	// groups of equal LastUpdated.
	var rows []store.Row
	for v := int64(1); v <= 3; v++ {
		for i := range 10 {
			rows = append(rows, row("Patient", fmt.Sprintf("p%d", i), v, t0.Add(time.Duration(len(rows)/3)*time.Millisecond)))
		}
	}
	for _, r := range rows {
		mustInsert(t, b, tenantA, r)
	}
	full, err := b.History(context.Background(), tenantA, store.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(rows) {
		t.Fatalf("history has %d rows, want %d", len(full), len(rows))
	}
	for i := 1; i < len(full); i++ {
		p, c := full[i-1], full[i]
		if c.LastUpdated.After(p.LastUpdated) || (c.LastUpdated.Equal(p.LastUpdated) && c.Seq >= p.Seq) {
			t.Fatalf("history not newest first at %d: %s then %s", i, historyKey(p), historyKey(c))
		}
	}
	for _, size := range []int{1, 4, 7, 30, 31} {
		got := pageAll(t, b, store.HistoryQuery{}, size)
		if !equalStrings(historyKeys(got), historyKeys(full)) {
			t.Errorf("pages of %d = %v, want %v", size, historyKeys(got), historyKeys(full))
		}
	}
	// Rows written after the first page was read do not shift later pages.
	first, err := b.History(context.Background(), tenantA, store.HistoryQuery{Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, b, tenantA, row("Patient", "late", 1, t0.Add(time.Hour)))
	last := first[len(first)-1]
	rest := pageAll(t, b, store.HistoryQuery{Before: store.Cursor{LastUpdated: last.LastUpdated, Seq: last.Seq}}, 10)
	if got := append(historyKeys(first), historyKeys(rest)...); !equalStrings(got, historyKeys(full)) {
		t.Errorf("pages across a concurrent write = %v, want %v", got, historyKeys(full))
	}
}

func testHistoryCountCap(t *testing.T, b store.Backend) {
	n := store.MaxHistoryCount + 10
	err := b.Write(context.Background(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.Insert(tenantA, row("Patient", fmt.Sprintf("p%d", i), 1, t0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ count, want int }{
		{0, store.MaxHistoryCount + 1},
		{-1, store.MaxHistoryCount + 1},
		{5000, store.MaxHistoryCount + 1},
		{store.MaxHistoryCount + 1, store.MaxHistoryCount + 1},
		{3, 3},
	} {
		rows, err := b.History(context.Background(), tenantA, store.HistoryQuery{Count: tt.count})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != tt.want {
			t.Errorf("Count %d: %d rows, want %d", tt.count, len(rows), tt.want)
		}
	}
}

func testBackendTenantIsolation(t *testing.T, b store.Backend) {
	ctx := context.Background()
	a1, a2 := row("Patient", "x", 1, t0), row("Patient", "x", 2, t0)
	mustInsert(t, b, tenantA, a1, a2)

	if _, err := b.Current(ctx, tenantB, "Patient", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B Current of A's resource: %v, want ErrNotFound", err)
	}
	if _, err := b.Version(ctx, tenantB, "Patient", "x", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B Version of A's resource: %v, want ErrNotFound", err)
	}
	for _, q := range []store.HistoryQuery{{}, {Type: "Patient"}, {Type: "Patient", ID: "x"}} {
		rows, err := b.History(ctx, tenantB, q)
		if err != nil || len(rows) != 0 {
			t.Errorf("tenant B History(%+v) = %v, %v; want nothing", q, historyKeys(rows), err)
		}
	}
	// Tenant B's Patient/x is its own resource, numbered from 1.
	b1 := store.Row{Type: "Patient", ID: "x", Version: 1, LastUpdated: t0, KeyID: "key-b", Body: []byte("tenant b")}
	err := b.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.Current(tenantB, "Patient", "x"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tenant B tx.Current of A's resource: %v, want ErrNotFound", err)
		}
		return tx.Insert(tenantB, b1)
	})
	if err != nil {
		t.Fatal(err)
	}
	gotA, err := b.Current(ctx, tenantA, "Patient", "x")
	if err != nil {
		t.Fatal(err)
	}
	sameRow(t, "tenant A Current", gotA, a2)
	gotB, err := b.Current(ctx, tenantB, "Patient", "x")
	if err != nil {
		t.Fatal(err)
	}
	sameRow(t, "tenant B Current", gotB, b1)
	rows, err := b.History(ctx, tenantB, store.HistoryQuery{})
	if err != nil || !equalStrings(historyKeys(rows), []string{"Patient/x/1"}) || !bytes.Equal(rows[0].Body, b1.Body) {
		t.Errorf("tenant B history = %v, %v; want only its own Patient/x/1", historyKeys(rows), err)
	}
}

func testBackendNoTenant(t *testing.T, b store.Backend) {
	ctx := context.Background()
	if _, err := b.Current(ctx, "", "Patient", "x"); !errors.Is(err, store.ErrNoTenant) {
		t.Errorf("Current: %v, want ErrNoTenant", err)
	}
	if _, err := b.Version(ctx, "", "Patient", "x", 1); !errors.Is(err, store.ErrNoTenant) {
		t.Errorf("Version: %v, want ErrNoTenant", err)
	}
	if _, err := b.History(ctx, "", store.HistoryQuery{}); !errors.Is(err, store.ErrNoTenant) {
		t.Errorf("History: %v, want ErrNoTenant", err)
	}
	var curErr, insErr error
	_ = b.Write(ctx, func(tx store.Tx) error {
		_, curErr = tx.Current("", "Patient", "x")
		insErr = tx.Insert("", row("Patient", "x", 1, t0))
		return nil
	})
	if !errors.Is(curErr, store.ErrNoTenant) {
		t.Errorf("Tx.Current: %v, want ErrNoTenant", curErr)
	}
	if !errors.Is(insErr, store.ErrNoTenant) {
		t.Errorf("Tx.Insert: %v, want ErrNoTenant", insErr)
	}
	rows, err := b.History(ctx, tenantA, store.HistoryQuery{})
	if err != nil || len(rows) != 0 {
		t.Errorf("after rejected inserts, history = %v, %v", historyKeys(rows), err)
	}
}

func testFnErrorRollsBack(t *testing.T, b store.Backend) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := b.Write(ctx, func(tx store.Tx) error {
		if err := tx.Insert(tenantA, row("Patient", "x", 1, t0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the callback's error", err)
	}
	if _, err := b.Current(ctx, tenantA, "Patient", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after failed Write, Current = %v; want ErrNotFound", err)
	}

	// Concurrent writes, every other one failing after its insert: the
	// failures keep nothing, the successes keep everything, whichever
	// commit they were grouped into.
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = b.Write(ctx, func(tx store.Tx) error {
				for v := int64(1); v <= 2; v++ {
					if err := tx.Insert(tenantA, row("Patient", fmt.Sprintf("c%d", i), v, t0)); err != nil {
						return err
					}
				}
				if i%2 == 1 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		cur, err := b.Current(ctx, tenantA, "Patient", fmt.Sprintf("c%d", i))
		if i%2 == 1 {
			if !errors.Is(errs[i], boom) {
				t.Errorf("write %d = %v, want boom", i, errs[i])
			}
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("failed write %d left a row: v%d, %v", i, cur.Version, err)
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("write %d = %v", i, errs[i])
		}
		if err != nil || cur.Version != 2 {
			t.Errorf("write %d: Current = v%d, %v; want v2", i, cur.Version, err)
		}
	}
}

func testConcurrentWrites(t *testing.T, b store.Backend) {
	// 50 goroutines, 10 writes each; every write adds a resource of its
	// own and the next version of a shared one (read, then insert).
	const goroutines, each = 50, 10
	ctx := context.Background()
	var wg sync.WaitGroup
	var fails atomic.Int64
	for g := range goroutines {
		wg.Go(func() {
			for j := range each {
				var err error
				for range 100 { // a backend may report a lost race as a conflict
					err = b.Write(ctx, func(tx store.Tx) error {
						if err := tx.Insert(tenantA, row("Observation", fmt.Sprintf("g%d-%d", g, j), 1, t0)); err != nil {
							return err
						}
						cur, err := tx.Current(tenantA, "Patient", "shared")
						if err != nil && !errors.Is(err, store.ErrNotFound) {
							return err
						}
						return tx.Insert(tenantA, row("Patient", "shared", cur.Version+1, t0))
					})
					if !errors.Is(err, store.ErrVersionConflict) {
						break
					}
				}
				if err != nil {
					fails.Add(1)
					t.Errorf("goroutine %d write %d: %v", g, j, err)
				}
			}
		})
	}
	wg.Wait()
	if fails.Load() > 0 {
		t.FailNow()
	}
	cur, err := b.Current(ctx, tenantA, "Patient", "shared")
	if err != nil || cur.Version != goroutines*each {
		t.Fatalf("shared Current = v%d, %v; want v%d", cur.Version, err, goroutines*each)
	}
	for v := int64(1); v <= goroutines*each; v++ {
		if _, err := b.Version(ctx, tenantA, "Patient", "shared", v); err != nil {
			t.Fatalf("shared version %d: %v", v, err)
		}
	}
	for g := range goroutines {
		for j := range each {
			if _, err := b.Current(ctx, tenantA, "Observation", fmt.Sprintf("g%d-%d", g, j)); err != nil {
				t.Fatalf("Observation g%d-%d: %v", g, j, err)
			}
		}
	}
	rows, err := b.History(ctx, tenantA, store.HistoryQuery{Count: store.MaxHistoryCount + 1})
	if err != nil || len(rows) != 2*goroutines*each {
		t.Errorf("history has %d rows, %v; want %d", len(rows), err, 2*goroutines*each)
	}
}

func testContextDoneBeforeStart(t *testing.T, b store.Backend) {
	ran := false
	fn := func(tx store.Tx) error {
		ran = true
		return tx.Insert(tenantA, row("Patient", "x", 1, t0))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Write(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with cancelled context = %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer dcancel()
	if err := b.Write(dctx, fn); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write past its deadline = %v, want context.DeadlineExceeded", err)
	}
	if ran {
		t.Error("callback ran although its context was done before it started")
	}
	if _, err := b.Current(context.Background(), tenantA, "Patient", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Current = %v, want ErrNotFound", err)
	}
}

func testWriteAfterClose(t *testing.T, b store.Backend) {
	mustInsert(t, b, tenantA, row("Patient", "x", 1, t0))
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ran := false
	err := b.Write(context.Background(), func(tx store.Tx) error { ran = true; return nil })
	if !errors.Is(err, store.ErrBusy) || ran {
		t.Errorf("Write after Close = %v (ran %v), want ErrBusy without running", err, ran)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
