package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
)

// Audit ledger storage (ledger.Store in internal/audit/ledger). The
// ledger encodes, hashes and verifies; these methods only keep bytes.
// Appends go through the writer, so concurrent appends are
// group-committed with each other and with every other write, and the
// next index is always the last one plus one: the writer is serialised
// (and BEGIN IMMEDIATE serialises writers in other processes too).

const (
	sqlInsertLeaf = `INSERT INTO audit_leaves (idx, hash, data) VALUES (?, ?, ?)`
	// After a prune that removed every leaf, the next index is the floor.
	sqlNextLeaf = `SELECT max(
		coalesce((SELECT max(idx) + 1 FROM audit_leaves), 0),
		coalesce((SELECT max(floor) FROM audit_prunes), 0))`
	sqlJournalPos    = `SELECT pos FROM audit_journal WHERE id = 1`
	sqlSetJournalPos = `INSERT INTO audit_journal (id, pos) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET pos = excluded.pos`
)

// AppendLeaves appends n leaves in one durable write. Inside the write
// transaction it calls build with the index of the first new leaf (the
// number of leaves already stored); build returns the n encoded leaves
// and their hashes, stored at first, first+1, ... build runs on the
// writer goroutine and must do no I/O. If ctx ends before the write
// starts, nothing is appended and ctx.Err() is returned.
func (d *DB) AppendLeaves(ctx context.Context, n int, build func(first uint64) (data, hashes [][]byte, err error)) (uint64, error) {
	var first uint64
	err := d.exec(ctx, func(tx *sql.Tx) error {
		var err error
		first, err = appendLeaves(tx, &d.ws, n, build)
		return err
	})
	if err != nil {
		return 0, err
	}
	return first, nil
}

// JournalPosition returns the audit journal position up to which
// journaled events have been moved into leaves, 0 before the first move.
func (d *DB) JournalPosition(ctx context.Context) (uint64, error) {
	var pos int64
	err := d.r.QueryRowContext(ctx, sqlJournalPos).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: journal position: %w", mapErr(err))
	}
	return uint64(pos), nil
}

// MoveLeaves is AppendLeaves that also advances the journal position from
// from to to in the same transaction; if the stored position is not from,
// nothing is written and an error is returned.
func (d *DB) MoveLeaves(ctx context.Context, from, to uint64, n int, build func(first uint64) (data, hashes [][]byte, err error)) (uint64, error) {
	if to <= from || to > math.MaxInt64 {
		return 0, fmt.Errorf("sqlite: move leaves: bad journal range %d..%d", from, to)
	}
	var first uint64
	err := d.exec(ctx, func(tx *sql.Tx) error {
		var pos int64
		err := tx.Stmt(d.ws.journalPos).QueryRow().Scan(&pos)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("sqlite: move leaves: %w", mapErr(err))
		}
		if uint64(pos) != from {
			return fmt.Errorf("sqlite: move leaves: journal position is %d, not %d", pos, from)
		}
		if first, err = appendLeaves(tx, &d.ws, n, build); err != nil {
			return err
		}
		if _, err := tx.Stmt(d.ws.setJournalPos).Exec(int64(to)); err != nil {
			return fmt.Errorf("sqlite: move leaves: %w", mapErr(err))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return first, nil
}

// AppendLeaves appends audit leaves inside this write transaction, so
// they commit or roll back with the data written in it; see
// DB.AppendLeaves for build. It implements ledger.TxAppender: a
// store.Write callback given this Tx can record its audit events with
// ledger.AppendTx(tx.(ledger.TxAppender), events).
func (t *writeTx) AppendLeaves(n int, build func(first uint64) (data, hashes [][]byte, err error)) (uint64, error) {
	if t.done.Load() {
		return 0, errTxDone
	}
	return appendLeaves(t.tx, t.stmts, n, build)
}

// appendLeaves is the body of both appends. The next index is read inside
// the transaction, so a rolled-back savepoint leaves no gap.
func appendLeaves(tx *sql.Tx, stmts *writerStmts, n int, build func(first uint64) (data, hashes [][]byte, err error)) (uint64, error) {
	if n <= 0 {
		return 0, errors.New("sqlite: append leaves: nothing to append")
	}
	ctx := context.Background() // see the package comment on cancellation
	var next int64
	if err := tx.StmtContext(ctx, stmts.nextLeaf).QueryRowContext(ctx).Scan(&next); err != nil {
		return 0, fmt.Errorf("sqlite: append leaves: %w", mapErr(err))
	}
	first := uint64(next)
	data, hashes, err := build(first)
	if err != nil {
		return 0, err
	}
	if len(data) != n || len(hashes) != n {
		return 0, fmt.Errorf("sqlite: append leaves: build returned %d leaves and %d hashes, want %d", len(data), len(hashes), n)
	}
	if uint64(n) > math.MaxInt64-first {
		return 0, errors.New("sqlite: append leaves: index out of range")
	}
	st := tx.StmtContext(ctx, stmts.insertLeaf)
	for i := range n {
		if _, err := st.ExecContext(ctx, next+int64(i), hashes[i], data[i]); err != nil {
			return 0, fmt.Errorf("sqlite: append leaves: %w", mapErr(err))
		}
	}
	return first, nil
}

// ScanLeaves calls fn for every stored leaf with start <= index < end, in
// index order, from one read snapshot. The slices are valid only during
// the call. An error from fn stops the scan and is returned.
func (d *DB) ScanLeaves(ctx context.Context, start, end uint64, fn func(index uint64, data, hash []byte) error) error {
	if start >= end || start > math.MaxInt64 {
		return nil
	}
	rows, err := d.r.QueryContext(ctx, `SELECT idx, hash, data FROM audit_leaves
		WHERE idx >= ? AND idx < ? ORDER BY idx`, int64(start), clampInt64(end))
	if err != nil {
		return fmt.Errorf("sqlite: scan leaves: %w", mapErr(err))
	}
	defer rows.Close()
	var (
		idx        int64
		hash, data sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&idx, &hash, &data); err != nil {
			return fmt.Errorf("sqlite: scan leaves: %w", mapErr(err))
		}
		if err := fn(uint64(idx), data, hash); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: scan leaves: %w", mapErr(err))
	}
	return nil
}

// ScanNodes calls fn for every cached node hash whose key k has
// start <= k < end, in key order. The slice is valid only during the call.
func (d *DB) ScanNodes(ctx context.Context, start, end uint64, fn func(key uint64, hash []byte) error) error {
	if start >= end || start > math.MaxInt64 {
		return nil
	}
	rows, err := d.r.QueryContext(ctx, `SELECT node, hash FROM audit_nodes
		WHERE node >= ? AND node < ? ORDER BY node`, int64(start), clampInt64(end))
	if err != nil {
		return fmt.Errorf("sqlite: scan nodes: %w", mapErr(err))
	}
	defer rows.Close()
	var (
		key  int64
		hash sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&key, &hash); err != nil {
			return fmt.Errorf("sqlite: scan nodes: %w", mapErr(err))
		}
		if err := fn(uint64(key), hash); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: scan nodes: %w", mapErr(err))
	}
	return nil
}

// SaveCheckpoint stores, in one durable write, a signed checkpoint for
// the given tree size, the integrator state as of that size (replacing
// the previous one) and new cached node hashes. A second checkpoint for
// the same size is an error.
func (d *DB) SaveCheckpoint(ctx context.Context, size uint64, note, state []byte, nodes map[uint64][]byte) error {
	if size == 0 || size > math.MaxInt64 || len(note) == 0 || len(state) == 0 {
		return errors.New("sqlite: save checkpoint: size, note and state are required")
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background() // see the package comment on cancellation
		if _, err := tx.ExecContext(bg, `INSERT INTO audit_checkpoints (size, note) VALUES (?, ?)`, int64(size), note); err != nil {
			return fmt.Errorf("sqlite: save checkpoint: %w", mapErr(err))
		}
		if _, err := tx.ExecContext(bg, `INSERT INTO audit_state (id, state) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state`, state); err != nil {
			return fmt.Errorf("sqlite: save checkpoint state: %w", mapErr(err))
		}
		if len(nodes) == 0 {
			return nil
		}
		st, err := tx.PrepareContext(bg, `INSERT OR REPLACE INTO audit_nodes (node, hash) VALUES (?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: save nodes: %w", mapErr(err))
		}
		defer st.Close()
		for k, h := range nodes {
			if k > math.MaxInt64 {
				return errors.New("sqlite: save nodes: key out of range")
			}
			if _, err := st.ExecContext(bg, int64(k), h); err != nil {
				return fmt.Errorf("sqlite: save nodes: %w", mapErr(err))
			}
		}
		return nil
	})
}

// ScanCheckpoints calls fn for every stored checkpoint in size order. The
// slice is valid only during the call.
func (d *DB) ScanCheckpoints(ctx context.Context, fn func(size uint64, note []byte) error) error {
	rows, err := d.r.QueryContext(ctx, `SELECT size, note FROM audit_checkpoints ORDER BY size`)
	if err != nil {
		return fmt.Errorf("sqlite: scan checkpoints: %w", mapErr(err))
	}
	defer rows.Close()
	var (
		size int64
		note sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&size, &note); err != nil {
			return fmt.Errorf("sqlite: scan checkpoints: %w", mapErr(err))
		}
		if size < 0 {
			return fmt.Errorf("sqlite: scan checkpoints: negative size %d", size)
		}
		if err := fn(uint64(size), note); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: scan checkpoints: %w", mapErr(err))
	}
	return nil
}

// LoadState returns the integrator state saved with the last checkpoint,
// or nil if there is none.
func (d *DB) LoadState(ctx context.Context) ([]byte, error) {
	var state []byte
	err := d.r.QueryRowContext(ctx, `SELECT state FROM audit_state WHERE id = 1`).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: load ledger state: %w", mapErr(err))
	}
	return state, nil
}

// PruneBase returns the latest prune record and its floor (every leaf
// below the floor has been deleted), or 0 and nil if the ledger was never
// pruned.
func (d *DB) PruneBase(ctx context.Context) (uint64, []byte, error) {
	var (
		floor  int64
		record []byte
	)
	err := d.r.QueryRowContext(ctx, `SELECT floor, record FROM audit_prunes ORDER BY floor DESC LIMIT 1`).Scan(&floor, &record)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: load prune base: %w", mapErr(err))
	}
	if floor <= 0 {
		return 0, nil, fmt.Errorf("sqlite: load prune base: bad floor %d", floor)
	}
	return uint64(floor), record, nil
}

// PruneLeaves records a prune to floor and deletes the leaves below it, in
// one durable write. from is the floor the caller checked the leaves
// against (0 before the first prune): if another prune has moved it since,
// or if any leaf in [from, floor) is missing, nothing is changed.
func (d *DB) PruneLeaves(ctx context.Context, from, floor uint64, record []byte) error {
	if floor <= from || floor > math.MaxInt64 || len(record) == 0 {
		return errors.New("sqlite: prune leaves: want from < floor and a record")
	}
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background() // see the package comment on cancellation
		var cur int64
		if err := tx.QueryRowContext(bg, `SELECT coalesce(max(floor), 0) FROM audit_prunes`).Scan(&cur); err != nil {
			return fmt.Errorf("sqlite: prune leaves: %w", mapErr(err))
		}
		if uint64(cur) != from {
			return fmt.Errorf("sqlite: prune leaves: the ledger's floor is %d, not %d (pruned concurrently?)", cur, from)
		}
		if _, err := tx.ExecContext(bg, `INSERT INTO audit_prunes (floor, record) VALUES (?, ?)`, int64(floor), record); err != nil {
			return fmt.Errorf("sqlite: prune leaves: %w", mapErr(err))
		}
		res, err := tx.ExecContext(bg, `DELETE FROM audit_leaves WHERE idx < ?`, int64(floor))
		if err != nil {
			return fmt.Errorf("sqlite: prune leaves: %w", mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil || uint64(n) != floor-from {
			return fmt.Errorf("sqlite: prune leaves: %d leaves below %d, want %d: refusing", n, floor, floor-from)
		}
		return nil
	})
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
