package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

const rowColumns = `version, last_updated, deleted, key_id, body`

// Current implements store.Backend.
func (d *DB) Current(ctx context.Context, tenant, typ, id string) (store.Row, error) {
	if err := store.ValidTenant(tenant); err != nil {
		return store.Row{}, err
	}
	// Served by the resources_version index, read backwards.
	return scanRow(d.rs.current.QueryRowContext(ctx, tenant, typ, id), typ, id)
}

// Version implements store.Backend.
func (d *DB) Version(ctx context.Context, tenant, typ, id string, version int64) (store.Row, error) {
	if err := store.ValidTenant(tenant); err != nil {
		return store.Row{}, err
	}
	return scanRow(d.rs.version.QueryRowContext(ctx, tenant, typ, id, version), typ, id)
}

func scanRow(sr *sql.Row, typ, id string) (store.Row, error) {
	r := store.Row{Type: typ, ID: id}
	var ms int64
	if err := sr.Scan(&r.Version, &ms, &r.Deleted, &r.KeyID, &r.Body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.Row{}, store.ErrNotFound
		}
		return store.Row{}, fmt.Errorf("sqlite: read resource: %w", mapErr(err))
	}
	r.LastUpdated = time.UnixMilli(ms).UTC()
	return r, nil
}

// History implements store.Backend.
func (d *DB) History(ctx context.Context, tenant string, q store.HistoryQuery) ([]store.HistoryRow, error) {
	if err := store.ValidTenant(tenant); err != nil {
		return nil, err
	}
	query, args := historyQuery(tenant, q)
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: history: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.HistoryRow
	for rows.Next() {
		var h store.HistoryRow
		var ms int64
		if err := rows.Scan(&h.Seq, &h.Type, &h.ID, &h.Version, &ms, &h.Deleted, &h.KeyID, &h.Body); err != nil {
			return nil, fmt.Errorf("sqlite: history: %w", mapErr(err))
		}
		h.LastUpdated = time.UnixMilli(ms).UTC()
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: history: %w", mapErr(err))
	}
	return out, nil
}

// historyQuery builds the SQL and arguments for History.
func historyQuery(tenant string, q store.HistoryQuery) (string, []any) {
	n := q.Count
	if n <= 0 || n > store.MaxHistoryCount+1 {
		n = store.MaxHistoryCount + 1
	}
	var sb strings.Builder
	// Each shape names its index: without table statistics the planner
	// would walk a type's whole history for one resource's versions (to
	// skip a sort), or range over the tenant's history for a type's.
	sb.WriteString(`SELECT seq, type, id, ` + rowColumns + ` FROM resources INDEXED BY `)
	switch {
	case q.ID != "":
		sb.WriteString(`resources_version`) // a few versions, sorted in memory
	case q.Type != "":
		sb.WriteString(`resources_type_history`)
	default:
		sb.WriteString(`resources_tenant_history`)
	}
	sb.WriteString(` WHERE tenant = ?`)
	args := []any{tenant}
	if q.Type != "" {
		sb.WriteString(` AND type = ?`)
		args = append(args, q.Type)
	}
	if q.ID != "" {
		sb.WriteString(` AND id = ?`)
		args = append(args, q.ID)
	}
	if !q.Since.IsZero() {
		sb.WriteString(` AND last_updated >= ?`)
		args = append(args, ceilMilli(q.Since))
	}
	if !q.Before.IsZero() {
		sb.WriteString(` AND (last_updated, seq) < (?, ?)`)
		args = append(args, q.Before.LastUpdated.UnixMilli(), q.Before.Seq)
	}
	sb.WriteString(` ORDER BY last_updated DESC, seq DESC LIMIT ?`)
	args = append(args, n)
	return sb.String(), args
}

// ceilMilli is t in Unix milliseconds, rounded up, so that
// "last_updated >= ceilMilli(t)" means "LastUpdated >= t" exactly.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// Write implements store.Backend: fn runs on the writer goroutine inside
// its own savepoint of a group-committed transaction; Write returns once
// that transaction is durable. If ctx ends before fn starts, fn never runs
// and Write returns ctx.Err(). A full queue or a closed DB yields
// store.ErrBusy. If fn panics, Write panics with the same value.
func (d *DB) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		t := &writeTx{tx: tx, stmts: &d.ws}
		defer t.done.Store(true)
		return fn(t)
	})
}

// writeTx is the store.Tx handed to a Write callback.
type writeTx struct {
	tx    *sql.Tx
	stmts *writerStmts
	done  atomic.Bool // set when the callback returns; the Tx is dead after
}

var errTxDone = errors.New("sqlite: Tx used after its Write callback returned")

// Current implements store.Tx.
func (t *writeTx) Current(tenant, typ, id string) (store.Row, error) {
	if t.done.Load() {
		return store.Row{}, errTxDone
	}
	if err := store.ValidTenant(tenant); err != nil {
		return store.Row{}, err
	}
	ctx := context.Background() // see the package comment on cancellation
	return scanRow(t.tx.StmtContext(ctx, t.stmts.current).QueryRowContext(ctx, tenant, typ, id), typ, id)
}

// Insert implements store.Tx.
func (t *writeTx) Insert(tenant string, row store.Row) error {
	if t.done.Load() {
		return errTxDone
	}
	if err := store.ValidTenant(tenant); err != nil {
		return err
	}
	if row.Type == "" || row.ID == "" {
		return errors.New("sqlite: insert: row without type or id")
	}
	if row.Deleted != (row.Body == nil) || row.Deleted != (row.KeyID == "") {
		return errors.New("sqlite: insert: a row has a body and key id exactly when it is not a deletion")
	}
	ctx := context.Background() // see the package comment on cancellation
	res, err := t.tx.StmtContext(ctx, t.stmts.insert).ExecContext(ctx,
		tenant, row.Type, row.ID, row.Version, row.LastUpdated.UnixMilli(), row.Deleted, row.KeyID, row.Body)
	if err != nil {
		return fmt.Errorf("sqlite: insert: %w", mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: insert: %w", mapErr(err))
	} else if n == 0 {
		return fmt.Errorf("insert version %d of %s/%s: %w", row.Version, row.Type, row.ID, store.ErrVersionConflict)
	}
	if err := t.index(ctx, tenant, row); err != nil {
		return fmt.Errorf("sqlite: index %s/%s: %w", row.Type, row.ID, err)
	}
	return nil
}
