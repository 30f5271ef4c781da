package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
)

// Benchmarks for docs/decisions/0005-audit-ledger.md. Run:
//
//	go test -run XXX -bench . -benchmem ./internal/audit/ledger/
//
// SQLite with synchronous=FULL (the production setting) in a temporary
// directory; the integrator runs and signs checkpoints meanwhile.

// BenchmarkRecord is many concurrent recorders (HTTP requests), each
// recording one event and waiting until it is durable: appended to the
// store ("store", as for CLI commands), or to the journal ("journal", as
// in ward serve), in which case the time includes moving every event
// into the store (a Sync at the end).
func BenchmarkRecord(b *testing.B) {
	for _, path := range []string{"store", "journal"} {
		for _, recorders := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("%s/recorders=%d", path, recorders), func(b *testing.B) {
				benchRecord(b, path == "journal", recorders)
			})
		}
	}
}

func benchRecord(b *testing.B, journaled bool, recorders int) {
	db := openDB(b, filepath.Join(b.TempDir(), "ward.db"))
	s, v := testKey(b)
	opts := ledger.Options{Logger: quietLogger()}
	if journaled {
		opts.Journal = filepath.Join(b.TempDir(), "journal")
	}
	l, err := ledger.New(context.Background(), db, s, v, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	evs := make([][]audit.Event, 1024)
	for i := range evs {
		evs[i] = []audit.Event{event(i)}
	}
	before := db.Stats()
	var next atomic.Int64
	n := int64(b.N)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range recorders {
		wg.Go(func() {
			for i := next.Add(1); i <= n; i = next.Add(1) {
				if err := l.Record(context.Background(), evs[i%1024]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if st := db.Stats(); st.Batches > before.Batches {
		b.ReportMetric(float64(b.N)/float64(st.Batches-before.Batches), "events/commit")
	}
}

// BenchmarkVerify verifies a ledger of WARD_BENCH_VERIFY_EVENTS events
// (default 1,000,000) and reports the time extrapolated to ten million.
func BenchmarkVerify(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("WARD_BENCH_VERIFY_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("WARD_BENCH_VERIFY_EVENTS=%q", s)
		}
	}
	path := filepath.Join(b.TempDir(), "ward.db")
	db := openDB(b, path)
	s, v := testKey(b)
	l, err := ledger.New(context.Background(), db, s, v, ledger.Options{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const batch = 10_000
	evs := events(0, batch)
	for i := 0; i < n; i += batch {
		if err := l.Record(ctx, evs[:min(batch, n-i)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	var dbBytes int64
	if fi, err := os.Stat(path); err == nil {
		dbBytes = fi.Size()
	}
	for b.Loop() {
		rep, err := ledger.Verify(ctx, db, v, nil)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() || rep.Leaves != uint64(n) || rep.Verified != uint64(n) {
			b.Fatalf("report %+v", rep)
		}
	}
	perEvent := b.Elapsed().Seconds() / float64(b.N) / float64(n)
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "events/s")
	b.ReportMetric(perEvent*10_000_000, "s/10M-events")
	b.ReportMetric(float64(dbBytes)/float64(n), "db-bytes/event")
}
