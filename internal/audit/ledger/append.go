package ledger

import (
	"context"
	"fmt"
	"runtime"
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
		_, err := l.store.AppendLeaves(ctx, len(fields), fieldsBuilder(fields))
		if err != nil {
			err = fmt.Errorf("ledger: record: %w", err)
		}
		for _, r := range live {
			r.done <- err
		}
		if err == nil {
			l.Notify()
		}
		clear(batch) // drop references to answered requests
		clear(fields)
		// Let the callers just answered run first: under load they record
		// again at once, and then join the next batch instead of the one
		// after it (which would halve the events per commit).
		runtime.Gosched()
	}
}
