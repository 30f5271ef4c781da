package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// storedEvents decodes every stored leaf, checking indices are 0, 1, ...
func storedEvents(t *testing.T, db ledger.Reader) []audit.Event {
	t.Helper()
	var out []audit.Event
	err := db.ScanLeaves(context.Background(), 0, 1<<62, func(index uint64, data, hash []byte) error {
		i, e, err := ledger.DecodeLeaf(data)
		if err != nil {
			return err
		}
		if index != uint64(len(out)) || i != index {
			return fmt.Errorf("row %d: key %d, encoded index %d", len(out), index, i)
		}
		if !bytes.Equal(ledger.HashLeaf(data), hash) {
			return fmt.Errorf("leaf %d: stored hash is not its leaf hash", index)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustVerify(t *testing.T, db ledger.Reader, v interface {
	Name() string
	KeyHash() uint32
	Verify(msg, sig []byte) bool
}, external []byte) ledger.Report {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), db, v, external)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("Verify: %+v", rep)
	}
	return rep
}

func TestRecord(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	l := newLedger(t, db, s, v, ledger.Options{})
	ctx := context.Background()
	var want []audit.Event
	for i, n := range []int{1, 5, 2} {
		evs := events(10*i, n)
		if err := l.Record(ctx, evs); err != nil {
			t.Fatal(err)
		}
		want = append(want, evs...)
	}
	if err := l.Record(ctx, nil); err != nil {
		t.Errorf("Record of no events: %v", err)
	}
	if got := storedEvents(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("stored events differ from recorded:\n got %+v\nwant %+v", got, want)
	}
	signed, err := l.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledger.OpenCheckpoint(signed, v)
	if err != nil || c.Size != uint64(len(want)) || l.Size() != c.Size || !bytes.Equal(l.Latest(), signed) {
		t.Errorf("checkpoint %+v, %v; Size %d", c, err, l.Size())
	}
	if rep := mustVerify(t, db, v, nil); rep.Verified != uint64(len(want)) {
		t.Errorf("Verified = %d", rep.Verified)
	}
}

// gateStore signals each AppendLeaves call as it starts.
type gateStore struct {
	*sqlite.DB
	entered chan struct{}
}

func (g *gateStore) AppendLeaves(ctx context.Context, n int, build func(uint64) ([][]byte, [][]byte, error)) (uint64, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	return g.DB.AppendLeaves(ctx, n, build)
}

func TestRecordGroupCommit(t *testing.T) {
	// Concurrent Records share transactions: while the database is busy,
	// 64 Records queue up and are appended together, each Record's events
	// get consecutive indices, and every event is stored exactly once.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	const n, per = 64, 3
	g := &gateStore{DB: db, entered: make(chan struct{}, 1)}
	l := newLedger(t, g, s, v, ledger.Options{})
	ctx := context.Background()

	started, unblock, blocked := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		blocked <- db.Write(ctx, func(store.Tx) error { close(started); <-unblock; return nil })
	}()
	<-started
	before := db.Stats()
	errs := make([]error, n)
	ready := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ready <- struct{}{}
			errs[i] = l.Record(ctx, events(per*i, per))
		})
	}
	for range n {
		<-ready
	}
	<-g.entered // the first batch waits for the database; the rest queue behind it
	close(unblock)
	wg.Wait()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
	commits := db.Stats().Batches - before.Batches
	t.Logf("%d Records in %d commits", n, commits)
	if commits > 8 { // typically 2: the first Record's batch, then all the others
		t.Errorf("%d commits for %d concurrent Records: not group-committed", commits, n)
	}
	got := storedEvents(t, db) // gapless, in index order
	if len(got) != n*per {
		t.Fatalf("%d events stored, want %d", len(got), n*per)
	}
	seen := make(map[string]int)
	for i, e := range got {
		seen[e.RequestID]++
		// A Record's events are consecutive: req-3k, req-3k+1, req-3k+2.
		if i%per != 0 && got[i-1].RequestID != fmt.Sprintf("req-%d", atoi(t, e.RequestID)-1) {
			t.Errorf("leaf %d (%s) does not follow %s", i, e.RequestID, got[i-1].RequestID)
		}
	}
	for i := range n * per {
		if c := seen[fmt.Sprintf("req-%d", i)]; c != 1 {
			t.Errorf("event req-%d stored %d times", i, c)
		}
	}
	if _, err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, db, v, nil)
}

func atoi(t *testing.T, reqID string) int {
	var n int
	if _, err := fmt.Sscanf(reqID, "req-%d", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordFailsClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, v := testKey(t)
	l := newLedger(t, db, s, v, ledger.Options{})
	ctx := context.Background()

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Record(cancelled, events(0, 1)); err == nil {
		t.Error("Record with a cancelled context succeeded")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, events(0, 1)); err == nil {
		t.Error("Record on a closed database succeeded")
	}
	l.Close()
	if err := l.Record(ctx, events(0, 1)); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Record after Close: %v", err)
	}
	if _, err := l.Flush(ctx); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
	db = openDB(t, path)
	if got := storedEvents(t, db); len(got) != 0 {
		t.Errorf("failed Records stored %d events", len(got))
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

func TestCheckpointCadence(t *testing.T) {
	// A checkpoint is signed 10s after the last one if events were added,
	// or as soon as 1000 events were added; never for nothing. The clock
	// and the ticker are fakes: nothing sleeps.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	tick := make(chan time.Time)
	sink := &memSink{ch: make(chan []byte, 10)}
	l := newLedger(t, db, s, v, ledger.Options{Now: clock.Now, Tick: tick, Sinks: []ledger.Sink{sink}})
	ctx := context.Background()

	// tickAt advances the clock and ticks; the second send returns only
	// once the integrator has finished handling the first.
	tickAt := func(d time.Duration) {
		now := clock.Advance(d)
		tick <- now
		tick <- now
	}
	published := 0 // checkpoints so far
	expect := func(size uint64) {
		t.Helper()
		select {
		case n := <-sink.ch:
			if c, err := ledger.OpenCheckpoint(n, v); err != nil || c.Size != size {
				t.Fatalf("checkpoint %+v, %v; want size %d", c, err, size)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no checkpoint of size %d", size)
		}
	}
	expectNone := func() {
		t.Helper()
		if n := sink.count(); n != published {
			t.Fatalf("%d checkpoints published, want %d", n, published)
		}
	}

	if err := l.Record(ctx, events(0, 5)); err != nil {
		t.Fatal(err)
	}
	tickAt(9 * time.Second)
	expectNone()
	tickAt(time.Second) // 10s since start
	expect(5)
	published++

	tickAt(30 * time.Second) // nothing new: no checkpoint
	expectNone()

	// 30s after the last checkpoint, a new event is signed at once.
	if err := l.Record(ctx, events(5, 1)); err != nil {
		t.Fatal(err)
	}
	expect(6)
	published++

	if err := l.Record(ctx, events(6, 998)); err != nil { // 998 new events, 0s later
		t.Fatal(err)
	}
	tickAt(0)
	expectNone()
	if err := l.Record(ctx, events(1004, 2)); err != nil { // the 1000th
		t.Fatal(err)
	}
	expect(1006) // by count, without a tick
	published++
	tickAt(9 * time.Second)
	expectNone()
}

func TestRestartResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	s, v := testKey(t)
	ctx := context.Background()
	db := openDB(t, path)
	l := newLedger(t, db, s, v, ledger.Options{})
	if err := l.Record(ctx, events(0, 500)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil { // signs the final checkpoint
		t.Fatal(err)
	}
	first := l.Latest()
	if err := l.Record(ctx, events(500, 1)); !errors.Is(err, ledger.ErrClosed) {
		t.Fatalf("Record after Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	c := &countingStore{DB: db}
	l = newLedger(t, c, s, v, ledger.Options{})
	if l.Size() != 500 || !bytes.Equal(l.Latest(), first) {
		t.Fatalf("after restart: Size %d, latest %q", l.Size(), l.Latest())
	}
	if err := l.Record(ctx, events(500, 20)); err != nil {
		t.Fatal(err)
	}
	signed, err := l.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := ledger.OpenCheckpoint(signed, v); err != nil || cp.Size != 520 {
		t.Fatalf("checkpoint after restart: %+v, %v", cp, err)
	}
	if n := c.rows.Load(); n != 20 {
		t.Errorf("the integrator read %d leaves after restart, want only the 20 new ones", n)
	}
	mustVerify(t, db, v, nil)
	if l.Err() != nil {
		t.Error(l.Err())
	}
}

// countingStore counts the leaves read through it.
type countingStore struct {
	*sqlite.DB
	rows atomic.Int64
}

func (c *countingStore) ScanLeaves(ctx context.Context, start, end uint64, fn func(uint64, []byte, []byte) error) error {
	return c.DB.ScanLeaves(ctx, start, end, func(i uint64, d, h []byte) error {
		c.rows.Add(1)
		return fn(i, d, h)
	})
}

func TestRestartChecksStoredState(t *testing.T) {
	// On restart without usable state, the tree is rebuilt from the leaves
	// and must reproduce the last signed checkpoint before anything new is
	// signed; stored data that contradicts the checkpoints stops signing.
	tests := []struct {
		name    string
		tamper  func(t *testing.T, f *fixture)
		wantErr string // "" = healthy
	}{
		{"state lost", func(t *testing.T, f *fixture) {
			mustExec(t, f.raw(t), `DELETE FROM audit_state`)
		}, ""},
		{"state corrupt", func(t *testing.T, f *fixture) {
			mustExec(t, f.raw(t), `UPDATE audit_state SET state = x'0102'`)
		}, ""},
		{"state lost and a leaf rewritten", func(t *testing.T, f *fixture) {
			raw := f.raw(t)
			forged := forgedLeaf(t, raw, 7)
			setLeaf(t, raw, 7, forged, ledger.HashLeaf(forged))
			mustExec(t, raw, `DELETE FROM audit_state`)
		}, "do not reproduce the checkpoint"},
		{"state lost and a leaf edited", func(t *testing.T, f *fixture) {
			raw := f.raw(t)
			_, h := leafRow(t, raw, 7)
			setLeaf(t, raw, 7, forgedLeaf(t, raw, 7), h)
			mustExec(t, raw, `DELETE FROM audit_state`)
		}, "does not match its hash"},
		{"truncated", func(t *testing.T, f *fixture) {
			raw := f.raw(t)
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx >= 25`)
			mustExec(t, raw, `DELETE FROM audit_state`)
		}, "truncated"},
		{"checkpoints deleted", func(t *testing.T, f *fixture) {
			mustExec(t, f.raw(t), `DELETE FROM audit_checkpoints`)
		}, "checkpoints were deleted"},
		{"checkpoint forged", func(t *testing.T, f *fixture) {
			n, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: 40, Hash: make([]byte, 32)}, otherKey(t))
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, f.raw(t), `INSERT INTO audit_checkpoints (size, note) VALUES (40, ?)`, n)
		}, "latest stored checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := buildFixture(t, 30, 10)
			tt.tamper(t, f)
			db := openDB(t, f.path)
			l := newLedger(t, db, f.signer, f.verifier, ledger.Options{})
			ctx := context.Background()
			if err := l.Record(ctx, events(100, 3)); err != nil {
				t.Fatalf("Record must keep working: %v", err)
			}
			before := l.Latest()
			_, err := l.Flush(ctx)
			if tt.wantErr == "" {
				if err != nil || l.Err() != nil {
					t.Fatalf("Flush: %v; Err: %v", err, l.Err())
				}
				if c, err := ledger.OpenCheckpoint(l.Latest(), f.verifier); err != nil || c.Size != 33 {
					t.Errorf("latest checkpoint %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, ledger.ErrIntegrity) || !errors.Is(l.Err(), ledger.ErrIntegrity) || !strings.Contains(l.Err().Error(), tt.wantErr) {
				t.Fatalf("Flush: %v; Err: %v; want ErrIntegrity mentioning %q", err, l.Err(), tt.wantErr)
			}
			if !bytes.Equal(l.Latest(), before) {
				t.Error("a checkpoint was signed over tampered data")
			}
		})
	}
}

func TestAppendTxCommitsWithData(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	l := newLedger(t, db, s, v, ledger.Options{})
	ctx := context.Background()
	write := func(id string, fail error) error {
		return db.Write(ctx, func(tx store.Tx) error {
			if err := tx.Insert("t1", store.Row{Type: "Patient", ID: id, Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("sealed")}); err != nil {
				return err
			}
			ta, ok := tx.(ledger.TxAppender)
			if !ok {
				return errors.New("the SQLite store.Tx does not implement ledger.TxAppender")
			}
			e := event(0)
			e.Action, e.EntityType, e.EntityID = audit.ActionCreate, "Patient", id
			if _, err := ledger.AppendTx(ta, []audit.Event{e}); err != nil {
				return err
			}
			return fail
		})
	}
	if err := write("p1", nil); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := write("p2", boom); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := write("p3", nil); err != nil {
		t.Fatal(err)
	}
	l.Notify()
	if err := l.Record(ctx, events(9, 1)); err != nil {
		t.Fatal(err)
	}
	got := storedEvents(t, db)
	ids := make([]string, len(got))
	for i, e := range got {
		ids[i] = e.EntityID
	}
	if want := []string{"p1", "p3", "obs-9"}; !slices.Equal(ids, want) {
		t.Errorf("stored events for %v, want %v (the failed write's event rolled back with it)", ids, want)
	}
	signed, err := l.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := ledger.OpenCheckpoint(signed, v); err != nil || c.Size != 3 {
		t.Errorf("checkpoint %+v, %v", c, err)
	}
	mustVerify(t, db, v, nil)
}

// failingSink always fails.
type failingSink struct{}

func (failingSink) Publish(context.Context, []byte) error { return errors.New("disk full") }

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestSinkFailureIsLoggedNotFatal(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	var logs logBuffer
	good := &memSink{}
	l := newLedger(t, db, s, v, ledger.Options{
		Sinks:  []ledger.Sink{failingSink{}, good},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	if err := l.Record(ctx, events(0, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if good.count() != 1 {
		t.Errorf("the working sink got %d checkpoints", good.count())
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("sink failure not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "obs-") || strings.Contains(logs.String(), "req-") {
		t.Errorf("the log mentions event contents: %q", logs.String())
	}
	mustVerify(t, db, v, nil) // stored in the database regardless
}

func TestNewRejectsMismatchedKeys(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	_, v := testKey(t)
	if _, err := ledger.New(context.Background(), db, otherKey(t), v, ledger.Options{}); err == nil {
		t.Error("New accepted a verifier for another key")
	}
}

func TestDefaultTickerStops(t *testing.T) {
	// With the real ticker, Close stops the integrator and its ticker.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	l, err := ledger.New(context.Background(), db, s, v, ledger.Options{CheckpointInterval: 10 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(context.Background(), events(0, 2)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if c, err := ledger.OpenCheckpoint(l.Latest(), v); err != nil || c.Size != 2 {
		t.Errorf("final checkpoint %+v, %v", c, err)
	}
}
