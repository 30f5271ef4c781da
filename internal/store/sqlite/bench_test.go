package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/store/storetest"
)

// Benchmarks for docs/decisions/0002-sqlite.md. Run:
//
//	go test -run XXX -bench . -benchmem ./internal/store/...
//
// Every write is a Store.Write of one ~2 KiB resource, sealed with
// AES-256-GCM, so the figures include the crypto and JSON work.

// filler pads every benchmark resource to about 2 KiB of JSON.
var filler = strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 35)[:1950]

func benchDoc(i int64) *storetest.Doc {
	return storetest.NewDoc("Observation", "", map[string]any{
		"status":  "final",
		"subject": map[string]any{"reference": fmt.Sprintf("Patient/p%d", i%100)},
		"note":    []any{map[string]any{"text": filler}},
	})
}

func benchStore(b *testing.B, synchronous string, opts Options) (*store.Store, *DB) {
	b.Helper()
	db, err := open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), opts, synchronous)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return store.New(db, storetest.NewKeyring(), store.Options{}), db
}

func create(b *testing.B, s *store.Store, i int64) store.Result {
	res, err := s.Write(context.Background(), "bench", []store.Op{{Kind: store.OpCreate, Doc: benchDoc(i)}})
	if err != nil {
		b.Fatal(err)
	}
	return res[0]
}

func reportBatches(b *testing.B, db *DB, before Stats) {
	st := db.Stats()
	if n := st.Batches - before.Batches; n > 0 {
		b.ReportMetric(float64(st.Writes-before.Writes)/float64(n), "writes/commit")
	}
}

// BenchmarkCreate is one goroutine creating resources: every write waits
// for its own commit, so this is the per-commit cost.
func BenchmarkCreate(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			s, db := benchStore(b, sync, Options{})
			before := db.Stats()
			var i int64
			for b.Loop() {
				i++
				create(b, s, i)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			reportBatches(b, db, before)
		})
	}
}

// BenchmarkCreateParallel is many goroutines creating resources at once:
// group commit shares one fsync among all writes queued meanwhile.
func BenchmarkCreateParallel(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		for _, p := range []int{1, 4, 16, 64} {
			for _, maxBatch := range []int{0, 16} {
				name := fmt.Sprintf("sync=%s/goroutines=%dxGOMAXPROCS/maxbatch=%d", sync, p, Options{MaxBatch: maxBatch}.withDefaults().MaxBatch)
				if maxBatch != 0 && (p != 64 || sync != "FULL") {
					continue // batch cap matters only when the queue runs deep
				}
				b.Run(name, func(b *testing.B) {
					s, db := benchStore(b, sync, Options{MaxBatch: maxBatch})
					before := db.Stats()
					var i atomic.Int64
					b.SetParallelism(p)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							create(b, s, i.Add(1))
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
					reportBatches(b, db, before)
				})
			}
		}
	}
}

// BenchmarkRead is Store.Read (reader pool, decrypt) of random resources
// among 1,000.
func BenchmarkRead(b *testing.B) {
	s, _ := benchStore(b, "FULL", Options{})
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = create(b, s, int64(i)).Version.ID
	}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := s.Read(ctx, "bench", "Observation", ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var i atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Read(ctx, "bench", "Observation", ids[i.Add(1)%int64(len(ids))]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkHistory is one page of 100 versions from the type history.
func BenchmarkHistory(b *testing.B) {
	s, _ := benchStore(b, "NORMAL", Options{})
	for i := range int64(1000) {
		create(b, s, i)
	}
	ctx := context.Background()
	for b.Loop() {
		vs, _, err := s.History(ctx, "bench", store.HistoryQuery{Type: "Observation", Count: 100})
		if err != nil || len(vs) != 100 {
			b.Fatal(len(vs), err)
		}
	}
}

// randomTokens is an Indexer giving each document n distinct random
// tokens, as the blind index gives a typical Observation about 60.
type randomTokens struct {
	n   int
	seq atomic.Uint64
}

func (r *randomTokens) Tokens(_ context.Context, _ string, _ store.Document) ([]store.Token, error) {
	out := make([]store.Token, r.n)
	for i := range out {
		x := r.seq.Add(1) * 0x9E3779B97F4A7C15 // distinct, spread over the key space
		binary.BigEndian.PutUint64(out[i][:], x)
	}
	return out, nil
}

// BenchmarkImportIndexed is a bulk load: batches of 100 creates per Write,
// each resource with 60 index tokens, from 2 goroutines.
func BenchmarkImportIndexed(b *testing.B) {
	db, err := open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{}, "FULL")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := store.New(db, storetest.NewKeyring(), store.Options{Index: &randomTokens{n: 60}})
	var i atomic.Int64
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ops := make([]store.Op, 100)
			for k := range ops {
				ops[k] = store.Op{Kind: store.OpCreate, Doc: benchDoc(i.Add(1))}
			}
			if _, err := s.Write(context.Background(), "bench", ops); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "resources/s")
}
