package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

// index keeps current and search_tokens in step with an inserted version:
// the version becomes the resource's current row and its tokens replace
// the previous version's (a deletion leaves none). Only the difference
// between the old and new token sets is written.
func (t *writeTx) index(ctx context.Context, tenant string, row store.Row) error {
	var newTokens []store.Token
	if !row.Deleted {
		newTokens = sortedTokens(row.Tokens)
	}
	packed := packTokens(newTokens)
	deleted := row.Deleted
	ms := row.LastUpdated.UnixMilli()

	var rid int64
	var oldPacked []byte
	err := t.tx.StmtContext(ctx, t.stmts.indexed).QueryRowContext(ctx, tenant, row.Type, row.ID).Scan(&rid, &oldPacked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := t.tx.StmtContext(ctx, t.stmts.newCurrent).ExecContext(ctx,
			tenant, row.Type, row.ID, row.Version, ms, deleted)
		if err != nil {
			return mapErr(err)
		}
		if rid, err = res.LastInsertId(); err != nil {
			return mapErr(err)
		}
	case err != nil:
		return mapErr(err)
	default:
		if _, err := t.tx.StmtContext(ctx, t.stmts.setCurrent).ExecContext(ctx,
			row.Version, ms, deleted, rid); err != nil {
			return mapErr(err)
		}
	}
	if !bytes.Equal(oldPacked, packed) { // an update that changes no search value keeps its list
		if _, err := t.tx.StmtContext(ctx, t.stmts.setTokens).ExecContext(ctx, rid, packed); err != nil {
			return mapErr(err)
		}
	}
	oldTokens, err := unpackTokens(oldPacked)
	if err != nil {
		return err
	}
	add, drop := diffTokens(oldTokens, newTokens)
	if len(drop) > 0 {
		st := t.tx.StmtContext(ctx, t.stmts.dropToken)
		for _, tok := range drop {
			if _, err := st.ExecContext(ctx, tok[:], rid); err != nil {
				return mapErr(err)
			}
		}
	}
	// New tokens go in tokenChunk rows per statement: one statement per
	// token was most of the cost of a write.
	if len(add) >= tokenChunk {
		st := t.tx.StmtContext(ctx, t.stmts.addTokens)
		args := make([]any, 0, 2*tokenChunk)
		for len(add) >= tokenChunk {
			args = args[:0]
			for _, tok := range add[:tokenChunk] {
				args = append(args, tok[:], rid)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return mapErr(err)
			}
			add = add[tokenChunk:]
		}
	}
	if len(add) > 0 {
		st := t.tx.StmtContext(ctx, t.stmts.addToken)
		for _, tok := range add {
			if _, err := st.ExecContext(ctx, tok[:], rid); err != nil {
				return mapErr(err)
			}
		}
	}
	return nil
}

// tokenChunk is the number of token rows one multi-row insert writes.
const tokenChunk = 16

func sortedTokens(toks []store.Token) []store.Token {
	out := slices.Clone(toks)
	slices.SortFunc(out, func(a, b store.Token) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

func packTokens(toks []store.Token) []byte {
	b := make([]byte, 0, len(toks)*len(store.Token{}))
	for _, t := range toks {
		b = append(b, t[:]...)
	}
	return b
}

func unpackTokens(b []byte) ([]store.Token, error) {
	const n = len(store.Token{})
	if len(b)%n != 0 {
		return nil, fmt.Errorf("current row holds %d token bytes, not a multiple of %d", len(b), n)
	}
	out := make([]store.Token, len(b)/n)
	for i := range out {
		copy(out[i][:], b[i*n:])
	}
	return out, nil
}

// diffTokens returns the tokens of b not in a (add) and of a not in b
// (drop); both inputs are sorted and without duplicates.
func diffTokens(a, b []store.Token) (add, drop []store.Token) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b):
			drop, i = append(drop, a[i]), i+1
		case i == len(a):
			add, j = append(add, b[j]), j+1
		default:
			switch c := bytes.Compare(a[i][:], b[j][:]); {
			case c == 0:
				i, j = i+1, j+1
			case c < 0:
				drop, i = append(drop, a[i]), i+1
			default:
				add, j = append(add, b[j]), j+1
			}
		}
	}
	return add, drop
}

// Search implements store.Backend.
func (d *DB) Search(ctx context.Context, tenant string, q store.IndexQuery) ([]store.IndexRow, error) {
	if err := store.ValidTenant(tenant); err != nil {
		return nil, err
	}
	driver, err := d.pickDriver(ctx, q)
	if err != nil {
		return nil, err
	}
	query, args, ok := mergedSQL(tenant, q, driver)
	if !ok {
		query, args = searchSQL(tenant, q, driver, false)
	}
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", mapErr(err))
	}
	defer rows.Close()
	var out []store.IndexRow
	for rows.Next() {
		r := store.IndexRow{Row: store.Row{Type: q.Type}}
		var ms int64
		if err := rows.Scan(&r.RID, &r.ID, &r.Version, &ms, &r.Deleted, &r.KeyID, &r.Body); err != nil {
			return nil, fmt.Errorf("sqlite: search: %w", mapErr(err))
		}
		r.LastUpdated = time.UnixMilli(ms).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", mapErr(err))
	}
	return out, nil
}

// Count implements store.Backend.
func (d *DB) Count(ctx context.Context, tenant string, q store.IndexQuery) (int64, error) {
	if err := store.ValidTenant(tenant); err != nil {
		return 0, err
	}
	driver, err := d.pickDriver(ctx, q)
	if err != nil {
		return 0, err
	}
	query, args := searchSQL(tenant, q, driver, true)
	var n int64
	if err := d.r.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count: %w", mapErr(err))
	}
	return n, nil
}

// estimateCap bounds the row count pickDriver reads per clause.
const estimateCap = 4000

// pickDriver chooses the clause whose tokens select the fewest rows to
// drive the query (-1: scan the type's current rows): the planner has no
// statistics on tokens, and the most selective clause makes the rest
// cheap point lookups. A clause is estimated by the rows of the first
// token of each alternative, up to estimateCap. When every clause reaches
// the cap and the order is not by rid, scanning in order is cheaper than
// sorting a large candidate set.
func (d *DB) pickDriver(ctx context.Context, q store.IndexQuery) (int, error) {
	if q.IDs != nil {
		return -1, nil // the id index drives
	}
	best, bestN := -1, int64(estimateCap)
	for i, c := range q.Clauses {
		if c.Not || len(c.Any) == 0 {
			continue
		}
		firsts := make([]any, 0, len(c.Any))
		for _, alt := range c.Any {
			if len(alt) > 0 {
				firsts = append(firsts, alt[0][:])
			}
		}
		var n int64
		query := `SELECT count(*) FROM (SELECT 1 FROM search_tokens WHERE token IN (` + placeholders(len(firsts)) + `) LIMIT ` + fmt.Sprint(estimateCap) + `)`
		if err := d.r.QueryRowContext(ctx, query, firsts...).Scan(&n); err != nil {
			return 0, fmt.Errorf("sqlite: search: estimate: %w", mapErr(err))
		}
		if best == -1 && q.Order == store.ByRID || n < bestN {
			best, bestN = i, n
		}
	}
	return best, nil
}

// searchSQL builds the search (or count) query. With a driver, the
// driving clause's token rows are the outer loop; otherwise the type's
// current rows are scanned in the index matching the order. A search
// selects and orders the page's rids first, on narrow rows, and only then
// reads the page's bodies: ordering the joined rows would read the body
// of every candidate.
func searchSQL(tenant string, q store.IndexQuery, driver int, count bool) (string, []any) {
	var sb strings.Builder
	var args []any
	// Tokens are keyed per tenant, name the type, and exist only for live
	// current versions, so a driven query in rid order needs current only
	// for the page: the tenant, type and deleted checks move to the outer
	// join (they still run, against a MAC collision), and the candidates
	// are never looked up one by one.
	tokensOnly := driver >= 0 && q.IDs == nil && len(q.Updated) == 0 && q.Order == store.ByRID
	ridCol := "c.rid"
	if tokensOnly {
		ridCol = "d.rid"
	}
	switch {
	case count:
		sb.WriteString(`SELECT count(*)`)
	case tokensOnly:
		sb.WriteString(pageRowsSQL + ` FROM (SELECT d.rid AS rid`)
	default:
		sb.WriteString(pageRowsSQL + ` FROM (SELECT c.rid AS rid, c.id AS id, c.last_updated AS lu`)
	}
	sb.WriteString(` FROM `)
	if driver >= 0 {
		sb.WriteString(`(`)
		args = driverSQL(&sb, args, q.Clauses[driver].Any)
		sb.WriteString(`) d`)
		if !tokensOnly {
			sb.WriteString(` CROSS JOIN current c ON c.rid = d.rid`)
		}
	} else {
		switch {
		case q.IDs != nil:
			sb.WriteString(`current c INDEXED BY current_id`)
		case q.Order == store.ByLastUpdated || q.Order == store.ByLastUpdatedDesc:
			sb.WriteString(`current c INDEXED BY current_updated`)
		case q.Order == store.ByID || q.Order == store.ByIDDesc:
			sb.WriteString(`current c INDEXED BY current_id`)
		default:
			sb.WriteString(`current c INDEXED BY current_type`)
		}
	}
	if tokensOnly {
		sb.WriteString(` WHERE 1`)
	} else {
		sb.WriteString(` WHERE c.tenant = ? AND c.type = ? AND c.deleted = 0`)
		args = append(args, tenant, q.Type)
	}
	if q.IDs != nil {
		sb.WriteString(` AND c.id IN (` + placeholders(len(q.IDs)) + `)`)
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	for _, ranges := range q.Updated {
		sb.WriteString(` AND (0`)
		for _, r := range ranges {
			sb.WriteString(` OR (1`)
			if !r.Lo.IsZero() {
				sb.WriteString(` AND c.last_updated >= ?`)
				args = append(args, ceilMilli(r.Lo))
			}
			if !r.Hi.IsZero() {
				sb.WriteString(` AND c.last_updated < ?`)
				args = append(args, ceilMilli(r.Hi))
			}
			sb.WriteString(`)`)
		}
		sb.WriteString(`)`)
	}
	args = otherClausesSQL(&sb, args, q, driver, ridCol)
	if count {
		return sb.String(), args
	}
	a := q.After
	switch q.Order {
	case store.ByLastUpdated:
		if a.RID != 0 {
			sb.WriteString(` AND (c.last_updated, c.rid) > (?, ?)`)
			args = append(args, a.LastUpdated.UnixMilli(), a.RID)
		}
		sb.WriteString(` ORDER BY c.last_updated, c.rid`)
	case store.ByLastUpdatedDesc:
		if a.RID != 0 {
			sb.WriteString(` AND (c.last_updated, c.rid) < (?, ?)`)
			args = append(args, a.LastUpdated.UnixMilli(), a.RID)
		}
		sb.WriteString(` ORDER BY c.last_updated DESC, c.rid DESC`)
	case store.ByID:
		if a.RID != 0 {
			sb.WriteString(` AND (c.id, c.rid) > (?, ?)`)
			args = append(args, a.ID, a.RID)
		}
		sb.WriteString(` ORDER BY c.id, c.rid`)
	case store.ByIDDesc:
		if a.RID != 0 {
			sb.WriteString(` AND (c.id, c.rid) < (?, ?)`)
			args = append(args, a.ID, a.RID)
		}
		sb.WriteString(` ORDER BY c.id DESC, c.rid DESC`)
	default:
		// With a driver, its rid: a single token's rows come in that
		// order from the index, so the page needs no sort.
		col := ridCol
		if driver >= 0 {
			col = "d.rid"
		}
		if a.RID != 0 {
			sb.WriteString(` AND ` + col + ` > ?`)
			args = append(args, a.RID)
		}
		sb.WriteString(` ORDER BY ` + col)
	}
	sb.WriteString(` LIMIT ?) p` + pageJoinSQL)
	switch q.Order {
	case store.ByLastUpdated:
		sb.WriteString(`p.lu, p.rid`)
	case store.ByLastUpdatedDesc:
		sb.WriteString(`p.lu DESC, p.rid DESC`)
	case store.ByID:
		sb.WriteString(`p.id, p.rid`)
	case store.ByIDDesc:
		sb.WriteString(`p.id DESC, p.rid DESC`)
	default:
		sb.WriteString(`p.rid`)
	}
	args = append(args, pageLimit(q), tenant, q.Type)
	return sb.String(), args
}

// The page's rows: its rids p (with id and lu when ordered on them) joined
// to current, where the tenant, type and deleted checks always run, and to
// the version's sealed body. pageJoinSQL ends with ORDER BY; the caller
// writes the order.
const (
	pageRowsSQL = `SELECT p.rid, c.id, r.version, r.last_updated, r.deleted, r.key_id, r.body`
	pageJoinSQL = ` CROSS JOIN current c ON c.rid = p.rid
		CROSS JOIN resources r INDEXED BY resources_version
			ON r.tenant = c.tenant AND r.type = c.type AND r.id = c.id AND r.version = c.version
		WHERE c.tenant = ? AND c.type = ? AND c.deleted = 0
		ORDER BY `
)

// pageLimit is q.Limit within (0, MaxSearchCount].
func pageLimit(q store.IndexQuery) int {
	if q.Limit <= 0 || q.Limit > store.MaxSearchCount {
		return store.MaxSearchCount
	}
	return q.Limit
}

// otherClausesSQL writes the conditions of every clause but the driver
// on the rid in ridCol.
func otherClausesSQL(sb *strings.Builder, args []any, q store.IndexQuery, driver int, ridCol string) []any {
	for i, c := range q.Clauses {
		if i == driver {
			continue
		}
		sb.WriteString(` AND `)
		if c.Not {
			sb.WriteString(`NOT `)
		}
		args = existsSQL(sb, args, ridCol, c.Any)
	}
	return args
}

// maxMerged bounds the token streams mergedSQL merges (SQLite allows 500
// terms in a compound select).
const maxMerged = 100

// mergedSQL builds, for a driven query in rid order whose driver is an OR
// of single tokens (date and number buckets, OR-ed values), a compound
// select of one rid-ordered stream per token: SQLite merges the streams
// (MERGE (UNION)) and stops at the page, instead of collecting and
// sorting every candidate. It must stay a top-level compound (here a
// materialised CTE) to keep the merge. ok is false when the shape does
// not apply.
func mergedSQL(tenant string, q store.IndexQuery, driver int) (string, []any, bool) {
	if driver < 0 || q.IDs != nil || len(q.Updated) > 0 || q.Order != store.ByRID {
		return "", nil, false
	}
	singles, multi := splitAlts(q.Clauses[driver].Any)
	if len(multi) > 0 || len(singles) < 2 || len(singles) > maxMerged {
		return "", nil, false
	}
	var sb strings.Builder
	var args []any
	sb.WriteString(`WITH p(rid) AS MATERIALIZED (`)
	for i, tok := range singles {
		if i > 0 {
			sb.WriteString(` UNION `)
		}
		sb.WriteString(`SELECT t.rid FROM search_tokens t WHERE t.token = ?`)
		args = append(args, tok[:])
		if q.After.RID != 0 {
			sb.WriteString(` AND t.rid > ?`)
			args = append(args, q.After.RID)
		}
		args = otherClausesSQL(&sb, args, q, driver, "t.rid")
	}
	sb.WriteString(` ORDER BY 1 LIMIT ?) ` + pageRowsSQL + ` FROM p` + pageJoinSQL + `p.rid`)
	args = append(args, pageLimit(q), tenant, q.Type)
	return sb.String(), args, true
}

// driverSQL writes a query of the rids having every token of one of the
// alternatives, in rid order.
func driverSQL(sb *strings.Builder, args []any, alts [][]store.Token) []any {
	singles, multi := splitAlts(alts)
	if len(singles) == 1 && len(multi) == 0 {
		sb.WriteString(`SELECT rid FROM search_tokens WHERE token = ?`)
		return append(args, singles[0][:])
	}
	sb.WriteString(`SELECT DISTINCT rid FROM (`)
	first := true
	sep := func() {
		if !first {
			sb.WriteString(` UNION ALL `)
		}
		first = false
	}
	if len(singles) > 0 {
		sep()
		sb.WriteString(`SELECT rid FROM search_tokens WHERE token IN (` + placeholders(len(singles)) + `)`)
		args = appendTokens(args, singles)
	}
	for _, alt := range multi {
		sep()
		sb.WriteString(`SELECT rid FROM search_tokens WHERE token IN (` + placeholders(len(alt)) + `) GROUP BY rid HAVING count(*) = ?`)
		args = append(appendTokens(args, alt), len(alt))
	}
	if first { // no alternatives: nothing matches
		sb.WriteString(`SELECT NULL AS rid WHERE 0`)
	}
	sb.WriteString(`) ORDER BY rid`)
	return args
}

// existsSQL writes a condition on the rid in ridCol having every token of
// one of the alternatives.
func existsSQL(sb *strings.Builder, args []any, ridCol string, alts [][]store.Token) []any {
	singles, multi := splitAlts(alts)
	sb.WriteString(`(0`)
	if len(singles) > 0 {
		sb.WriteString(` OR EXISTS (SELECT 1 FROM search_tokens WHERE token IN (` + placeholders(len(singles)) + `) AND rid = ` + ridCol + `)`)
		args = appendTokens(args, singles)
	}
	for _, alt := range multi {
		sb.WriteString(` OR (SELECT count(*) FROM search_tokens WHERE token IN (` + placeholders(len(alt)) + `) AND rid = ` + ridCol + `) = ?`)
		args = append(appendTokens(args, alt), len(alt))
	}
	sb.WriteString(`)`)
	return args
}

// splitAlts separates one-token alternatives (merged into one IN list)
// from multi-token ones, each deduplicated. Empty alternatives are
// dropped: callers never build them.
func splitAlts(alts [][]store.Token) (singles []store.Token, multi [][]store.Token) {
	for _, alt := range alts {
		alt = sortedTokens(alt)
		switch len(alt) {
		case 0:
		case 1:
			singles = append(singles, alt[0])
		default:
			multi = append(multi, alt)
		}
	}
	return sortedTokens(singles), multi
}

func appendTokens(args []any, toks []store.Token) []any {
	for _, t := range toks {
		args = append(args, t[:])
	}
	return args
}

func placeholders(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return strings.Repeat("?, ", n-1) + "?"
}
