package ledger

import "context"

// Reader reads what the ledger stored. It is all Verify and the proof
// functions need.
type Reader interface {
	// ScanLeaves calls fn for every stored leaf with start <= index < end,
	// in index order. The slices are valid only during the call; an error
	// from fn stops the scan and is returned.
	ScanLeaves(ctx context.Context, start, end uint64, fn func(index uint64, data, hash []byte) error) error
	// ScanNodes calls fn for every cached node hash whose key k has
	// start <= k < end, in key order (see nodeKey).
	ScanNodes(ctx context.Context, start, end uint64, fn func(key uint64, hash []byte) error) error
	// ScanCheckpoints calls fn for every stored signed checkpoint, in size
	// order.
	ScanCheckpoints(ctx context.Context, fn func(size uint64, note []byte) error) error
	// PruneBase returns the latest prune record and its floor, or 0 and
	// nil if the ledger was never pruned. Every leaf below the floor has
	// been deleted (see Prune).
	PruneBase(ctx context.Context) (floor uint64, record []byte, err error)
}

// Store keeps the ledger's leaves, checkpoints and integrator state.
// *sqlite.DB implements it. Only opaque bytes cross this interface: the
// ledger encodes, hashes and checks everything it reads back.
type Store interface {
	Reader
	// AppendLeaves appends n leaves atomically and durably, and returns the
	// index of the first. Inside the write transaction it calls build with
	// the number of leaves already stored; build returns the n leaf
	// encodings and their hashes, for indices first, first+1, ... A store
	// group-commits concurrent appends into one transaction.
	AppendLeaves(ctx context.Context, n int, build func(first uint64) (data, hashes [][]byte, err error)) (first uint64, err error)
	// SaveCheckpoint stores, in one durable write, a signed checkpoint of
	// the tree at size, the integrator state at that size (replacing the
	// previous state) and newly completed cached node hashes.
	SaveCheckpoint(ctx context.Context, size uint64, note, state []byte, nodes map[uint64][]byte) error
	// LoadState returns the state saved by the last SaveCheckpoint, or nil.
	LoadState(ctx context.Context) ([]byte, error)
	// JournalPosition returns the journal position up to which journaled
	// events have been moved into leaves (0 before the first move).
	JournalPosition(ctx context.Context) (uint64, error)
	// MoveLeaves is AppendLeaves that also advances the journal position
	// from from to to, in the same transaction. If the stored position is
	// not from, nothing changes and an error is returned.
	MoveLeaves(ctx context.Context, from, to uint64, n int, build func(first uint64) (data, hashes [][]byte, err error)) (first uint64, err error)
}

// TxAppender is a store's write transaction that can carry ledger leaves,
// so that a data write and its audit events commit together. The store.Tx
// that the SQLite backend passes to Write callbacks implements it. See
// AppendTx.
type TxAppender interface {
	// AppendLeaves is Store.AppendLeaves inside the transaction: the
	// leaves commit, or roll back, with the transaction.
	AppendLeaves(n int, build func(first uint64) (data, hashes [][]byte, err error)) (first uint64, err error)
}

// Pruner is a Reader that can also delete an archived prefix of the
// ledger.
// *sqlite.DB implements it.
type Pruner interface {
	Reader
	// PruneLeaves stores record as the prune record for floor and deletes
	// every leaf below floor, in one durable write. from is the floor the
	// caller checked against (0 before the first prune): if the stored
	// floor is not from, or a leaf in [from, floor) is missing, nothing
	// changes and an error is returned.
	PruneLeaves(ctx context.Context, from, floor uint64, record []byte) error
}
