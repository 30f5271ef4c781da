package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/store/storetest"
)

// openTemp opens a new database in a temporary directory, closed at the
// end of the test.
func openTemp(t testing.TB, opts Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ward.db")
	return openAt(t, path, opts), path
}

func openAt(t testing.TB, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		db, _ := openTemp(t, Options{})
		return db
	})
}

func TestKeyStoreConformance(t *testing.T) {
	storetest.RunKeyStore(t, func(t *testing.T) keyring.KeyStore {
		db, _ := openTemp(t, Options{})
		return db
	})
}

func TestAuthStoreConformance(t *testing.T) {
	storetest.RunAuthStore(t, func(t *testing.T) auth.Store {
		db, _ := openTemp(t, Options{})
		return db
	})
}

// rawDB opens a plain database/sql handle on the file, as an attacker or
// an operator with file access would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func TestPragmas(t *testing.T) {
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	pragma := func(q *sql.DB, name string) string {
		var v string
		if err := q.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for name, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "5000",
		"query_only":   "0",
		"cache_size":   "-131072",
	} {
		if got := pragma(db.w, name); got != want {
			t.Errorf("writer %s = %s, want %s", name, got, want)
		}
	}
	for name, want := range map[string]string{"query_only": "1", "busy_timeout": "5000", "journal_mode": "wal", "cache_size": "-32768"} {
		if got := pragma(db.r, name); got != want {
			t.Errorf("reader %s = %s, want %s", name, got, want)
		}
	}
	if _, err := db.r.ExecContext(ctx, `DELETE FROM resources`); err == nil {
		t.Error("a reader connection could write")
	}
	if got := db.r.Stats().MaxOpenConnections; got != 4 {
		t.Errorf("reader pool of %d, want 4", got)
	}
	if got := db.w.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer pool of %d, want 1", got)
	}
}

func TestOpenRejectsURIs(t *testing.T) {
	for _, p := range []string{"", "x.db?mode=memory", "file:x.db", "x#y.db"} {
		if db, err := Open(context.Background(), p, Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		db, err := Open(context.Background(), path, Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	raw := rawDB(t, path)
	rows, err := raw.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int64
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s", v, name))
	}
	if len(got) != len(ms) {
		t.Fatalf("schema_migrations = %v, want one row per migration (%d)", got, len(ms))
	}
	for i, m := range ms {
		if want := fmt.Sprintf("%d %s", m.version, m.name); got[i] != want {
			t.Errorf("migration row %d = %q, want %q", i, got[i], want)
		}
	}
}

func TestMigrationsConcurrentOpen(t *testing.T) {
	// Two processes opening a new file at once: both succeed, each
	// migration is applied once.
	path := filepath.Join(t.TempDir(), "ward.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(context.Background(), path, Options{})
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("schema_migrations has %d rows, %v; want %d", n, err, len(ms))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	db, path := openTemp(t, Options{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).Exec(`INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future')`); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(context.Background(), path, Options{}); err == nil {
		db.Close()
		t.Fatal("Open of a database from a newer program succeeded")
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	kr := storetest.NewKeyring()
	ctx := context.Background()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.New(db, kr, store.Options{}).Write(ctx, "t1", []store.Op{
		{Kind: store.OpCreate, Doc: storetest.NewDoc("Patient", "p1", map[string]any{"gender": "female"})},
		{Kind: store.OpCreate, Doc: storetest.NewDoc("Patient", "p2", nil)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.New(db, kr, store.Options{}).Write(ctx, "t1", []store.Op{{Kind: store.OpDelete, Type: "Patient", ID: "p2"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, Options{})
	s := store.New(db, kr, store.Options{})
	v, err := s.Read(ctx, "t1", "Patient", "p1")
	if err != nil || string(v.Body) != string(res[0].Version.Body) || !v.LastUpdated.Equal(res[0].Version.LastUpdated) {
		t.Errorf("after reopen, Read = %+v, %v; want %+v", v, err, res[0].Version)
	}
	if v, err := s.Read(ctx, "t1", "Patient", "p2"); !errors.Is(err, store.ErrGone) || v.VersionID != 2 {
		t.Errorf("after reopen, deleted Read = %+v, %v", v, err)
	}
}

func TestSwappedBodiesFailIntegrity(t *testing.T) {
	// Someone with write access to the file swaps two rows' sealed bodies
	// (and key ids). Each row then fails to open; neither shows the other's
	// content.
	db, path := openTemp(t, Options{})
	ctx := context.Background()
	s := store.New(db, storetest.NewKeyring(), store.Options{})
	const nameA, nameB = "Alice Canary", "Bob Canary"
	_, err := s.Write(ctx, "t1", []store.Op{
		{Kind: store.OpCreate, Doc: storetest.NewDoc("Patient", "a", map[string]any{"name": nameA})},
		{Kind: store.OpCreate, Doc: storetest.NewDoc("Patient", "b", map[string]any{"name": nameB})},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.Read(ctx, "t1", "Patient", id); err != nil {
			t.Fatalf("Read %s before the swap: %v", id, err)
		}
	}

	raw := rawDB(t, path)
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	type col struct {
		key  string
		body []byte
	}
	cols := map[string]col{}
	for _, id := range []string{"a", "b"} {
		var c col
		if err := tx.QueryRow(`SELECT key_id, body FROM resources WHERE tenant = 't1' AND type = 'Patient' AND id = ?`, id).Scan(&c.key, &c.body); err != nil {
			t.Fatal(err)
		}
		cols[id] = c
	}
	for id, from := range map[string]string{"a": "b", "b": "a"} {
		if _, err := tx.Exec(`UPDATE resources SET key_id = ?, body = ? WHERE tenant = 't1' AND type = 'Patient' AND id = ?`,
			cols[from].key, cols[from].body, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	for _, id := range []string{"a", "b"} {
		v, err := s.Read(ctx, "t1", "Patient", id)
		if !errors.Is(err, store.ErrIntegrity) {
			t.Errorf("Read %s after the swap = %v, want ErrIntegrity", id, err)
		}
		if v.Body != nil {
			t.Errorf("Read %s after the swap returned a body: %q", id, v.Body)
		}
		if _, err := s.VRead(ctx, "t1", "Patient", id, 1); !errors.Is(err, store.ErrIntegrity) {
			t.Errorf("VRead %s after the swap = %v, want ErrIntegrity", id, err)
		}
	}
}

func TestTwoHandlesOneFile(t *testing.T) {
	// The server and a CLI process write the same file at once; the
	// writers take turns (busy_timeout) and nothing is lost.
	path := filepath.Join(t.TempDir(), "ward.db")
	dbs := []*DB{openAt(t, path, Options{}), openAt(t, path, Options{})}
	ctx := context.Background()
	const each = 100
	var wg sync.WaitGroup
	for h, db := range dbs {
		for g := range 4 {
			wg.Go(func() {
				for i := range each / 4 {
					id := fmt.Sprintf("h%d-g%d-%d", h, g, i)
					err := db.Write(ctx, func(tx store.Tx) error {
						return tx.Insert("t1", store.Row{Type: "Patient", ID: id, Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")})
					})
					if err != nil {
						t.Errorf("handle %d: %v", h, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for _, db := range dbs {
		rows, err := db.History(ctx, "t1", store.HistoryQuery{})
		if err != nil || len(rows) != 2*each {
			t.Errorf("history has %d rows, %v; want %d", len(rows), err, 2*each)
		}
	}
}

// blockWriter occupies the writer goroutine until the returned func is
// called, so tests can queue requests behind it.
func blockWriter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Write(context.Background(), func(tx store.Tx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("blocking write: %v", err)
		}
	}
}

// waitQueued waits until n requests are queued for the writer.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(db.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(db.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGroupCommit(t *testing.T) {
	// Requests queued while a commit is running share the next one; a
	// failing request in the batch does not disturb the others.
	db, _ := openTemp(t, Options{})
	release := blockWriter(t, db)
	const n = 50
	boom := errors.New("boom")
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Write(context.Background(), func(tx store.Tx) error {
				if err := tx.Insert("t1", store.Row{Type: "Patient", ID: fmt.Sprint("p", i), Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")}); err != nil {
					return err
				}
				if i%5 == 0 {
					return boom
				}
				return nil
			})
		})
	}
	waitQueued(t, db, n)
	before := db.Stats()
	release()
	wg.Wait()
	after := db.Stats()
	if got := after.Batches - before.Batches; got != 1 { // the blocker's had begun already
		t.Errorf("%d transactions for %d queued writes, want 1", got, n)
	}
	if after.MaxBatch != n {
		t.Errorf("largest batch %d, want %d", after.MaxBatch, n)
	}
	rows, err := db.History(context.Background(), "t1", store.HistoryQuery{})
	if err != nil || len(rows) != n-n/5 {
		t.Errorf("history has %d rows, %v; want %d", len(rows), err, n-n/5)
	}
	for i, err := range errs {
		if (i%5 == 0) != errors.Is(err, boom) || (i%5 != 0 && err != nil) {
			t.Errorf("write %d = %v", i, err)
		}
	}
}

func TestMaxBatch(t *testing.T) {
	db, _ := openTemp(t, Options{MaxBatch: 8})
	release := blockWriter(t, db)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := db.Write(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		})
	}
	waitQueued(t, db, 20)
	release()
	wg.Wait()
	if st := db.Stats(); st.MaxBatch != 8 || st.Batches != 1+3 {
		t.Errorf("stats %+v, want batches of at most 8 (1+3 transactions)", st)
	}
}

func TestQueueFull(t *testing.T) {
	db, _ := openTemp(t, Options{QueueSize: 2})
	release := blockWriter(t, db)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := db.Write(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
				t.Errorf("queued write: %v", err)
			}
		})
	}
	waitQueued(t, db, 2)
	if err := db.Write(context.Background(), func(tx store.Tx) error { return nil }); !errors.Is(err, store.ErrBusy) {
		t.Errorf("write to a full queue = %v, want ErrBusy", err)
	}
	release()
	wg.Wait()
}

func TestCancelWhileQueued(t *testing.T) {
	// A caller that gives up while queued gets ctx.Err() and its callback
	// never runs.
	db, _ := openTemp(t, Options{})
	release := blockWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- db.Write(ctx, func(tx store.Tx) error { ran <- struct{}{}; return nil })
	}()
	waitQueued(t, db, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Write = %v, want context.Canceled", err)
	}
	release()
	// A later write runs after the cancelled one was skipped.
	if err := db.Write(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Error("cancelled callback ran")
	default:
	}
}

func TestCancelWhileRunningWaitsForCommit(t *testing.T) {
	// Once a callback has started, cancelling its context does not abandon
	// it: Write reports the commit's outcome, and the row is there.
	db, _ := openTemp(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	err := db.Write(ctx, func(tx store.Tx) error {
		cancel()
		return tx.Insert("t1", store.Row{Type: "Patient", ID: "p", Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")})
	})
	if err != nil {
		t.Fatalf("Write = %v, want nil (committed)", err)
	}
	if _, err := db.Current(context.Background(), "t1", "Patient", "p"); err != nil {
		t.Errorf("Current = %v", err)
	}
}

func TestCloseDrainsQueue(t *testing.T) {
	db, path := openTemp(t, Options{})
	release := blockWriter(t, db)
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Write(context.Background(), func(tx store.Tx) error {
				return tx.Insert("t1", store.Row{Type: "Patient", ID: fmt.Sprint("p", i), Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")})
			})
		})
	}
	waitQueued(t, db, n)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d queued before Close = %v, want nil", i, err)
		}
	}
	db2 := openAt(t, path, Options{})
	rows, err := db2.History(context.Background(), "t1", store.HistoryQuery{})
	if err != nil || len(rows) != n {
		t.Errorf("after Close and reopen, %d rows, %v; want %d", len(rows), err, n)
	}
}

func TestPanicInCallback(t *testing.T) {
	db, _ := openTemp(t, Options{})
	func() {
		defer func() {
			if v := recover(); v != "kaboom" {
				t.Errorf("recovered %v, want the callback's panic", v)
			}
		}()
		_ = db.Write(context.Background(), func(tx store.Tx) error {
			_ = tx.Insert("t1", store.Row{Type: "Patient", ID: "p", Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")})
			panic("kaboom")
		})
	}()
	if _, err := db.Current(context.Background(), "t1", "Patient", "p"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("panicking callback's insert kept: %v", err)
	}
	if err := db.Write(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
		t.Errorf("writer dead after a panic: %v", err)
	}
}

func TestTxUnusableAfterCallback(t *testing.T) {
	db, _ := openTemp(t, Options{})
	var kept store.Tx
	if err := db.Write(context.Background(), func(tx store.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kept.Insert("t1", store.Row{Type: "Patient", ID: "p", Version: 1, KeyID: "k", Body: []byte("x")}); err == nil {
		t.Error("Insert through a Tx after its callback returned succeeded")
	}
}

func TestInsertRowShape(t *testing.T) {
	db, _ := openTemp(t, Options{})
	for name, r := range map[string]store.Row{
		"deletion with body":  {Type: "Patient", ID: "p", Version: 1, Deleted: true, Body: []byte("x")},
		"live without body":   {Type: "Patient", ID: "p", Version: 1, KeyID: "k"},
		"live without key id": {Type: "Patient", ID: "p", Version: 1, Body: []byte("x")},
		"no type":             {ID: "p", Version: 1, KeyID: "k", Body: []byte("x")},
	} {
		err := db.Write(context.Background(), func(tx store.Tx) error { return tx.Insert("t1", r) })
		if err == nil {
			t.Errorf("%s: Insert succeeded", name)
		}
	}
}

func TestPutTokenNeedsClient(t *testing.T) {
	db, _ := openTemp(t, Options{})
	err := db.PutToken(context.Background(), auth.Token{Hash: []byte("h"), ClientID: "nobody", Tenant: "t1", Expires: time.Now()})
	if !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("PutToken for a missing client = %v, want ErrNotFound", err)
	}
}

func TestCreateKeyIDClash(t *testing.T) {
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	k := keyring.StoredKey{Tenant: "t1", ID: "k1", Name: "a", WrappedBy: "kek", Wrapped: []byte("w")}
	if _, err := db.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	k.Name = "b"
	if _, err := db.CreateKey(ctx, k); err == nil {
		t.Error("CreateKey reusing a key id under another name succeeded")
	}
}

func TestQueryPlans(t *testing.T) {
	// Every hot query is an index search, never a table or index scan.
	db, _ := openTemp(t, Options{})
	cursor := store.Cursor{LastUpdated: time.Now(), Seq: 9}
	tests := []struct {
		name      string
		q         store.HistoryQuery
		wantIndex string
	}{
		{"system", store.HistoryQuery{Before: cursor}, "resources_tenant_history"},
		{"type", store.HistoryQuery{Type: "Patient", Since: time.Now(), Before: cursor}, "resources_type_history"},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "p", Before: cursor}, "resources_version"},
	}
	plan := func(query string, args ...any) string {
		t.Helper()
		rows, err := db.r.Query("EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, "; ")
	}
	for _, tt := range tests {
		query, args := historyQuery("t1", tt.q)
		if p := plan(query, args...); !strings.Contains(p, "SEARCH resources USING") || !strings.Contains(p, tt.wantIndex) {
			t.Errorf("%s history plan = %q, want a search of %s", tt.name, p, tt.wantIndex)
		}
	}
	for name, query := range map[string]string{"current": sqlCurrent, "version": sqlVersion, "insert": sqlInsert} {
		if p := plan(query, "t1", "Patient", "p", 1, 2, 3, 4, 5); !strings.Contains(p, "resources_version") || strings.Contains(p, "SCAN resources") {
			t.Errorf("%s plan = %q, want a search of resources_version", name, p)
		}
	}
}

func TestNewFileIsOwnerOnly(t *testing.T) {
	db, path := openTemp(t, Options{})
	if err := db.Write(context.Background(), func(tx store.Tx) error {
		return tx.Insert("t1", store.Row{Type: "Patient", ID: "p", Version: 1, LastUpdated: time.Now(), KeyID: "k", Body: []byte("x")})
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), mode)
		}
	}
}
