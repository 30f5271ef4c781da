package ledger_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/journal"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// writeJournal appends events to the journal in dir, from position from,
// as a process that died before moving them would have left it, and
// returns the journal's end.
func writeJournal(t *testing.T, dir string, from uint64, events ...audit.Event) uint64 {
	t.Helper()
	j, err := journal.Open(dir, from, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs := make([][]byte, len(events))
	for i, e := range events {
		recs[i] = ledger.EncodeFields(e)
	}
	if _, err := j.Append(recs); err != nil {
		t.Fatal(err)
	}
	return j.End()
}

func TestJournalRecord(t *testing.T) {
	// With a journal, concurrent Records are acknowledged once journaled;
	// after Sync every event is a stored leaf, exactly once, the stored
	// journal position is the journal's end, and the ledger verifies.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	dir := filepath.Join(t.TempDir(), "journal")
	s, v := testKey(t)
	l := newLedger(t, db, s, v, ledger.Options{Journal: dir})
	ctx := context.Background()
	const writers, per = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				if err := l.Record(ctx, []audit.Event{event(w*per + i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := storedEvents(t, db)
	if len(got) != writers*per {
		t.Fatalf("%d leaves stored, want %d", len(got), writers*per)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.RequestID] {
			t.Fatalf("event %s stored twice", e.RequestID)
		}
		seen[e.RequestID] = true
	}
	pos, err := db.JournalPosition(ctx)
	if err != nil || pos == 0 {
		t.Fatalf("journal position %d, %v", pos, err)
	}
	if _, err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db, v, nil); rep.Verified != writers*per {
		t.Errorf("Verified = %d", rep.Verified)
	}
	// The directory is this ledger's: a second user is refused.
	if _, err := journal.Open(dir, pos, journal.Options{}); !errors.Is(err, journal.ErrBusy) {
		t.Errorf("second journal user: %v, want ErrBusy", err)
	}
	if _, err := ledger.New(ctx, db, s, v, ledger.Options{Journal: dir, Logger: quietLogger()}); !errors.Is(err, journal.ErrBusy) {
		t.Errorf("second ledger on the journal: %v, want ErrBusy", err)
	}
}

func TestJournalRecovery(t *testing.T) {
	// Events a crashed process journaled but never moved are moved when
	// the ledger opens, once: opening again moves nothing twice, and
	// events journaled after a partial move are moved from the stored
	// position on.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	dir := filepath.Join(t.TempDir(), "journal")
	s, v := testKey(t)
	ctx := context.Background()
	end := writeJournal(t, dir, 0, event(0), event(1), event(2))

	l, err := ledger.New(ctx, db, s, v, ledger.Options{Journal: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, []audit.Event{event(3)}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := storedEvents(t, db); len(got) != 4 || got[0].RequestID != "req-0" || got[2].RequestID != "req-2" || got[3].RequestID != "req-3" {
		t.Fatalf("after recovery: %d events %v", len(got), got)
	}
	pos, err := db.JournalPosition(ctx)
	if err != nil || pos <= end {
		t.Fatalf("journal position %d (%v), want past %d", pos, err, end)
	}

	// A second crash leaves two more events after the stored position.
	writeJournal(t, dir, pos, event(4), event(5))
	l = newLedger(t, db, s, v, ledger.Options{Journal: dir})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := storedEvents(t, db)
	if len(got) != 6 || got[4].RequestID != "req-4" || got[5].RequestID != "req-5" {
		t.Fatalf("after the second recovery: %d events", len(got))
	}
	if rep := mustVerify(t, db, v, nil); rep.Verified != 6 {
		t.Errorf("Verified = %d", rep.Verified)
	}
}

func TestJournalRecoveryRefusesGap(t *testing.T) {
	// A journal that starts after the stored position has lost
	// acknowledged events: the ledger does not open.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	dir := filepath.Join(t.TempDir(), "journal")
	s, v := testKey(t)
	writeJournal(t, dir, 1000, event(0))
	_, err := ledger.New(context.Background(), db, s, v, ledger.Options{Journal: dir, Logger: quietLogger()})
	if !errors.Is(err, journal.ErrCorrupt) {
		t.Fatalf("New over a journal with a gap: %v, want ErrCorrupt", err)
	}
	if got := storedEvents(t, db); len(got) != 0 {
		t.Errorf("%d events stored", len(got))
	}
}

// flakyStore refuses to move journaled events while fail is set.
type flakyStore struct {
	*sqlite.DB
	fail  atomic.Bool
	tries atomic.Int64
}

func (f *flakyStore) MoveLeaves(ctx context.Context, from, to uint64, n int, build func(uint64) ([][]byte, [][]byte, error)) (uint64, error) {
	f.tries.Add(1)
	if f.fail.Load() {
		return 0, errors.New("disk full")
	}
	return f.DB.MoveLeaves(ctx, from, to, n, build)
}

// journalWithStoreDown starts a journaled ledger over a store that
// refuses moves until f.fail is cleared.
func journalWithStoreDown(t *testing.T) (*sqlite.DB, *flakyStore, *ledger.Ledger) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	f := &flakyStore{DB: db}
	f.fail.Store(true)
	s, v := testKey(t)
	return db, f, newLedger(t, f, s, v, ledger.Options{Journal: filepath.Join(t.TempDir(), "journal")})
}

func TestJournalStoreOutage(t *testing.T) {
	// While the store refuses journaled events, Records are still
	// acknowledged (they are durable in the journal) and Sync waits;
	// once the store takes them again every event is stored, in order.
	db, f, l := journalWithStoreDown(t)
	ctx := context.Background()
	for i := range 5 {
		if err := l.Record(ctx, []audit.Event{event(i)}); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err := l.Sync(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sync during the outage: %v", err)
	}
	if f.tries.Load() == 0 {
		t.Fatal("the mover never tried the store")
	}
	if got := storedEvents(t, db); len(got) != 0 {
		t.Fatalf("%d events stored during the outage", len(got))
	}
	f.fail.Store(false)
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := storedEvents(t, db)
	if len(got) != 5 {
		t.Fatalf("%d events stored after the outage, want 5", len(got))
	}
	for i, e := range got {
		if e.RequestID != event(i).RequestID {
			t.Errorf("leaf %d is %s", i, e.RequestID)
		}
	}
}

func TestJournalBacklogFailsClosed(t *testing.T) {
	// A store that stays down does not let the journal grow without
	// bound: once the backlog is full, Records fail (the API answers 503).
	_, f, l := journalWithStoreDown(t)
	ctx := context.Background()
	batch := make([]audit.Event, 4096)
	for i := range batch {
		batch[i] = event(i)
	}
	var err error
	for i := 0; i < 64 && err == nil; i++ {
		err = l.Record(ctx, batch)
	}
	if !errors.Is(err, ledger.ErrBacklog) {
		t.Fatalf("Record with the store down: %v, want ErrBacklog", err)
	}
	f.fail.Store(false)
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, batch[:1]); err != nil {
		t.Fatalf("Record after the store recovered: %v", err)
	}
}

func TestJournalRefusesOversizeEvent(t *testing.T) {
	// An event too large for a journal record fails its own Record and
	// nothing else: the journal keeps taking events.
	db := openDB(t, filepath.Join(t.TempDir(), "ward.db"))
	s, v := testKey(t)
	l := newLedger(t, db, s, v, ledger.Options{Journal: filepath.Join(t.TempDir(), "journal")})
	ctx := context.Background()
	big := event(0)
	big.Query = strings.Repeat("q", journal.MaxRecord)
	if err := l.Record(ctx, []audit.Event{event(1), big}); err == nil {
		t.Fatal("oversize event recorded")
	}
	if err := l.Record(ctx, []audit.Event{event(2)}); err != nil {
		t.Fatalf("Record after the refused one: %v", err)
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storedEvents(t, db); len(got) != 1 || got[0].RequestID != "req-2" {
		t.Fatalf("stored %v", got)
	}
}
