package ledger_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

const origin = "ward.test/audit"

// seededReader is a deterministic randomness source for keys.
type seededReader struct{ r *rand.ChaCha8 }

func (s seededReader) Read(p []byte) (int, error) { return s.r.Read(p) }

// testKey returns a signing key pair for origin, created through the key
// file helpers.
func testKey(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.key")
	if _, err := ledger.CreateKeyFile(path, origin, seededReader{rand.NewChaCha8([32]byte{1})}); err != nil {
		t.Fatal(err)
	}
	s, v, err := ledger.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// otherKey is a different key with the same name: an attacker's.
func otherKey(t testing.TB) note.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(seededReader{rand.NewChaCha8([32]byte{2})}, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// event returns a distinct, realistic event.
func event(i int) audit.Event {
	return audit.Event{
		Time:       time.Date(2026, 11, 23, 10, 2, 11, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		Tenant:     "t1",
		ActorID:    fmt.Sprintf("u%d", i%7),
		ActorKind:  "user",
		Role:       "physician",
		Action:     audit.ActionRead,
		Subtype:    "read",
		EntityType: "Observation",
		EntityID:   fmt.Sprintf("obs-%d", i),
		Version:    1,
		Outcome:    200,
		SourceIP:   "10.0.0.4",
		UserAgent:  "ward-test/1.0",
		EntryPoint: "console",
		RequestID:  fmt.Sprintf("req-%d", i),
	}
}

func events(from, n int) []audit.Event {
	out := make([]audit.Event, n)
	for i := range out {
		out[i] = event(from + i)
	}
	return out
}

// openDB opens (creating) the SQLite database at path, closed at cleanup.
func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// quietLogger discards the ledger's logs.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// memSink keeps published notes; each publish is also sent on ch if set.
type memSink struct {
	mu    sync.Mutex
	notes [][]byte
	ch    chan []byte
}

func (m *memSink) Publish(_ context.Context, n []byte) error {
	m.mu.Lock()
	m.notes = append(m.notes, bytes.Clone(n))
	m.mu.Unlock()
	if m.ch != nil {
		m.ch <- n
	}
	return nil
}

func (m *memSink) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.notes)
}

// newLedger starts a ledger over db that never ticks on its own.
func newLedger(t testing.TB, db ledger.Store, s note.Signer, v note.Verifier, opts ledger.Options) *ledger.Ledger {
	t.Helper()
	if opts.Tick == nil {
		opts.Tick = make(chan time.Time) // never fires
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	l, err := ledger.New(context.Background(), db, s, v, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// fixture is a closed ledger database with n events and a checkpoint
// after every `every` events, and the checkpoint file its sink wrote.
type fixture struct {
	path     string
	signer   note.Signer
	verifier note.Verifier
	external []byte // the FileSink's file
}

func buildFixture(t testing.TB, n, every int) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{path: filepath.Join(dir, "ward.db")}
	f.signer, f.verifier = testKey(t)
	sinkPath := filepath.Join(dir, "checkpoints")
	sink, err := ledger.OpenFileSink(sinkPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), f.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(context.Background(), db, f.signer, f.verifier, ledger.Options{
		CheckpointEvents: 1 << 40, CheckpointInterval: 1 << 62, Tick: make(chan time.Time), Sinks: []ledger.Sink{sink}, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < n; i += every {
		if err := l.Record(ctx, events(i, min(every, n-i))); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if f.external, err = os.ReadFile(sinkPath); err != nil {
		t.Fatal(err)
	}
	return f
}

// raw opens the database file directly, as an attacker with file access
// would, with the append-only triggers dropped.
func (f *fixture) raw(t testing.TB) *sql.DB {
	t.Helper()
	raw := openRaw(t, f.path)
	for _, tr := range []string{"audit_leaves_no_update", "audit_leaves_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"} {
		mustExec(t, raw, `DROP TRIGGER `+tr)
	}
	return raw
}

// openRaw opens a plain database/sql handle on the file.
func openRaw(t testing.TB, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// verify opens the fixture's database and runs Verify.
func (f *fixture) verify(t testing.TB, external []byte) ledger.Report {
	t.Helper()
	db := openDB(t, f.path)
	rep, err := ledger.Verify(context.Background(), db, f.verifier, external)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
