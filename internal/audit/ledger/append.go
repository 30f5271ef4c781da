package ledger

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
)

// Group commit of Records. Every Record queues a request; one appender
// goroutine takes all the requests already queued and appends their
// events with a single Store.AppendLeaves, so concurrent requests share
// one transaction and one fsync, and the SQL cost per transaction
// (savepoint, next index, statement preparation) is paid once per batch
// rather than once per Record. While a batch commits, the next one
// gathers.

const (
	// queueSize bounds the Records waiting; a Record waits (until its
	// context ends) for room.
	queueSize = 4096
	// maxBatchEvents bounds the events appended in one transaction.
	maxBatchEvents = 4096
	// maxSpins bounds the yields while a batch is smaller than the last.
	maxSpins = 4
)

// Request states, as in the SQLite writer: a request is appended only if
// the appender moves it from pending to started; a Record whose context
// ends first moves it to cancelled.
const (
	pending int32 = iota
	started
	cancelled
)

// request is one Record waiting for the appender.
type request struct {
	fields [][]byte // the events, encoded (encodeFields)
	state  atomic.Int32
	done   chan error // buffered: the appender never blocks answering
}

// appendLoop is the appender goroutine; it returns when ctx ends. Close
// cancels ctx only after every Record has been answered.
func (l *Ledger) appendLoop(ctx context.Context) {
	var batch []*request
	var fields [][]byte
	last := 0 // events in the previous batch
	for {
		var first *request
		select {
		case <-ctx.Done():
			return
		case first = <-l.queue:
		}
		batch, fields = append(batch[:0], first), fields[:0]
		n := len(first.fields)
		for spins := 0; ; spins++ {
		fill:
			for n < maxBatchEvents {
				select {
				case r := <-l.queue:
					batch = append(batch, r)
					n += len(r.fields)
				default:
					break fill
				}
			}
			// Callers answered after the last commit may still be on
			// their way back; give them a moment, never a timer's worth.
			if n >= last || n >= maxBatchEvents || spins == maxSpins {
				break
			}
			runtime.Gosched()
		}
		last = n
		live := batch[:0]
		for _, r := range batch {
			if r.state.CompareAndSwap(pending, started) {
				live = append(live, r)
				fields = append(fields, r.fields...)
			}
		}
		if len(live) == 0 {
			continue
		}
		err := l.commit(ctx, fields)
		for _, r := range live {
			r.done <- err
		}
		clear(batch) // drop references to answered requests
		clear(fields)
		// Let the callers just answered run first: under load they record
		// again at once, and then join the next batch instead of the one
		// after it (which would halve the events per commit).
		runtime.Gosched()
	}
}

// commit makes one batch of encoded events durable: appended to the
// store, or with a journal, to the journal and the mover's backlog.
func (l *Ledger) commit(ctx context.Context, fields [][]byte) error {
	if l.journal == nil {
		if _, err := l.store.AppendLeaves(ctx, len(fields), fieldsBuilder(fields)); err != nil {
			return fmt.Errorf("ledger: record: %w", err)
		}
		l.Notify()
		return nil
	}
	if l.jerr != nil {
		return l.jerr
	}
	if l.backlog.full() {
		return ErrBacklog
	}
	start, err := l.journal.Append(fields)
	if err != nil {
		// What reached the file is unknown until the next start checks
		// it: refuse every later Record (fail closed).
		l.jerr = fmt.Errorf("ledger: record: %w", err)
		l.opts.Logger.Error("audit ledger: journal append failed; recording stops until restart", "err", err)
		return l.jerr
	}
	l.backlog.add(slices.Clone(fields), start)
	return nil
}
