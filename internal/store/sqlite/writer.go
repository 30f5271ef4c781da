package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/wardhealth/ward/internal/store"
)

// Group commit. Write enqueues a request; the writer goroutine (run) takes
// every request already queued, up to MaxBatch, and runs them in one
// BEGIN IMMEDIATE ... COMMIT, each callback inside its own SAVEPOINT so a
// failing callback is rolled back alone. One fsync then makes the whole
// batch durable, and every caller is answered after it.
//
// The writer runs SQL under its own never-cancelled context: cancelling a
// statement interrupts the connection, and SQLite may then roll back the
// whole transaction, which would undo other callers' work.

// Request states: a request runs only if the writer moves it from pending
// to started; a caller whose context ends first moves it to cancelled.
const (
	pending int32 = iota
	started
	cancelled
)

// request is one queued Write.
type request struct {
	ctx   context.Context
	fn    func(tx *sql.Tx) error
	state atomic.Int32
	done  chan outcome // buffered: the writer never blocks answering
}

// outcome is the answer to a request.
type outcome struct {
	err      error
	panicked bool
	panicVal any
}

// exec queues fn for the writer and waits until its writes are durable or
// have failed. If ctx ends before fn starts, fn never runs and exec
// returns ctx.Err(); once fn has started, exec waits for the commit.
func (d *DB) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan outcome, 1)}
	if err := d.enqueue(r); err != nil {
		return err
	}
	var o outcome
	select {
	case o = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, cancelled) {
			return ctx.Err()
		}
		o = <-r.done // already running: its fate is decided at commit
	}
	if o.panicked {
		panic(o.panicVal)
	}
	return o.err
}

func (d *DB) enqueue(r *request) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return fmt.Errorf("sqlite: database closed: %w", store.ErrBusy)
	}
	select {
	case d.queue <- r:
		return nil
	default:
		return fmt.Errorf("sqlite: write queue full: %w", store.ErrBusy)
	}
}

// run is the writer goroutine. It exits when Close has closed the queue
// and every request in it has been answered.
func (d *DB) run() {
	defer close(d.done)
	batch := make([]*request, 0, d.maxBatch)
	for {
		first, ok := <-d.queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < d.maxBatch {
			select {
			case r, ok := <-d.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		d.commit(batch)
		clear(batch) // drop references to answered requests
	}
}

// commit runs one batch in one transaction and answers every request.
func (d *DB) commit(batch []*request) {
	ctx := context.Background() // see the package comment on cancellation
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		err = fmt.Errorf("sqlite: begin: %w", mapErr(err))
		for _, r := range batch {
			if r.claim() {
				r.done <- outcome{err: err}
			}
		}
		return
	}
	d.batches.Add(1)

	// results[i] is the outcome for batch[i] if it ran; ran[i] says it did.
	results := make([]outcome, len(batch))
	ran := make([]bool, len(batch))
	n := 0
	var fatal error
	for i, r := range batch {
		if !r.claim() {
			continue
		}
		ran[i] = true
		n++
		o, err := d.step(ctx, tx, r)
		results[i] = o
		if err != nil {
			fatal = err
			// The transaction is unusable; answer the rest with the error.
			for j := i + 1; j < len(batch); j++ {
				if batch[j].claim() {
					ran[j] = true
					results[j] = outcome{err: fatal}
				}
			}
			break
		}
	}
	d.writes.Add(uint64(n))
	if int64(n) > d.largest.Load() {
		d.largest.Store(int64(n)) // only this goroutine stores
	}

	if fatal == nil {
		if err := tx.Commit(); err != nil {
			fatal = fmt.Errorf("sqlite: commit: %w", mapErr(err))
		}
	} else {
		_ = tx.Rollback()
	}
	for i, r := range batch {
		if !ran[i] {
			continue
		}
		o := results[i]
		if fatal != nil && o.err == nil && !o.panicked {
			o.err = fatal // its writes were not kept
		}
		r.done <- o
	}
}

// claim moves r from pending to started unless its caller has given up
// (context done or cancelled). A request whose context is done is
// answered here with ctx.Err(), and claim reports false.
func (r *request) claim() bool {
	if err := r.ctx.Err(); err != nil {
		if r.state.CompareAndSwap(pending, cancelled) {
			r.done <- outcome{err: err}
		}
		return false
	}
	return r.state.CompareAndSwap(pending, started)
}

// step runs one callback inside a savepoint. The outcome is the callback's;
// a non-nil error means the transaction itself failed and must be abandoned.
func (d *DB) step(ctx context.Context, tx *sql.Tx, r *request) (outcome, error) {
	if _, err := tx.StmtContext(ctx, d.ws.savepoint).ExecContext(ctx); err != nil {
		err = fmt.Errorf("sqlite: savepoint: %w", mapErr(err))
		return outcome{err: err}, err
	}
	o := call(r.fn, tx)
	if o.err != nil || o.panicked {
		if _, err := tx.StmtContext(ctx, d.ws.rollbackTo).ExecContext(ctx); err != nil {
			// SQLite already rolled the whole transaction back (e.g. disk full).
			return o, fmt.Errorf("sqlite: rollback to savepoint: %w", mapErr(err))
		}
	}
	if _, err := tx.StmtContext(ctx, d.ws.release).ExecContext(ctx); err != nil {
		err = fmt.Errorf("sqlite: release savepoint: %w", mapErr(err))
		if o.err == nil && !o.panicked {
			o.err = err
		}
		return o, err
	}
	return o, nil
}

// call runs fn, turning a panic into an outcome the caller re-raises in
// its own goroutine, so a bad callback cannot kill the writer.
func call(fn func(*sql.Tx) error, tx *sql.Tx) (o outcome) {
	defer func() {
		if v := recover(); v != nil {
			o = outcome{panicked: true, panicVal: v}
		}
	}()
	if err := fn(tx); err != nil {
		return outcome{err: err}
	}
	return outcome{}
}
