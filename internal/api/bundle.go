package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/store"
)

// maxEntries bounds the work one Bundle can ask for.
const maxEntries = 20_000

// entryPlan is one Bundle entry, checked and resolved.
type entryPlan struct {
	method  string
	typ, id string
	vid     int64 // GET .../_history/vid
	ifMatch int64
	res     *fhir.Resource
	fullURL string
	// Conditional entries: ifNoneExist (POST) or cond (PUT/DELETE
	// [type]?search), resolved by resolve before anything is written.
	ifNoneExist, cond string
	// noop marks an entry the condition turned into no write: a
	// conditional create that found its match (existing holds it) or a
	// conditional delete that found nothing.
	noop     bool
	existing store.Version
}

func (s *Server) bundle(c *call) (*reply, error) {
	if err := c.params(); err != nil {
		return nil, err
	}
	res, err := c.readResource("Bundle")
	if err != nil {
		return nil, err
	}
	b, err := res.Bundle()
	if err != nil {
		return nil, err
	}
	if len(b.Entries) > maxEntries {
		return nil, &badRequest{status: http.StatusRequestEntityTooLarge, code: "too-costly", msg: "a Bundle may have at most " + strconv.Itoa(maxEntries) + " entries"}
	}
	switch b.Type {
	case "transaction":
		c.subtype = "transaction"
		return s.transaction(c, b)
	case "batch":
		c.subtype = "batch"
		return s.batch(c, b)
	}
	return nil, bad("Bundle.type must be transaction or batch", "Bundle.type")
}

// planEntry checks one entry's request and resource.
func (s *Server) planEntry(e fhir.Entry) (entryPlan, error) {
	p := entryPlan{res: e.Resource, fullURL: e.FullURL}
	if e.Request == nil {
		return p, bad("entry.request is required in a transaction or batch")
	}
	rq := e.Request
	p.method = rq.Method
	if rq.IfNoneMatch != "" || rq.IfModifiedSince != "" {
		return p, notSupported("If-None-Match and If-Modified-Since in Bundles are not supported")
	}
	u := strings.TrimPrefix(rq.URL, s.d.BaseURL+"/fhir/R4/")
	u, p.cond, _ = strings.Cut(u, "?")
	if strings.Contains(u, "#") {
		return p, bad("entry.request.url must not have a fragment")
	}
	p.ifNoneExist = rq.IfNoneExist
	if p.ifNoneExist != "" && p.method != http.MethodPost {
		return p, bad("ifNoneExist applies to POST entries only")
	}
	if p.cond != "" && p.method != http.MethodPut && p.method != http.MethodDelete {
		return p, notSupported("search URLs in Bundle entries are supported for conditional PUT and DELETE only")
	}
	parts := strings.Split(strings.Trim(u, "/"), "/")
	p.typ = parts[0]
	if !fhir.IsResourceType(p.typ) {
		return p, &badRequest{status: http.StatusNotFound, code: "not-supported", msg: "unknown resource type in entry.request.url"}
	}
	if len(parts) > 1 {
		p.id = parts[1]
		if !validID(p.id) {
			return p, bad("invalid resource id in entry.request.url")
		}
	}
	ifMatch, err := parseIfMatch(rq.IfMatch)
	if err != nil {
		return p, err
	}
	p.ifMatch = ifMatch
	shape := len(parts)
	switch p.method {
	case http.MethodPost:
		if shape != 1 {
			return p, bad("POST entry.request.url must be a resource type")
		}
	case http.MethodPut, http.MethodDelete:
		if p.cond != "" && shape != 1 {
			return p, bad("a conditional " + p.method + " entry.request.url must be Type?search")
		}
		if p.cond == "" && shape != 2 {
			return p, bad(p.method + " entry.request.url must be Type/id")
		}
	case http.MethodGet:
		switch {
		case shape == 2:
		case shape == 4 && parts[2] == "_history":
			vid, err := strconv.ParseInt(parts[3], 10, 64)
			if err != nil || vid < 1 {
				return p, bad("invalid version id in entry.request.url")
			}
			p.vid = vid
		default:
			return p, notSupported("only read and vread GET entries are supported")
		}
	default:
		return p, notSupported("entry.request.method " + strconv.Quote(truncate(p.method, 10)) + " is not supported")
	}
	if p.method == http.MethodPost || p.method == http.MethodPut {
		if p.res == nil {
			return p, bad("entry.resource is required for " + p.method)
		}
		if p.res.Type() != p.typ {
			return p, bad("entry.resource type does not match entry.request.url")
		}
		if p.method == http.MethodPut && p.cond == "" {
			if p.res.ID() == "" {
				p.res.SetID(p.id)
			} else if p.res.ID() != p.id {
				return p, bad("entry.resource id does not match entry.request.url")
			}
		}
	}
	return p, nil
}

// resolve runs an entry's condition (If-None-Exist, or the search of a
// conditional PUT or DELETE) and turns it into a plain entry or a no-op;
// more than one match fails with 412.
func (s *Server) resolve(c *call, p *entryPlan) error {
	switch {
	case p.ifNoneExist != "":
		ids, err := s.conditional(c, p.typ, p.ifNoneExist)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := c.authorize(access.Read, p.typ); err != nil {
			return err
		}
		v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, p.typ, ids[0])
		if err == nil {
			err = c.authorizeRecord(access.Read, v)
		}
		if err != nil {
			return err
		}
		p.noop, p.id, p.existing = true, ids[0], v
	case p.cond != "":
		ids, err := s.conditional(c, p.typ, p.cond)
		if err != nil {
			return err
		}
		switch {
		case len(ids) == 1:
			p.id = ids[0]
		case p.method == http.MethodDelete:
			p.noop = true
		case p.res.ID() != "":
			p.id = p.res.ID() // no match: update-as-create under the body's id
		default:
			p.method = http.MethodPost // no match and no id: create
		}
		if p.method == http.MethodPut {
			if p.res.ID() == "" {
				p.res.SetID(p.id)
			} else if p.res.ID() != p.id {
				return bad("entry.resource id does not match the resource the condition found")
			}
		}
	}
	return nil
}

// authorizeEntry decides a planned write entry record by record, as the
// single-resource routes do: the record as it is (hidden: 404) and the
// content written (403). Reads are decided when they run (readEntry).
func (s *Server) authorizeEntry(c *call, p entryPlan) error {
	if p.noop || p.method == http.MethodGet {
		return nil
	}
	if p.id != "" && p.method != http.MethodPost {
		v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, p.typ, p.id)
		if err == nil {
			err = c.authorizeRecord(p.action(), v)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) || errors.As(err, new(*hiddenError)) {
			return err
		}
	}
	if p.res != nil {
		return c.authorizeNew(p.action(), p.typ, newPatients(p.res))
	}
	return nil
}

func (p entryPlan) action() access.Action {
	switch p.method {
	case http.MethodPost:
		return access.Create
	case http.MethodPut:
		return access.Update
	case http.MethodDelete:
		return access.Delete
	}
	return access.Read
}

func (p entryPlan) op() store.Op {
	switch p.method {
	case http.MethodPost:
		return store.Op{Kind: store.OpCreate, Doc: p.res}
	case http.MethodPut:
		return store.Op{Kind: store.OpUpdate, Doc: p.res, IfMatch: p.ifMatch}
	}
	return store.Op{Kind: store.OpDelete, Type: p.typ, ID: p.id, IfMatch: p.ifMatch}
}

// entryError ties an error to the Bundle entry it came from.
func entryError(i int, err error) error {
	var oe *store.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return &store.OpError{Index: i, Err: err}
}

// transaction applies all entries atomically, per FHIR: DELETE, then POST,
// then PUT, then GET; urn:uuid references are rewritten to the new ids.
func (s *Server) transaction(c *call, b *fhir.Bundle) (*reply, error) {
	plans := make([]entryPlan, len(b.Entries))
	refs := map[string]string{}
	seen := map[string]int{}
	for i, e := range b.Entries {
		p, err := s.planEntry(e)
		if err != nil {
			return nil, entryError(i, err)
		}
		if err := c.authorize(p.action(), p.typ); err != nil {
			return nil, entryError(i, err)
		}
		if err := s.resolve(c, &p); err != nil {
			return nil, entryError(i, err)
		}
		if err := s.authorizeEntry(c, p); err != nil {
			return nil, entryError(i, err)
		}
		if p.method == http.MethodPost && !p.noop {
			p.id = s.d.NewID()
			p.res.SetID(p.id)
		}
		if p.method != http.MethodGet && !(p.noop && p.id == "") {
			key := p.typ + "/" + p.id
			if j, dup := seen[key]; dup {
				return nil, entryError(i, bad("entries "+strconv.Itoa(j)+" and "+strconv.Itoa(i)+" act on the same resource"))
			}
			seen[key] = i
			if p.fullURL != "" {
				refs[p.fullURL] = key
			}
		}
		plans[i] = p
	}
	for i := range plans {
		if plans[i].res == nil || plans[i].method == http.MethodGet || plans[i].noop {
			continue
		}
		unresolved := false
		plans[i].res.RewriteReferences(func(ref string) (string, bool) {
			if to, ok := refs[ref]; ok {
				return to, true
			}
			if strings.HasPrefix(ref, "urn:uuid:") || strings.HasPrefix(ref, "urn:oid:") {
				unresolved = true
			}
			return "", false
		})
		if unresolved {
			return nil, entryError(i, bad("a urn: reference does not resolve to an entry of this Bundle"))
		}
	}

	var ops []store.Op
	var opEntry []int
	for _, m := range []string{http.MethodDelete, http.MethodPost, http.MethodPut} {
		for i, p := range plans {
			if p.method == m && !p.noop {
				ops = append(ops, p.op())
				opEntry = append(opEntry, i)
			}
		}
	}
	out := make([]bundleEntry, len(plans))
	withResource := explicitRepresentation(c.r)
	_, err := c.write(ops, func(results []store.Result) {
		for k, res := range results {
			i := opEntry[k]
			out[i] = s.writeEntry(c, plans[i], res, withResource)
		}
	})
	if err != nil {
		var oe *store.OpError
		if errors.As(err, &oe) && oe.Index >= 0 && oe.Index < len(opEntry) {
			i := opEntry[oe.Index]
			c.event(actionOfMethod(plans[i].method), "transaction", plans[i].typ, plans[i].id, 0)
			return nil, entryError(i, oe.Err)
		}
		return nil, err
	}
	for i, p := range plans {
		switch {
		case p.noop:
			out[i] = s.noopEntry(c, p, withResource)
		case p.method == http.MethodGet:
			out[i] = s.readEntry(c, p)
		}
	}
	return bundleReply("transaction-response", s.d.Now(), out)
}

// batch applies each entry on its own; one entry's failure is reported in
// its response and does not affect the others.
func (s *Server) batch(c *call, b *fhir.Bundle) (*reply, error) {
	out := make([]bundleEntry, len(b.Entries))
	withResource := explicitRepresentation(c.r)
	for i, e := range b.Entries {
		p, err := s.planEntry(e)
		if err == nil {
			err = c.authorize(p.action(), p.typ)
		}
		if err == nil {
			err = s.resolve(c, &p)
		}
		if err == nil {
			err = s.authorizeEntry(c, p)
		}
		if err != nil {
			var status int
			out[i], status = s.errorEntry(c, err)
			c.event(actionOfMethod(p.method), "batch", p.typ, p.id, 0).Outcome = status
			continue
		}
		if p.noop {
			out[i] = s.noopEntry(c, p, withResource)
			continue
		}
		if p.method == http.MethodGet {
			out[i] = s.readEntry(c, p)
			continue
		}
		_, err = c.write([]store.Op{p.op()}, func(results []store.Result) {
			out[i] = s.writeEntry(c, p, results[0], withResource)
		})
		if err != nil {
			var status int
			out[i], status = s.errorEntry(c, unwrapSingle(err))
			c.event(actionOfMethod(p.method), "batch", p.typ, p.id, 0).Outcome = status
		}
	}
	return bundleReply("batch-response", s.d.Now(), out)
}

func (s *Server) writeEntry(c *call, p entryPlan, r store.Result, withResource bool) bundleEntry {
	v := r.Version
	ev := c.event(actionOfMethod(p.method), c.subtype, p.typ, p.id, v.VersionID)
	if pid := c.patientOf(v); pid != "" {
		ev.PatientID = pid
	}
	e := bundleEntry{Response: &bundleResponse{}}
	switch {
	case p.method == http.MethodDelete:
		e.Response.Status = "204 No Content"
		ev.Outcome = http.StatusNoContent
	case r.Created:
		e.Response.Status = "201 Created"
		e.Response.Location = s.versionURL(v)
		ev.Outcome = http.StatusCreated
	default:
		e.Response.Status = "200 OK"
		ev.Outcome = http.StatusOK
	}
	if !r.NoChange && v.VersionID > 0 {
		e.Response.Etag = etag(v.VersionID)
		e.Response.LastModified = instant(v.LastUpdated)
	}
	if p.method != http.MethodDelete {
		e.FullURL = s.resourceURL(v.Type, v.ID)
		if withResource {
			e.Resource = json.RawMessage(v.Body)
		}
	}
	return e
}

// noopEntry answers an entry whose condition made it write nothing: the
// existing match of a conditional create (200), or a conditional delete
// without a match (204).
func (s *Server) noopEntry(c *call, p entryPlan, withResource bool) bundleEntry {
	if p.method == http.MethodDelete {
		c.event(audit.ActionDelete, c.subtype, p.typ, "", 0).Outcome = http.StatusNoContent
		return bundleEntry{Response: &bundleResponse{Status: "204 No Content"}}
	}
	v := p.existing
	c.versionEvent(audit.ActionRead, c.subtype, v).Outcome = http.StatusOK
	e := bundleEntry{
		FullURL:  s.resourceURL(v.Type, v.ID),
		Response: &bundleResponse{Status: "200 OK", Location: s.versionURL(v), Etag: etag(v.VersionID), LastModified: instant(v.LastUpdated)},
	}
	if withResource {
		e.Resource = json.RawMessage(v.Body)
	}
	return e
}

func (s *Server) readEntry(c *call, p entryPlan) bundleEntry {
	var v store.Version
	err := c.authorize(access.Read, p.typ)
	if err == nil {
		if p.vid > 0 {
			v, err = s.d.Store.VRead(c.r.Context(), c.p.Tenant, p.typ, p.id, p.vid)
		} else {
			v, err = s.d.Store.Read(c.r.Context(), c.p.Tenant, p.typ, p.id)
		}
	}
	if err == nil {
		err = c.authorizeRecord(access.Read, v)
	}
	ev := c.event(audit.ActionRead, c.subtype, p.typ, p.id, v.VersionID)
	if err != nil {
		var e bundleEntry
		e, ev.Outcome = s.errorEntry(c, err)
		return e
	}
	ev.Outcome, ev.PatientID = http.StatusOK, c.patientOf(v)
	return bundleEntry{
		FullURL:  s.resourceURL(v.Type, v.ID),
		Resource: json.RawMessage(v.Body),
		Response: &bundleResponse{Status: "200 OK", Etag: etag(v.VersionID), LastModified: instant(v.LastUpdated)},
	}
}

// errorEntry is a batch or transaction entry that failed, and its status.
func (s *Server) errorEntry(c *call, err error) (bundleEntry, int) {
	status, issues := s.classify(c.rid, err)
	return bundleEntry{Response: &bundleResponse{
		Status:  strconv.Itoa(status) + " " + http.StatusText(status),
		Outcome: outcome("", issues...),
	}}, status
}

func bundleReply(typ string, now time.Time, entries []bundleEntry) (*reply, error) {
	body, err := json.Marshal(bundle{ResourceType: "Bundle", Type: typ, Timestamp: instant(now), Entry: entries})
	if err != nil {
		return nil, err
	}
	return &reply{status: http.StatusOK, header: http.Header{}, body: body}, nil
}

func actionOfMethod(m string) string {
	switch m {
	case http.MethodPost:
		return audit.ActionCreate
	case http.MethodPut:
		return audit.ActionUpdate
	case http.MethodDelete:
		return audit.ActionDelete
	}
	return audit.ActionRead
}

// explicitRepresentation: Bundle responses carry resources only on request.
func explicitRepresentation(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Prefer"), "return=representation")
}
