package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/transparency-dev/merkle/compact"
)

// The integrator is the one goroutine that owns the tree: it reads the
// leaves that appends made durable, checks each one (index, encoding,
// hash), extends the compact range over them, and signs checkpoints on
// the configured cadence. Because it reads leaves back from the store
// rather than being handed them, leaves appended inside other
// transactions (AppendTx) or by another process on the same database are
// taken in the same way.

// integrator is the tree state, owned by the integrator goroutine.
type integrator struct {
	rng    *compact.Range    // the tree over leaves [0, rng.End())
	nodes  map[uint64][]byte // cached nodes completed since the last checkpoint
	cpSize uint64            // size of the last stored checkpoint
	cpTime time.Time         // when it was signed (or the ledger started)
	// anchor is the last stored checkpoint while the tree has not yet
	// reached its size (after a restart without usable state): the tree
	// must reproduce its root before anything new is signed.
	anchor *Checkpoint
	err    error // sticky integrity error
}

// scanChunk bounds the leaves read per query.
const scanChunk = 4096

// resume rebuilds the integrator from the last checkpoint and the state
// saved with it. An inconsistency between them is an integrity error
// reported through Err, not a failure of New: recording must go on.
func (l *Ledger) resume(ctx context.Context) (*integrator, error) {
	rf := &compact.RangeFactory{Hash: hashChildren}
	it := &integrator{nodes: make(map[uint64][]byte), cpTime: l.opts.Now()}

	var last []byte
	var lastSize uint64
	if err := l.store.ScanCheckpoints(ctx, func(size uint64, n []byte) error {
		last, lastSize = bytes.Clone(n), size
		return nil
	}); err != nil {
		return nil, fmt.Errorf("ledger: load checkpoints: %w", err)
	}
	state, err := l.store.LoadState(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: load state: %w", err)
	}

	fail := func(format string, args ...any) (*integrator, error) {
		it.err = fmt.Errorf("%w: "+format, append([]any{ErrIntegrity}, args...)...)
		l.err.Store(&it.err)
		l.opts.Logger.Error("audit ledger integrity", "err", it.err)
		it.rng = rf.NewEmptyRange(0)
		return it, nil
	}
	// After a prune, the tree starts from the prune record, not leaf 0.
	b, err := loadBase(ctx, l.store, l.verifier)
	if errors.Is(err, ErrIntegrity) {
		return fail("%v", err)
	}
	if err != nil {
		return nil, err
	}
	if last != nil {
		cp, err := OpenCheckpoint(last, l.verifier)
		if err != nil {
			return fail("latest stored checkpoint (size %d): %v", lastSize, err)
		}
		if cp.Size != lastSize {
			return fail("checkpoint stored as size %d signs size %d", lastSize, cp.Size)
		}
		it.anchor, it.cpSize = &cp, cp.Size
		l.latest.Store(&last)
	} else if state != nil || b.floor > 0 {
		return fail("integrator state or prune record saved but no checkpoint stored: checkpoints were deleted")
	}
	if it.anchor != nil && it.anchor.Size < b.floor {
		return fail("the last stored checkpoint (size %d) is below the prune floor %d: checkpoints were deleted", it.anchor.Size, b.floor)
	}

	if it.rng, err = b.rangeFrom(rf); err != nil {
		return fail("prune record: %v", err)
	}
	if a := it.anchor; a != nil && a.Size == b.floor {
		if !bytes.Equal(b.root, a.Hash) {
			return fail("the prune record does not match the checkpoint signed at %d", a.Size)
		}
		it.anchor = nil // nothing was appended since the prune's checkpoint
	}
	if state != nil && it.anchor != nil {
		size, hashes, err := decodeState(state)
		var rng *compact.Range
		if err == nil {
			rng, err = rf.NewRange(0, size, hashes)
		}
		if err == nil && size == it.anchor.Size {
			if root, _ := rng.GetRootHash(nil); bytes.Equal(root, it.anchor.Hash) {
				it.rng, it.anchor = rng, nil
			}
		}
		if it.anchor != nil {
			l.opts.Logger.Warn("audit ledger state does not match the last checkpoint; rebuilding the tree from the leaves")
		}
	}
	l.size.Store(it.rng.End())
	return it, nil
}

// run is the integrator goroutine's loop; it returns when ctx ends.
func (l *Ledger) run(ctx context.Context, it *integrator, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.notify:
			_, _ = l.step(ctx, it, false)
		case <-tick:
			_, _ = l.step(ctx, it, false)
		case reply := <-l.flush:
			n, err := l.step(ctx, it, true)
			reply <- flushResult{note: n, err: err}
		}
	}
}

// step integrates the durable leaves and signs a checkpoint if one is due
// (always, if force and the tree grew). It returns the latest note.
func (l *Ledger) step(ctx context.Context, it *integrator, force bool) ([]byte, error) {
	if it.err != nil {
		return l.Latest(), it.err
	}
	if err := l.integrate(ctx, it); err != nil {
		if errors.Is(err, ErrIntegrity) {
			it.err = err
			l.err.Store(&it.err)
			l.opts.Logger.Error("audit ledger integrity", "err", err)
		} else {
			l.opts.Logger.Warn("audit ledger: integrate", "err", err)
		}
		return l.Latest(), err
	}
	size := it.rng.End()
	if size == it.cpSize {
		return l.Latest(), nil
	}
	now := l.opts.Now()
	if !force && size-it.cpSize < l.opts.CheckpointEvents && now.Sub(it.cpTime) < l.opts.CheckpointInterval {
		return l.Latest(), nil
	}
	if err := l.checkpoint(ctx, it, now); err != nil {
		l.opts.Logger.Warn("audit ledger: checkpoint", "err", err)
		return l.Latest(), err
	}
	return l.Latest(), nil
}

// integrate reads every leaf after the tree's end, checks it and appends
// it to the tree.
func (l *Ledger) integrate(ctx context.Context, it *integrator) error {
	visit := func(id compact.NodeID, hash []byte) {
		if id.Level > 0 && id.Level%cacheStride == 0 {
			it.nodes[nodeKey(id.Level, id.Index)] = hash
		}
	}
	for {
		start := it.rng.End()
		n := 0
		err := l.store.ScanLeaves(ctx, start, start+scanChunk, func(index uint64, data, hash []byte) error {
			want := it.rng.End()
			if index != want {
				return fmt.Errorf("%w: leaf %d is missing", ErrIntegrity, want)
			}
			if claim, err := LeafIndex(data); err != nil || claim != index {
				return fmt.Errorf("%w: leaf %d does not carry its index", ErrIntegrity, index)
			}
			lh := HashLeaf(data)
			if !bytes.Equal(lh, hash) {
				return fmt.Errorf("%w: leaf %d does not match its hash", ErrIntegrity, index)
			}
			if err := it.rng.Append(lh, visit); err != nil {
				return err
			}
			n++
			if a := it.anchor; a != nil && it.rng.End() == a.Size {
				if root, _ := it.rng.GetRootHash(nil); !bytes.Equal(root, a.Hash) {
					return fmt.Errorf("%w: the leaves do not reproduce the checkpoint signed at size %d", ErrIntegrity, a.Size)
				}
				it.anchor = nil
			}
			return nil
		})
		l.size.Store(it.rng.End())
		if err != nil {
			return err
		}
		if n < scanChunk {
			break
		}
	}
	if a := it.anchor; a != nil {
		return fmt.Errorf("%w: %d leaves stored but a checkpoint was signed at size %d: the ledger was truncated", ErrIntegrity, it.rng.End(), a.Size)
	}
	return nil
}

// checkpoint signs the current tree, stores the checkpoint with the state
// and the new cached nodes, and publishes it to the sinks.
func (l *Ledger) checkpoint(ctx context.Context, it *integrator, now time.Time) error {
	size := it.rng.End()
	root, err := it.rng.GetRootHash(nil)
	if err != nil {
		return err
	}
	signed, err := SignCheckpoint(Checkpoint{Origin: l.signer.Name(), Size: size, Hash: root}, l.signer)
	if err != nil {
		return fmt.Errorf("ledger: sign checkpoint: %w", err)
	}
	if err := l.store.SaveCheckpoint(ctx, size, signed, encodeState(size, it.rng.Hashes()), it.nodes); err != nil {
		return fmt.Errorf("ledger: store checkpoint: %w", err)
	}
	it.nodes = make(map[uint64][]byte)
	it.cpSize, it.cpTime = size, now
	l.latest.Store(&signed)
	for _, s := range l.opts.Sinks {
		if err := s.Publish(ctx, signed); err != nil {
			l.opts.Logger.Error("audit ledger: publish checkpoint", "size", size, "err", err)
		}
	}
	return nil
}

// Integrator state: 0x01, the tree size (8 bytes big-endian), then the
// compact range's hashes (32 bytes each, left to right).
const stateVersion = 0x01

func encodeState(size uint64, hashes [][]byte) []byte {
	b := make([]byte, 0, 9+32*len(hashes))
	b = append(b, stateVersion)
	b = binary.BigEndian.AppendUint64(b, size)
	for _, h := range hashes {
		b = append(b, h...)
	}
	return b
}

func decodeState(b []byte) (uint64, [][]byte, error) {
	if len(b) < 9 || b[0] != stateVersion {
		return 0, nil, errors.New("ledger: bad state")
	}
	size := binary.BigEndian.Uint64(b[1:9])
	n := compact.RangeSize(0, size)
	if len(b) != 9+32*n {
		return 0, nil, errors.New("ledger: bad state")
	}
	hashes := make([][]byte, n)
	for i := range hashes {
		hashes[i] = slices.Clone(b[9+32*i : 9+32*(i+1)])
	}
	return size, hashes, nil
}
