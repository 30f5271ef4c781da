package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wardhealth/ward/internal/audit/journal"
)

// The journal path. With Options.Journal set, the appender makes each
// batch of Records durable with one journal append (a write and an
// fdatasync on a plain file) instead of a database commit, and answers
// them; a mover goroutine then moves the journaled events into the store
// in large batches, each with the journal position it reaches, in one
// transaction (Store.MoveLeaves). After a crash, New moves the events
// after the stored position again: each is moved exactly once, and none
// that a Record acknowledged is lost. Writes are not journaled: their
// events commit with their data (AppendTx).

const (
	// moveLinger is how long the mover lets journaled events gather
	// before moving them, unless moveBatch of them are waiting or a Sync
	// asks for them.
	moveLinger = 20 * time.Millisecond
	// moveBatch bounds the events moved in one transaction.
	moveBatch = 8192
	// maxBacklog bounds the journaled events not yet moved: beyond it
	// Records fail, so a store that stops taking them stops the API.
	maxBacklog = 64 << 10
	// maxRetry bounds the pause between failed moves.
	maxRetry = 5 * time.Second
)

// backlog is the journaled events not yet moved, shared by the appender
// (which adds) and the mover (which takes).
type backlog struct {
	mu      sync.Mutex
	fields  [][]byte      // events journaled and not moved, in journal order
	ends    []uint64      // ends[i]: journal position after fields[i]
	moved   uint64        // journal position up to which events are moved
	changed chan struct{} // closed and replaced whenever moved advances
	urgent  bool          // a Sync is waiting
	kick    chan struct{} // cap 1: wakes the mover
}

func newBacklog(moved uint64) *backlog {
	return &backlog{moved: moved, changed: make(chan struct{}), kick: make(chan struct{}, 1)}
}

func (b *backlog) wake() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// add appends events journaled from position start on, in order.
func (b *backlog) add(fields [][]byte, start uint64) {
	b.mu.Lock()
	for _, f := range fields {
		start += uint64(journal.FrameOverhead + len(f))
		b.fields = append(b.fields, f)
		b.ends = append(b.ends, start)
	}
	n := len(b.fields)
	b.mu.Unlock()
	if n == len(fields) || n >= moveBatch {
		b.wake() // the mover starts lingering, or has a full batch
	}
}

// ErrBacklog fails Records while the store does not take journaled
// events: fail closed rather than let the journal grow without bound.
var ErrBacklog = errors.New("ledger: record: too many journaled events are waiting to be stored")

// full reports whether the backlog is at its bound, and wakes the mover.
func (b *backlog) full() bool {
	b.mu.Lock()
	n := len(b.fields)
	if n >= maxBacklog {
		b.urgent = true
	}
	b.mu.Unlock()
	if n >= maxBacklog {
		b.wake()
	}
	return n >= maxBacklog
}

// take returns up to moveBatch events from the front of the backlog, the
// journal range they cover, and whether a Sync is waiting.
func (b *backlog) take() (fields [][]byte, from, to uint64, urgent bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.fields), moveBatch)
	if n == 0 {
		return nil, b.moved, b.moved, b.urgent
	}
	return b.fields[:n:n], b.moved, b.ends[n-1], b.urgent
}

// done records that the first n events were moved up to position to.
func (b *backlog) done(n int, to uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.fields[:n])
	b.fields = b.fields[n:]
	b.ends = b.ends[n:]
	b.moved = to
	if len(b.fields) == 0 {
		b.urgent = false
		b.fields, b.ends = nil, nil // let the arrays go
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// sync waits until every event journaled before the call is moved.
func (b *backlog) sync(ctx context.Context, closed <-chan struct{}) error {
	b.mu.Lock()
	target := b.moved
	if n := len(b.ends); n > 0 {
		target = b.ends[n-1]
	}
	b.mu.Unlock()
	for {
		b.mu.Lock()
		moved, ch := b.moved, b.changed
		if moved < target {
			b.urgent = true
		}
		b.mu.Unlock()
		if moved >= target {
			return nil
		}
		b.wake()
		select {
		case <-ch:
		case <-closed:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// moveLoop is the mover goroutine; it returns when ctx ends.
func (l *Ledger) moveLoop(ctx context.Context) {
	b := l.backlog
	retry := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
		fields, from, to, urgent := b.take()
		if len(fields) == 0 {
			continue
		}
		if !urgent && len(fields) < moveBatch {
			select { // let more gather
			case <-ctx.Done():
				return
			case <-b.kick:
			case <-time.After(moveLinger):
			}
			fields, from, to, _ = b.take()
		}
		if err := l.move(ctx, fields, from, to); err != nil {
			l.opts.Logger.Error("audit ledger: moving journaled events into the store failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, maxRetry)
			b.wake()
			continue
		}
		retry = 100 * time.Millisecond
		b.done(len(fields), to)
		if err := l.journal.Release(to); err != nil {
			l.opts.Logger.Warn("audit ledger: journal", "err", err)
		}
		l.Notify()
		b.mu.Lock()
		more := len(b.fields) > 0
		b.mu.Unlock()
		if more {
			b.wake()
		}
	}
}

// move moves events journaled in [from, to) into the store.
func (l *Ledger) move(ctx context.Context, fields [][]byte, from, to uint64) error {
	if _, err := l.store.MoveLeaves(ctx, from, to, len(fields), fieldsBuilder(fields)); err != nil {
		return fmt.Errorf("ledger: move journaled events: %w", err)
	}
	return nil
}

// recoverJournal moves every event in the journal after the stored
// position into the store, before the Ledger takes Records.
func (l *Ledger) recoverJournal(ctx context.Context, j *journal.Journal, from uint64) error {
	var fields [][]byte
	start := from
	flush := func(to uint64) error {
		if len(fields) == 0 {
			return nil
		}
		if err := l.move(ctx, fields, start, to); err != nil {
			return err
		}
		fields, start = fields[:0], to
		return nil
	}
	next := from
	err := j.Replay(from, func(end uint64, data []byte) error {
		f := append([]byte(nil), data...)
		if _, _, err := DecodeLeaf(appendLeaf(nil, 0, f)); err != nil {
			return fmt.Errorf("ledger: journal entry before position %d: %w", end, err)
		}
		fields = append(fields, f)
		next = end
		if len(fields) == moveBatch {
			return flush(end)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(next); err != nil {
		return err
	}
	if next > from {
		l.opts.Logger.Info("audit ledger: moved journaled events left by the last run", "bytes", next-from)
	}
	return j.Release(next)
}
