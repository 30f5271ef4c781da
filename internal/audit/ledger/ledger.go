package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/journal"
)

// closeTimeout bounds Close's wait for the last events to be stored.
const closeTimeout = 30 * time.Second

// Defaults for Options.
const (
	DefaultCheckpointEvents   = 1000
	DefaultCheckpointInterval = 10 * time.Second
)

// Errors.
var (
	// ErrClosed means the Ledger was closed.
	ErrClosed = errors.New("ledger: closed")
	// ErrIntegrity means stored ledger data does not match what the ledger
	// wrote or signed: the database was changed behind its back. The
	// integrator then stops signing checkpoints (Err reports it); run
	// Verify for the diagnosis.
	ErrIntegrity = errors.New("ledger: stored audit data failed integrity check")
)

// Options tunes a Ledger. The zero value is the production setting.
type Options struct {
	// CheckpointEvents: a checkpoint is signed once this many events have
	// been added since the last one. Default 1000.
	CheckpointEvents uint64
	// CheckpointInterval: a checkpoint is signed when events have been
	// added and this long has passed since the last one. Default 10s.
	CheckpointInterval time.Duration
	// Sinks receive every signed checkpoint, after it is stored. A failing
	// sink is logged and does not stop the ledger: the next checkpoint
	// covers everything before it.
	Sinks []Sink
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Tick wakes the integrator to look at the clock. Default: a ticker
	// every CheckpointInterval/10, owned and stopped by the Ledger. Tests
	// pass their own channel and never sleep.
	Tick <-chan time.Time
	// Logger receives integrator and sink errors; default slog.Default().
	// It never sees event contents.
	Logger *slog.Logger
	// Journal, if set, is the directory of the journal that Records
	// append to (see move.go); "" appends Records straight to the store.
	// One process at a time can use a journal: New fails with
	// journal.ErrBusy while another holds it.
	Journal string
}

func (o Options) withDefaults() Options {
	if o.CheckpointEvents == 0 {
		o.CheckpointEvents = DefaultCheckpointEvents
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Ledger is the audit ledger: Record makes events durable leaves of the
// Merkle tree; a background integrator extends the tree over them and
// signs, stores and publishes checkpoints. It implements audit.Recorder.
// A Ledger is safe for concurrent use; Close stops it.
type Ledger struct {
	store    Store
	signer   note.Signer
	verifier note.Verifier
	opts     Options

	journal *journal.Journal // nil: Records append to the store
	backlog *backlog         // with a journal: events not yet moved
	jerr    error            // sticky journal failure; appender only

	queue  chan *request         // Records waiting for the appender
	notify chan struct{}         // cap 1: "new leaves may be durable"
	flush  chan chan flushResult // Flush requests to the integrator
	cancel context.CancelFunc    // stops the appender and the integrator
	done   chan struct{}         // closed when the integrator has exited
	wg     sync.WaitGroup        // the appender and the integrator

	mu       sync.RWMutex // guards closed; Record registers in inflight under RLock
	closed   bool
	inflight sync.WaitGroup // Records in progress, waited for by Close

	closeOnce sync.Once
	closeErr  error

	size   atomic.Uint64          // leaves integrated (checked) by the integrator
	latest atomic.Pointer[[]byte] // latest signed checkpoint note
	err    atomic.Pointer[error]  // sticky integrity error, nil while healthy
}

var _ audit.Recorder = (*Ledger)(nil)

// flushResult answers a Flush.
type flushResult struct {
	note []byte
	err  error
}

// New opens the ledger kept in s, signing checkpoints with signer (whose
// name is the checkpoint origin); verifier is signer's public half, used
// to check the checkpoints already stored. It resumes from the state
// saved with the last checkpoint and starts the integrator, which catches
// up on leaves appended since. Close the Ledger before the store.
func New(ctx context.Context, s Store, signer note.Signer, verifier note.Verifier, opts Options) (*Ledger, error) {
	if signer.Name() != verifier.Name() || signer.KeyHash() != verifier.KeyHash() {
		return nil, errors.New("ledger: verifier is not the signer's key")
	}
	l := &Ledger{
		store:    s,
		signer:   signer,
		verifier: verifier,
		opts:     opts.withDefaults(),
		queue:    make(chan *request, queueSize),
		notify:   make(chan struct{}, 1),
		flush:    make(chan chan flushResult),
		done:     make(chan struct{}),
	}
	if l.opts.Journal != "" {
		if err := l.openJournal(ctx); err != nil {
			return nil, err
		}
	}
	it, err := l.resume(ctx)
	if err != nil {
		l.closeJournal()
		return nil, err
	}
	tick, stop := l.opts.Tick, func() {}
	if tick == nil {
		t := time.NewTicker(max(l.opts.CheckpointInterval/10, time.Millisecond))
		tick, stop = t.C, t.Stop
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Go(func() { l.appendLoop(runCtx) })
	if l.journal != nil {
		l.wg.Go(func() { l.moveLoop(runCtx) })
	}
	l.wg.Go(func() {
		defer close(l.done)
		defer stop()
		l.run(runCtx, it, tick)
	})
	l.Notify() // catch up on leaves appended since the last checkpoint
	return l, nil
}

// Record implements audit.Recorder: it appends the events as consecutive
// leaves and returns once they are durable. Concurrent Records are
// group-committed: they are appended together, in one transaction, or
// with a journal in one journal append (their leaves are then stored
// shortly after; Sync waits for that). An
// error means the events may not have been recorded, and the caller must
// fail the access. If ctx ends before the events are handed to the
// store, none is recorded and ctx.Err() is returned; after that, Record
// waits for the outcome.
func (l *Ledger) Record(ctx context.Context, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	l.inflight.Add(1)
	l.mu.RUnlock()
	defer l.inflight.Done()

	r := &request{done: make(chan error, 1)}
	r.fields = make([][]byte, len(events))
	for i, e := range events { // encoded here, in parallel, not by the appender
		r.fields[i] = encodeFields(e)
		if len(r.fields[i]) > journal.MaxRecord {
			// Refused here, for this Record alone: in a batch it would
			// fail the journal append and so every later Record.
			return fmt.Errorf("ledger: record: event encodes to %d bytes, more than %d", len(r.fields[i]), journal.MaxRecord)
		}
	}
	select {
	case l.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(pending, cancelled) {
			return ctx.Err()
		}
		return <-r.done // already being appended: its fate is decided at commit
	}
}

// AppendTx appends events as leaves inside a store's write transaction,
// so they commit, or roll back, with the data written in it. It returns
// the index of the first. After the transaction commits, call
// Ledger.Notify so the integrator takes the events in promptly (it would
// otherwise find them at its next tick).
func AppendTx(tx TxAppender, events []audit.Event) (first uint64, err error) {
	if len(events) == 0 {
		return 0, errors.New("ledger: no events")
	}
	first, err = tx.AppendLeaves(len(events), leafBuilder(events))
	if err != nil {
		return 0, fmt.Errorf("ledger: record: %w", err)
	}
	return first, nil
}

// Notify tells the integrator that new leaves may have been committed.
// It never blocks.
func (l *Ledger) Notify() {
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Sync returns once every event recorded before the call is a stored
// leaf, so readers of the store see it. Without a journal they all are.
func (l *Ledger) Sync(ctx context.Context) error {
	if l.backlog == nil {
		return nil
	}
	return l.backlog.sync(ctx, l.done)
}

// Flush makes the integrator take in every durable leaf now and, if the
// tree grew since the last checkpoint, sign, store and publish one. It
// returns the latest signed checkpoint note (nil while the ledger is
// empty).
func (l *Ledger) Flush(ctx context.Context) ([]byte, error) {
	if err := l.Sync(ctx); err != nil {
		return nil, err
	}
	reply := make(chan flushResult, 1)
	select {
	case l.flush <- reply:
	case <-l.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-reply:
		return r.note, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Latest returns the latest signed checkpoint note, or nil.
func (l *Ledger) Latest() []byte {
	if p := l.latest.Load(); p != nil {
		return *p
	}
	return nil
}

// LatestSize is the tree size of the latest signed checkpoint, 0 before
// the first.
func (l *Ledger) LatestSize() uint64 {
	note := l.Latest()
	if note == nil {
		return 0
	}
	c, err := OpenCheckpoint(note, l.verifier)
	if err != nil {
		return 0 // our own signature: cannot fail short of memory corruption
	}
	return c.Size
}

// Size is the number of leaves the integrator has checked and added to
// the tree; proofs are available up to it.
func (l *Ledger) Size() uint64 { return l.size.Load() }

// Err returns the integrity error that stopped the integrator (wrapping
// ErrIntegrity), or nil. Records still succeed after one: events stay
// durable, but no further checkpoint is signed until an operator has
// run Verify and dealt with the tampering.
func (l *Ledger) Err() error {
	if p := l.err.Load(); p != nil {
		return *p
	}
	return nil
}

// InclusionProof returns the RFC 6962 inclusion proof of the leaf at
// index in the tree of the given size, which must not exceed Size.
func (l *Ledger) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if size > l.Size() {
		return nil, fmt.Errorf("ledger: tree size %d not yet integrated (have %d)", size, l.Size())
	}
	return InclusionProof(ctx, l.store, index, size)
}

// LeafHash returns the hash of the leaf at index, for an inclusion proof.
func (l *Ledger) LeafHash(ctx context.Context, index uint64) ([]byte, error) {
	if index >= l.Size() {
		return nil, fmt.Errorf("ledger: leaf %d not yet integrated (have %d)", index, l.Size())
	}
	return LeafHashAt(ctx, l.store, index)
}

// ConsistencyProof returns the RFC 6962 consistency proof between the
// trees of size1 and size2, where size1 <= size2 <= Size.
func (l *Ledger) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	if size2 > l.Size() {
		return nil, fmt.Errorf("ledger: tree size %d not yet integrated (have %d)", size2, l.Size())
	}
	return ConsistencyProof(ctx, l.store, size1, size2)
}

// Close stops taking Records, waits for those in progress, signs a final
// checkpoint over everything recorded, and stops the integrator. It
// returns the final Flush's error, if any. Later calls return the same.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		l.inflight.Wait()
		// Bounded: events the store does not take stay in the journal,
		// and the next start moves them.
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		_, err := l.Flush(ctx)
		cancel()
		l.cancel()
		l.wg.Wait()
		l.closeErr = errors.Join(err, l.closeJournal())
	})
	return l.closeErr
}

// openJournal opens the journal, moves the events a previous run left in
// it into the store, and prepares the backlog.
func (l *Ledger) openJournal(ctx context.Context) error {
	pos, err := l.store.JournalPosition(ctx)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	j, err := journal.Open(l.opts.Journal, pos, journal.Options{})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if err := l.recoverJournal(ctx, j, pos); err != nil {
		j.Close()
		return err
	}
	l.journal, l.backlog = j, newBacklog(j.End())
	return nil
}

func (l *Ledger) closeJournal() error {
	if l.journal == nil {
		return nil
	}
	return l.journal.Close()
}
