package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
)

// Searcher runs FHIR searches; *index.Engine.
type Searcher interface {
	Search(ctx context.Context, tenant string, q search.Query, comp *index.Compartment, pos index.Position) (index.Result, error)
}

// Cursors seal paging state into opaque link tokens; *index.Cursors.
type Cursors interface {
	Seal(ctx context.Context, tenant string, state []byte) (string, error)
	Open(ctx context.Context, tenant, cursor string) ([]byte, error)
}

// cursorParam carries the sealed paging state in self/next/previous links.
const cursorParam = "_cursor"

// cursorTTL bounds how long a paging link stays valid.
const cursorTTL = time.Hour

// maxPrevious bounds the page starts a cursor remembers for "previous".
const maxPrevious = 50

// pageState is what a paging link seals: the search as parsed from the
// first request, and where each page so far started (the last is the
// current page).
type pageState struct {
	Type    string           `json:"t"`
	CompT   string           `json:"ct,omitempty"`
	CompID  string           `json:"ci,omitempty"`
	Params  string           `json:"q"`
	Lenient bool             `json:"l,omitempty"`
	Starts  []index.Position `json:"s"`
	Expires int64            `json:"e"`
}

func (s *Server) searchType(c *call) (*reply, error) {
	return s.runSearch(c, c.r.PathValue("type"), nil)
}

func (s *Server) searchCompartment(c *call) (*reply, error) {
	ct, cid := c.r.PathValue("ctype"), c.r.PathValue("cid")
	if !validID(cid) {
		return nil, bad("invalid compartment id", ct)
	}
	return s.runSearch(c, c.r.PathValue("type"), &index.Compartment{Type: ct, ID: cid})
}

// searchParams returns the search parameters of a GET (the query) or a
// POST _search (the form body and the query).
func searchParams(c *call) (url.Values, error) {
	params := c.r.URL.Query()
	if c.r.Method == http.MethodPost {
		mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" && c.r.ContentLength != 0 {
			return nil, &badRequest{status: http.StatusUnsupportedMediaType, code: "not-supported", msg: "POST _search takes an application/x-www-form-urlencoded body"}
		}
		body, err := io.ReadAll(c.r.Body)
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, bad("malformed form body")
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	params.Del("_format")
	params.Del("_pretty")
	return params, nil
}

func (s *Server) runSearch(c *call, typ string, comp *index.Compartment) (*reply, error) {
	ctx := c.r.Context()
	params, err := searchParams(c)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(access.Search, typ); err != nil {
		return nil, err
	}
	st := pageState{Type: typ, Lenient: lenient(c.r), Starts: []index.Position{{}}}
	if comp != nil {
		st.CompT, st.CompID = comp.Type, comp.ID
	}
	if cur := params.Get(cursorParam); cur != "" {
		if len(params) != 1 {
			return nil, bad("a paging link takes no other search parameters", cursorParam)
		}
		if st, err = s.openState(ctx, c.p.Tenant, cur); err != nil {
			return nil, err
		}
		if st.Type != typ || (comp == nil) != (st.CompT == "") || (comp != nil && (comp.Type != st.CompT || comp.ID != st.CompID)) {
			return nil, bad("the paging link belongs to another search", cursorParam)
		}
		if params, err = url.ParseQuery(st.Params); err != nil {
			return nil, bad("invalid paging link", cursorParam)
		}
	}
	q, err := search.Parse(typ, params, st.Lenient)
	if err != nil {
		return nil, err
	}
	st.Params = params.Encode()
	res, err := s.d.Search.Search(ctx, c.p.Tenant, q, comp, st.Starts[len(st.Starts)-1])
	if err != nil {
		c.event(audit.ActionRead, c.subtype, typ, "", 0)
		return nil, err
	}
	b := searchBundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(s.d.Now())}
	if res.Total >= 0 {
		b.Total = &res.Total
	}
	path := s.d.BaseURL + c.r.URL.Path
	path = strings.TrimSuffix(path, "/_search")
	link := func(rel string, starts []index.Position) error {
		ps := st
		ps.Starts = starts
		tok, err := s.sealState(ctx, c.p.Tenant, ps)
		if err != nil {
			return err
		}
		b.Link = append(b.Link, bundleLink{Relation: rel, URL: path + "?" + cursorParam + "=" + tok})
		return nil
	}
	if err := link("self", st.Starts); err != nil {
		return nil, err
	}
	if res.Next != nil {
		starts := append(st.Starts[max(0, len(st.Starts)-maxPrevious+1):len(st.Starts):len(st.Starts)], *res.Next)
		if err := link("next", starts); err != nil {
			return nil, err
		}
	}
	if len(st.Starts) > 1 {
		if err := link("previous", st.Starts[:len(st.Starts)-1]); err != nil {
			return nil, err
		}
	}
	hidden := 0
	for _, m := range res.Matches {
		if ok, err := c.visibleMatch(m); err != nil {
			return nil, err
		} else if !ok {
			hidden++
			continue // a record the caller may not see is left out, unnamed
		}
		c.matchEvent(m)
		body, err := elements(m.Body, q.Elements)
		if err != nil {
			return nil, err
		}
		b.Entry = append(b.Entry, searchEntry{FullURL: s.resourceURL(m.Type, m.ID), Resource: body, Search: &entrySearch{Mode: "match"}})
	}
	if c.restricted() && b.Total != nil && (res.Next != nil || len(st.Starts) > 1) {
		// The total counts only what the caller may see, which is known
		// only when the whole result is this one page.
		b.Total = nil
	} else if b.Total != nil {
		visible := *b.Total - int64(hidden)
		b.Total = &visible
	}
	for _, m := range res.Included {
		if err := c.authorize(access.Read, m.Type); err != nil {
			continue // included resources the caller may not read are left out
		}
		if ok, err := c.visibleMatch(m); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		c.matchEvent(m)
		b.Entry = append(b.Entry, searchEntry{FullURL: s.resourceURL(m.Type, m.ID), Resource: m.Body, Search: &entrySearch{Mode: "include"}})
	}
	if len(q.Ignored) > 0 {
		oo := outcome(c.rid, ooIssue{Severity: "warning", Code: "not-supported",
			Diagnostics: "ignored unknown search parameters (Prefer: handling=lenient): " + strings.Join(q.Ignored, ", ")})
		b.Entry = append(b.Entry, searchEntry{Resource: oo, Search: &entrySearch{Mode: "outcome"}})
	}
	if len(res.Matches) == 0 {
		c.event(audit.ActionRead, c.subtype, typ, "", 0)
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return &reply{status: http.StatusOK, header: http.Header{}, body: body}, nil
}

func (s *Server) sealState(ctx context.Context, tenant string, st pageState) (string, error) {
	st.Expires = s.d.Now().Add(cursorTTL).Unix()
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return s.d.Cursors.Seal(ctx, tenant, b)
}

func (s *Server) openState(ctx context.Context, tenant, cur string) (pageState, error) {
	var st pageState
	b, err := s.d.Cursors.Open(ctx, tenant, cur)
	if err != nil {
		if errors.Is(err, index.ErrBadCursor) {
			return st, bad("invalid paging link", cursorParam)
		}
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil || len(st.Starts) == 0 {
		return st, bad("invalid paging link", cursorParam)
	}
	if s.d.Now().Unix() > st.Expires {
		return st, bad("the paging link has expired; run the search again", cursorParam)
	}
	return st, nil
}

// elements keeps only the listed top-level elements of a resource (plus
// resourceType, id and meta) and tags it SUBSETTED, for _elements.
func elements(body []byte, keep []string) ([]byte, error) {
	if len(keep) == 0 {
		return body, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(keep)+3)
	for _, k := range append([]string{"resourceType", "id"}, keep...) {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	var meta map[string]json.RawMessage
	if raw, ok := m["meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, err
		}
	} else {
		meta = map[string]json.RawMessage{}
	}
	var tags []json.RawMessage
	if raw, ok := meta["tag"]; ok {
		if err := json.Unmarshal(raw, &tags); err != nil {
			return nil, err
		}
	}
	tags = append(tags, json.RawMessage(`{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}`))
	var err error
	if meta["tag"], err = json.Marshal(tags); err != nil {
		return nil, err
	}
	if out["meta"], err = json.Marshal(meta); err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// conditional runs the search a conditional create, update or delete
// names (as a query string) and returns the ids of up to two matches.
func (s *Server) conditional(c *call, typ, query string) ([]string, error) {
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, bad("malformed search in the conditional request")
	}
	if len(params) == 0 {
		return nil, bad("a conditional request needs search parameters")
	}
	if err := c.authorize(access.Search, typ); err != nil {
		return nil, err
	}
	q, err := search.Parse(typ, params, false)
	if err != nil {
		return nil, err
	}
	q.Count, q.Total, q.Sort, q.Includes, q.RevIncludes = 2, search.TotalNone, nil, nil, nil
	res, err := s.d.Search.Search(c.r.Context(), c.p.Tenant, q, nil, index.Position{})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Matches))
	for i, m := range res.Matches {
		ids[i] = m.ID
	}
	if len(ids) > 1 {
		return nil, &badRequest{status: http.StatusPreconditionFailed, code: "multiple-matches",
			msg: "the conditional request matches " + strconv.Itoa(len(ids)) + " or more resources"}
	}
	return ids, nil
}

type searchBundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int64        `json:"total,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []searchEntry `json:"entry,omitempty"`
}

type searchEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

// visibleMatch reports whether the caller may read a search match; only
// people whose access depends on the patient need the check.
func (c *call) visibleMatch(m index.Match) (bool, error) {
	if !c.restricted() {
		return true, nil
	}
	d, err := c.decide(access.Read, m.Type, m.Type+"/"+m.ID, m.Body, m.Resource.PatientIDs())
	return d.Allow, err
}

// matchEvent records the read of a search match or included resource.
func (c *call) matchEvent(m index.Match) {
	ev := c.event(audit.ActionRead, c.subtype, m.Type, m.ID, m.VersionID)
	ev.PatientID = patientOfResource(m.Resource) // the engine parses every match
}
