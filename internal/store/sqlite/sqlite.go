// Package sqlite is the embedded store backend: one SQLite file in WAL mode,
// opened through the pure-Go modernc.org/sqlite driver (no cgo).
//
// A DB holds one writer connection (BEGIN IMMEDIATE) owned by a single
// goroutine that group-commits queued writes, and a pool of query_only
// reader connections. Besides store.Backend it implements
// keyring.KeyStore and auth.Store. Several processes (the server and a
// CLI command) may open the same file; busy_timeout makes them take turns.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Options tunes a DB. The zero value is the production setting.
type Options struct {
	// BusyTimeout is how long a connection waits for a lock held by
	// another process before failing with ErrBusy; default 5s.
	BusyTimeout time.Duration
	// Readers is the size of the reader pool; default 4.
	Readers int
	// QueueSize bounds the writes waiting for the writer; when full, Write
	// fails with store.ErrBusy. Default 1024.
	QueueSize int
	// MaxBatch bounds the writes group-committed in one transaction;
	// default 256.
	MaxBatch int
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	return o
}

// DB is an open ward SQLite database. It is safe for concurrent use.
type DB struct {
	w        *sql.DB // exactly one connection, used only by the writer goroutine
	r        *sql.DB // query_only pool
	ws       writerStmts
	rs       readerStmts
	maxBatch int

	// mu guards closed and the sends on queue, so Close can close queue
	// while no sender is mid-send.
	mu     sync.RWMutex
	closed bool
	queue  chan *request
	done   chan struct{} // closed when the writer goroutine has exited

	closeOnce sync.Once
	closeErr  error

	batches, writes atomic.Uint64
	largest         atomic.Int64
}

// Interfaces a DB implements.
var (
	_ store.Backend    = (*DB)(nil)
	_ keyring.KeyStore = (*DB)(nil)
	_ auth.Store       = (*DB)(nil)
)

// Page cache sizes, per connection (one writer, Options.Readers readers).
const (
	writerCacheKiB = 128 << 10
	readerCacheKiB = 32 << 10
)

// Open opens the database file at path, creating it with mode 0600 if
// absent, applies any pending schema migrations, and starts the writer. Commits are durable
// when acknowledged (synchronous=FULL). Close the DB when done.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	return open(ctx, path, opts, "FULL")
}

// open is Open with a choice of PRAGMA synchronous, so benchmarks can
// measure what FULL costs; production always uses FULL.
func open(ctx context.Context, path string, opts Options, synchronous string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, errors.New("sqlite: path must be a plain file name without '?' or '#'")
	}
	opts = opts.withDefaults()
	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)

	// Create a new file owner-only; SQLite gives the -wal and -shm files
	// the database file's mode. An existing file keeps its mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("sqlite: create: %w", err)
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: create: %w", err)
	}

	wq := url.Values{}
	wq.Set("_busy_timeout", busy)
	wq.Set("_journal_mode", "WAL")
	wq.Set("_synchronous", synchronous)
	wq.Set("_foreign_keys", "1")
	wq.Set("_txlock", "immediate")
	// The search index inserts rows at random places of a large B-tree:
	// SQLite's default 2 MiB page cache made the writer re-read pages on
	// most inserts once the index outgrew it.
	wq.Add("_pragma", "cache_size(-"+strconv.Itoa(writerCacheKiB)+")")
	// Savepoint journals and temporary tables stay in memory: on disk,
	// every savepoint of a group commit wrote its page images to a
	// temporary file (a syscall per page), and those images would be
	// copies of stored pages outside the database file.
	wq.Add("_pragma", "temp_store(MEMORY)")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrateRetrying(ctx, w); err != nil {
		w.Close()
		return nil, err
	}

	// Readers open after the writer has put the file in WAL mode.
	rq := url.Values{}
	rq.Set("_busy_timeout", busy)
	rq.Set("_foreign_keys", "1")
	rq.Set("_query_only", "1")
	rq.Add("_pragma", "cache_size(-"+strconv.Itoa(readerCacheKiB)+")")
	rq.Add("_pragma", "temp_store(MEMORY)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", mapErr(err))
	}

	d := &DB{
		w:        w,
		r:        r,
		maxBatch: opts.MaxBatch,
		queue:    make(chan *request, opts.QueueSize),
		done:     make(chan struct{}),
	}
	if err := errors.Join(d.ws.prepare(ctx, w), d.rs.prepare(ctx, r)); err != nil {
		_ = errors.Join(d.ws.close(), d.rs.close(), r.Close(), w.Close())
		return nil, err
	}
	go d.run()
	return d, nil
}

// Close stops taking writes, waits until every queued write has been
// committed (or failed) and answered, and closes the database. Later
// calls return the first call's result.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		close(d.queue)
		d.mu.Unlock()
		<-d.done
		d.closeErr = errors.Join(d.ws.close(), d.rs.close(), d.r.Close(), d.w.Close())
	})
	return d.closeErr
}

// Stats counts the writer's work since Open.
type Stats struct {
	Batches  uint64 // transactions committed or attempted
	Writes   uint64 // Write callbacks run (each in its own savepoint)
	MaxBatch int    // most callbacks in one transaction
}

// Stats reports the writer's counters; Writes/Batches is the mean group
// commit size.
func (d *DB) Stats() Stats {
	return Stats{Batches: d.batches.Load(), Writes: d.writes.Load(), MaxBatch: int(d.largest.Load())}
}
