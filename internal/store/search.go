package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Token is a blind-index token: a keyed MAC of one normalised search value
// (docs/decisions/0008-blind-index.md). The store keeps tokens for the
// current version of each resource and never sees what they stand for.
type Token [8]byte

// Indexer computes the blind-index tokens of a document about to be
// written. The Store calls it before the write transaction (it may load
// keys); the tokens are written in the same transaction as the version.
type Indexer interface {
	Tokens(ctx context.Context, tenant string, doc Document) ([]Token, error)
}

// MaxSearchCount is the largest number of rows one Backend.Search returns.
const MaxSearchCount = 1000

// IndexQuery selects current, non-deleted resources of one type by their
// tokens and clear metadata. Every condition must hold (AND).
type IndexQuery struct {
	Type    string
	Clauses []IndexClause
	// IDs, when not nil, lists the ids a resource may have.
	IDs []string
	// Updated are conditions on LastUpdated: each holds when the time
	// falls in one of its ranges.
	Updated [][]TimeRange
	Order   IndexOrder
	// After is the position of the last row of the previous page, in
	// Order; the zero value starts at the beginning.
	After IndexCursor
	// Limit is the maximum number of rows; <= 0 or > MaxSearchCount means
	// MaxSearchCount.
	Limit int
}

// IndexClause is one condition on tokens. It holds for a resource that
// has every token of at least one of the Any alternatives; with Not, for
// a resource that has none of them in full.
type IndexClause struct {
	Any [][]Token
	Not bool
}

// TimeRange is [Lo, Hi); a zero end is open.
type TimeRange struct{ Lo, Hi time.Time }

// IndexOrder is the order of IndexQuery results.
type IndexOrder uint8

// Result orders: insertion (rid), LastUpdated, or id, ties broken by rid.
const (
	ByRID IndexOrder = iota
	ByLastUpdated
	ByLastUpdatedDesc
	ByID
	ByIDDesc
)

// IndexCursor is a position in an IndexOrder: the RID of the last row,
// with its LastUpdated or ID for the orders on them.
type IndexCursor struct {
	RID         int64
	LastUpdated time.Time
	ID          string
}

// IndexRow is a current resource version found by Search, with its
// position for the next page.
type IndexRow struct {
	Row
	RID int64
}

// Found is a decrypted search result.
type Found struct {
	Version
	Cursor IndexCursor // the position after this result
}

// Search returns the current versions of resources selected by q's tokens
// and metadata, decrypted, in q.Order. They are candidates: tokens are a
// superset test, and the caller checks each against the exact query.
func (s *Store) Search(ctx context.Context, tenant string, q IndexQuery) ([]Found, error) {
	if err := ValidTenant(tenant); err != nil {
		return nil, err
	}
	if err := ValidType(q.Type); err != nil {
		return nil, err
	}
	rows, err := s.b.Search(ctx, tenant, q)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", q.Type, err)
	}
	out := make([]Found, len(rows))
	for i, r := range rows {
		v, err := s.open(ctx, tenant, r.Type, r.ID, r.Row)
		if err != nil && !errors.Is(err, ErrGone) {
			return nil, fmt.Errorf("search %s/%s: %w", r.Type, r.ID, err)
		}
		out[i] = Found{Version: v, Cursor: IndexCursor{RID: r.RID, LastUpdated: r.LastUpdated, ID: r.ID}}
	}
	return out, nil
}

// Count returns how many current resources q's tokens and metadata
// select (candidates: an upper bound of the exact matches), ignoring
// Order, After and Limit.
func (s *Store) Count(ctx context.Context, tenant string, q IndexQuery) (int64, error) {
	if err := ValidTenant(tenant); err != nil {
		return 0, err
	}
	if err := ValidType(q.Type); err != nil {
		return 0, err
	}
	n, err := s.b.Count(ctx, tenant, q)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", q.Type, err)
	}
	return n, nil
}
