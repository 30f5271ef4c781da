package index

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/store"
)

// Limits of the engine, documented in docs/security.md and the README.
const (
	// MaxSort is the most matches a query sorted on a search parameter
	// (other than _id and _lastUpdated) may have: they are decrypted and
	// sorted in memory.
	MaxSort = 10000
	// MaxChain is the most resources the inner query of a chain may match.
	MaxChain = 1000
	// MaxCount is the most candidates _total=accurate decrypts.
	MaxCount = 100000
	// MaxRevInclude is the most resources _revinclude adds per page.
	MaxRevInclude = 1000
)

// ErrTooMany is returned (wrapped in a *search.Error) when a query needs
// more work than the limits allow; the caller asks for a narrower query.
var ErrTooMany = errors.New("query matches too many resources")

// Store is what the engine needs of the store; *store.Store.
type Store interface {
	Search(ctx context.Context, tenant string, q store.IndexQuery) ([]store.Found, error)
	Count(ctx context.Context, tenant string, q store.IndexQuery) (int64, error)
	Read(ctx context.Context, tenant, typ, id string) (store.Version, error)
}

// Engine runs FHIR searches over the blind index: tokens select
// candidates, which are decrypted and checked against the exact query.
type Engine struct {
	st   Store
	keys Keys
	now  func() time.Time
}

// NewEngine returns an Engine over st; now is the clock for the `ap`
// prefix (nil: time.Now).
func NewEngine(st Store, keys Keys, now func() time.Time) *Engine {
	if now == nil {
		now = time.Now
	}
	return &Engine{st: st, keys: keys, now: now}
}

// Compartment restricts a search to one compartment (/Patient/123/Observation).
type Compartment struct{ Type, ID string }

// Position is where a page starts: after a row of the store order, or at
// an offset into the sorted matches of a query sorted in memory.
type Position struct {
	After  store.IndexCursor
	Offset int
}

// Match is one resource of a result, parsed.
type Match struct {
	store.Version
	Resource *fhir.Resource
	pos      store.IndexCursor // the store position after it
}

// Result is one page of a search.
type Result struct {
	Matches  []Match
	Included []Match // _include and _revinclude, each resource once
	// Total is the number of matches when Query.Total or SummaryCount
	// asked for it; -1 otherwise.
	Total int64
	// Next is the position of the next page; nil on the last page.
	Next *Position
}

// Search runs q in the tenant from position pos.
func (e *Engine) Search(ctx context.Context, tenant string, q search.Query, comp *Compartment, pos Position) (Result, error) {
	key, err := e.keys.IndexKey(ctx, tenant)
	if err != nil {
		return Result{}, err
	}
	p, err := e.plan(ctx, tenant, key, q, comp)
	if err != nil {
		return Result{}, err
	}
	res := Result{Total: -1}
	if p.empty {
		if q.Total != search.TotalNone || q.SummaryCount {
			res.Total = 0
		}
		return res, nil
	}
	switch {
	case p.memSort:
		all, err := e.collect(ctx, tenant, p, MaxSort)
		if errors.Is(err, ErrTooMany) {
			return Result{}, &search.Error{Param: "_sort", Msg: fmt.Sprintf("sorting on a search parameter is limited to %d matches; narrow the query or sort on _lastUpdated or _id", MaxSort)}
		}
		if err != nil {
			return Result{}, err
		}
		sortMatches(all, q.Sort)
		if q.Total != search.TotalNone || q.SummaryCount {
			res.Total = int64(len(all))
		}
		if q.SummaryCount || q.Count == 0 {
			return res, nil
		}
		from := min(pos.Offset, len(all))
		to := min(from+q.Count, len(all))
		res.Matches = all[from:to]
		if to < len(all) {
			res.Next = &Position{Offset: to}
		}
	default:
		if q.Total != search.TotalNone || q.SummaryCount {
			if res.Total, err = e.count(ctx, tenant, p, q.Total == search.TotalEstimate); err != nil {
				return Result{}, err
			}
		}
		if q.SummaryCount || q.Count == 0 {
			return res, nil
		}
		if res.Matches, res.Next, err = e.page(ctx, tenant, p, pos.After, q.Count); err != nil {
			return Result{}, err
		}
	}
	if res.Included, err = e.include(ctx, tenant, key, q, res.Matches); err != nil {
		return Result{}, err
	}
	return res, nil
}

// plan is a query compiled against the index: the store query selecting
// candidates and the exact checks each candidate must pass.
type plan struct {
	iq      store.IndexQuery
	checks  []func(m *Match) bool
	exact   bool // the store query selects exactly the matches
	memSort bool // sorted in memory after decryption
	empty   bool // nothing can match (a chain found no targets)
}

func (e *Engine) plan(ctx context.Context, tenant string, key MAC, q search.Query, comp *Compartment) (*plan, error) {
	p := &plan{iq: store.IndexQuery{Type: q.Type}, exact: true}
	now := e.now()
	// Several one-value date clauses on one parameter (date=ge2020&
	// date=lt2021) select, together, the values overlapping the
	// intersection of their ranges: one token set for it instead of an
	// open-ended set per clause.
	merged := map[string]bool{}
	for code, r := range dateIntersections(q.Clauses, now) {
		merged[code] = true
		t := &tokenizer{mac: key, typ: q.Type}
		alts := append(t.dateRange(code, r[0], r[1]), []store.Token{t.token(code, kMultiDate)})
		p.iq.Clauses = append(p.iq.Clauses, store.IndexClause{Any: alts})
	}
	for _, c := range q.Clauses {
		c := c
		switch {
		case c.Param.Code == "_id":
			ids := make([]string, 0, len(c.Values))
			for _, v := range c.Values {
				ids = append(ids, v.Code)
			}
			if c.Modifier != 0 {
				return nil, &search.Error{Param: "_id", Msg: "modifiers on _id are not supported"}
			}
			if p.iq.IDs == nil {
				p.iq.IDs = ids
			} else {
				p.iq.IDs = intersect(p.iq.IDs, ids)
				if len(p.iq.IDs) == 0 {
					p.empty = true
				}
			}
			p.checks = append(p.checks, func(m *Match) bool {
				return c.MatchAt([]search.Value{{Param: "_id", Kind: search.Token, Code: m.ID}}, now)
			})
		case c.Param.Code == "_lastUpdated":
			if c.Modifier != 0 {
				return nil, &search.Error{Param: "_lastUpdated", Msg: "modifiers on _lastUpdated are not supported"}
			}
			var ranges []store.TimeRange
			for _, v := range c.Values {
				ranges = append(ranges, updatedRanges(v, now)...)
			}
			p.iq.Updated = append(p.iq.Updated, ranges)
			p.exact = false
			p.checks = append(p.checks, func(m *Match) bool {
				t := m.LastUpdated
				return c.MatchAt([]search.Value{{Param: "_lastUpdated", Kind: search.Date, Low: t, High: t.Add(time.Millisecond)}}, now)
			})
		case c.Chain != nil:
			refs, err := e.chain(ctx, tenant, key, c)
			if err != nil {
				return nil, err
			}
			if len(refs) == 0 && c.Modifier != search.Not {
				p.empty = true
			}
			t := &tokenizer{mac: key, typ: q.Type}
			ic := store.IndexClause{}
			for _, r := range refs {
				ic.Any = append(ic.Any, []store.Token{t.token(c.Param.Code, kRef, r)})
			}
			p.iq.Clauses = append(p.iq.Clauses, ic)
			set := make(map[string]bool, len(refs))
			for _, r := range refs {
				set[r] = true
			}
			p.checks = append(p.checks, refersTo([]string{c.Param.Code}, set))
		default:
			ic, exact := clauseTokens(key, q.Type, c, now)
			switch {
			case merged[c.Param.Code]:
				// Tokens for the intersection of the param's date ranges follow.
				p.exact = false
			case c.Modifier == search.Not && !exact:
				// Coarse tokens cannot be negated: the exact check alone
				// decides, over the candidates of the other clauses.
				p.exact = false
			default:
				p.iq.Clauses = append(p.iq.Clauses, ic)
				p.exact = p.exact && exact
			}
			code := c.Param.Code
			p.checks = append(p.checks, func(m *Match) bool {
				vals, _ := search.ExtractParam(m.Resource, code)
				return c.MatchAt(vals, now)
			})
		}
	}
	if comp != nil {
		params := search.CompartmentParams(comp.Type, q.Type)
		if len(params) == 0 {
			return nil, &search.Error{Param: comp.Type, Msg: q.Type + " is not in the " + comp.Type + " compartment"}
		}
		ref := comp.Type + "/" + comp.ID
		t := &tokenizer{mac: key, typ: q.Type}
		ic := store.IndexClause{}
		for _, pc := range params {
			ic.Any = append(ic.Any, []store.Token{t.token(pc, kRef, ref)})
		}
		p.iq.Clauses = append(p.iq.Clauses, ic)
		p.checks = append(p.checks, refersTo(params, map[string]bool{ref: true}))
	}
	switch {
	case len(q.Sort) == 0:
	case len(q.Sort) == 1 && q.Sort[0].Param.Code == "_lastUpdated":
		p.iq.Order = store.ByLastUpdated
		if q.Sort[0].Desc {
			p.iq.Order = store.ByLastUpdatedDesc
		}
	case len(q.Sort) == 1 && q.Sort[0].Param.Code == "_id":
		p.iq.Order = store.ByID
		if q.Sort[0].Desc {
			p.iq.Order = store.ByIDDesc
		}
	default:
		p.memSort = true
	}
	return p, nil
}

// refersTo is the exact check of a resource referring, through one of
// the reference parameters codes, to one of refs (Type/id).
func refersTo(codes []string, refs map[string]bool) func(*Match) bool {
	return func(m *Match) bool {
		for _, code := range codes {
			vals, _ := search.ExtractParam(m.Resource, code)
			for _, v := range vals {
				if refs[v.Ref] {
					return true
				}
			}
		}
		return false
	}
}

// dateIntersections finds date parameters with exactly two one-value,
// unmodified clauses (neither ne), as in date=ge2020&date=lt2021, and
// returns for each the one range a single value must overlap to match
// both: by Helly's theorem for intervals, a value overlapping two
// overlapping ranges overlaps their intersection; when the ranges are
// disjoint, a value overlapping both covers the gap between them. A
// resource with several values of the parameter may match the two
// clauses with different values: those carry a marker token (kMultiDate)
// the query adds, and the exact check decides.
func dateIntersections(cs []search.Clause, now time.Time) map[string][2]time.Time {
	ranges := map[string][][2]time.Time{}
	for _, c := range cs {
		if c.Param.Type != search.Date || c.Param.Metadata || c.Modifier != 0 || c.Chain != nil ||
			len(c.Values) != 1 || c.Values[0].Prefix == search.Ne {
			continue
		}
		lo, hi := dateOverlap(c.Values[0], now)
		ranges[c.Param.Code] = append(ranges[c.Param.Code], [2]time.Time{lo, hi})
	}
	out := map[string][2]time.Time{}
	for code, rs := range ranges {
		if len(rs) != 2 {
			continue
		}
		lo, hi := laterOf(rs[0][0], rs[1][0]), earlierOf(rs[0][1], rs[1][1])
		if !hi.After(lo) {
			// Disjoint: the gap between them, widened to whole days.
			lo, hi = hi.Add(-24*time.Hour), lo.Add(24*time.Hour)
		}
		out[code] = [2]time.Time{lo, hi}
	}
	return out
}

// updatedRanges turns a _lastUpdated operand into ranges of instants
// that may match (the exact check follows).
func updatedRanges(v search.Operand, now time.Time) []store.TimeRange {
	switch v.Prefix {
	case search.Ne:
		return []store.TimeRange{{Hi: v.Low}, {Lo: v.High}}
	case search.Gt, search.Sa:
		return []store.TimeRange{{Lo: v.High}}
	case search.Ge:
		return []store.TimeRange{{Lo: v.Low}}
	case search.Lt, search.Eb:
		return []store.TimeRange{{Hi: v.Low}}
	case search.Le:
		return []store.TimeRange{{Hi: v.High}}
	case search.Ap:
		lo, hi := dateOverlap(v, now)
		return []store.TimeRange{{Lo: lo, Hi: hi}}
	}
	return []store.TimeRange{{Lo: v.Low, Hi: v.High}}
}

// chain runs the inner clauses of a chained clause and returns the
// references (Type/id) of the resources they match.
func (e *Engine) chain(ctx context.Context, tenant string, key MAC, c search.Clause) ([]string, error) {
	var refs []string
	for _, link := range c.Chain {
		inner := search.Query{Type: link.Type, Clauses: []search.Clause{link.Clause}, Count: MaxChain}
		p, err := e.plan(ctx, tenant, key, inner, nil)
		if err != nil {
			return nil, err
		}
		if p.empty {
			continue
		}
		ms, err := e.collect(ctx, tenant, p, MaxChain)
		if err != nil && !errors.Is(err, ErrTooMany) {
			return nil, err
		}
		if err != nil {
			return nil, &search.Error{Param: c.Param.Code, Msg: fmt.Sprintf("the chained query matches more than %d resources; narrow it", MaxChain)}
		}
		for _, m := range ms {
			refs = append(refs, link.Type+"/"+m.ID)
		}
	}
	return refs, nil
}

// batch is how many candidates one store call fetches for a page.
func batch(count int) int { return min(max(2*count+1, 50), store.MaxSearchCount) }

// page returns up to count matches after position after, and the
// position of the next page when more matches follow.
func (e *Engine) page(ctx context.Context, tenant string, p *plan, after store.IndexCursor, count int) ([]Match, *Position, error) {
	var out []Match
	iq := p.iq
	iq.After = after
	iq.Limit = batch(count)
	for {
		rows, err := e.st.Search(ctx, tenant, iq)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			m, ok, err := p.accept(r)
			if err != nil {
				return nil, nil, err
			}
			if !ok {
				continue
			}
			if len(out) == count {
				// A match beyond the page: the next page starts after the last one kept.
				last := out[count-1]
				return out, &Position{After: last.pos}, nil
			}
			out = append(out, m)
		}
		if len(rows) < iq.Limit {
			return out, nil, nil
		}
		iq.After = rows[len(rows)-1].Cursor
	}
}

// collect returns every match of p, failing with ErrTooMany past limit.
func (e *Engine) collect(ctx context.Context, tenant string, p *plan, limit int) ([]Match, error) {
	var out []Match
	iq := p.iq
	iq.Limit = store.MaxSearchCount
	for {
		rows, err := e.st.Search(ctx, tenant, iq)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			m, ok, err := p.accept(r)
			if err != nil {
				return nil, err
			}
			if ok {
				if len(out) == limit {
					return nil, ErrTooMany
				}
				out = append(out, m)
			}
		}
		if len(rows) < iq.Limit {
			return out, nil
		}
		iq.After = rows[len(rows)-1].Cursor
	}
}

// count returns the number of matches: from the index alone when its
// tokens are exact (or an estimate is enough), else by checking every
// candidate.
func (e *Engine) count(ctx context.Context, tenant string, p *plan, estimate bool) (int64, error) {
	if p.exact || estimate {
		return e.st.Count(ctx, tenant, p.iq)
	}
	ms, err := e.collect(ctx, tenant, p, MaxCount)
	if errors.Is(err, ErrTooMany) {
		return 0, &search.Error{Param: "_total", Msg: fmt.Sprintf("an accurate total is limited to %d matches for this query; use _total=estimate", MaxCount)}
	}
	if err != nil {
		return 0, err
	}
	return int64(len(ms)), nil
}

// accept parses a candidate and runs the exact checks.
func (p *plan) accept(f store.Found) (Match, bool, error) {
	r, err := fhir.Parse(f.Body)
	if err != nil {
		return Match{}, false, fmt.Errorf("index: stored %s/%s does not parse: %w", f.Type, f.ID, err)
	}
	m := Match{Version: f.Version, Resource: r, pos: f.Cursor}
	for _, check := range p.checks {
		if !check(&m) {
			return m, false, nil
		}
	}
	return m, true, nil
}

// sortMatches sorts by the _sort keys: for each key, a resource's lowest
// value ascending or highest descending; resources without a value last.
func sortMatches(ms []Match, keys []search.SortKey) {
	type keyed struct {
		vals []string
		has  []bool
	}
	ks := make([]keyed, len(ms))
	for i := range ms {
		ks[i] = keyed{vals: make([]string, len(keys)), has: make([]bool, len(keys))}
		for j, k := range keys {
			ks[i].vals[j], ks[i].has[j] = sortValue(&ms[i], k)
		}
	}
	idx := make([]int, len(ms))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		for j, k := range keys {
			ha, hb := ks[a].has[j], ks[b].has[j]
			switch {
			case ha && !hb:
				return -1
			case !ha && hb:
				return 1
			case !ha && !hb:
				continue
			}
			c := strings.Compare(ks[a].vals[j], ks[b].vals[j])
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(ms[a].pos.RID, ms[b].pos.RID)
	})
	sorted := make([]Match, len(ms))
	for i, j := range idx {
		sorted[i] = ms[j]
	}
	copy(ms, sorted)
}

// sortValue is the comparable key of a match for one sort key.
func sortValue(m *Match, k search.SortKey) (string, bool) {
	switch k.Param.Code {
	case "_id":
		return m.ID, true
	case "_lastUpdated":
		return m.LastUpdated.UTC().Format(time.RFC3339Nano), true
	}
	vals, _ := search.ExtractParam(m.Resource, k.Param.Code)
	var best string
	found := false
	for _, v := range vals {
		s := sortString(v)
		if !found || (!k.Desc && s < best) || (k.Desc && s > best) {
			best, found = s, true
		}
	}
	return best, found
}

// sortString maps a value to a string whose order is the value's.
func sortString(v search.Value) string {
	switch v.Kind {
	case search.String:
		return v.Text
	case search.Token:
		return v.System + "|" + v.Code
	case search.Reference:
		return v.Ref
	case search.URI:
		return v.Raw
	case search.Date:
		return fmt.Sprintf("%020d", v.Low.Unix()-minUnix)
	case search.Number, search.Quantity:
		return orderedFloat(v.NumLow)
	}
	return ""
}

// minUnix makes every FHIR date's Unix seconds non-negative.
var minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// orderedFloat maps x (the low end of a value's precision range) to a
// string that sorts like it, by the IEEE 754 bits with the sign
// flipped so that negative numbers sort first.
func orderedFloat(x float64) string {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return fmt.Sprintf("%016x", b)
}

// include returns the resources _include and _revinclude add to a page,
// each once and none that is already a match.
func (e *Engine) include(ctx context.Context, tenant string, key MAC, q search.Query, matches []Match) ([]Match, error) {
	if len(matches) == 0 || len(q.Includes)+len(q.RevIncludes) == 0 {
		return nil, nil
	}
	seen := make(map[string]bool, len(matches))
	for _, m := range matches {
		seen[m.Type+"/"+m.ID] = true
	}
	var out []Match
	for _, inc := range q.Includes {
		for _, m := range matches {
			vals, _ := search.ExtractParam(m.Resource, inc.Param.Code)
			for _, v := range vals {
				// Only relative references name a resource here: an absolute
				// URL is another server's, whatever its type and id.
				if v.Type == "" || v.ID == "" || v.Ref != v.Type+"/"+v.ID ||
					(inc.Target != "" && v.Type != inc.Target) || seen[v.Type+"/"+v.ID] {
					continue
				}
				seen[v.Type+"/"+v.ID] = true
				ver, err := e.st.Read(ctx, tenant, v.Type, v.ID)
				if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrGone) || errors.Is(err, store.ErrInvalid) {
					continue // a dangling reference includes nothing
				}
				if err != nil {
					return nil, err
				}
				r, err := fhir.Parse(ver.Body)
				if err != nil {
					return nil, fmt.Errorf("index: stored %s/%s does not parse: %w", v.Type, v.ID, err)
				}
				out = append(out, Match{Version: ver, Resource: r})
			}
		}
	}
	for _, inc := range q.RevIncludes {
		if inc.Target != "" && inc.Target != q.Type {
			continue
		}
		t := &tokenizer{mac: key, typ: inc.Source}
		set := make(map[string]bool, len(matches))
		ic := store.IndexClause{}
		for _, m := range matches {
			ref := q.Type + "/" + m.ID
			set[ref] = true
			ic.Any = append(ic.Any, []store.Token{t.token(inc.Param.Code, kRef, ref)})
		}
		p := &plan{iq: store.IndexQuery{Type: inc.Source, Clauses: []store.IndexClause{ic}}}
		p.checks = append(p.checks, refersTo([]string{inc.Param.Code}, set))
		found, err := e.collect(ctx, tenant, p, MaxRevInclude)
		if errors.Is(err, ErrTooMany) {
			return nil, &search.Error{Param: "_revinclude", Msg: fmt.Sprintf("more than %d resources would be included; narrow the query or lower _count", MaxRevInclude)}
		}
		if err != nil {
			return nil, err
		}
		for _, m := range found {
			if k := m.Type + "/" + m.ID; !seen[k] {
				seen[k] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}
