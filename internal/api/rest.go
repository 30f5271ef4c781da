package api

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/store"
)

func (s *Server) read(c *call) (*reply, error) {
	typ, id := c.r.PathValue("type"), c.r.PathValue("id")
	if err := c.params(); err != nil {
		return nil, err
	}
	if err := c.authorize(access.Read, typ); err != nil {
		return nil, err
	}
	v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, typ, id)
	if err == nil {
		err = c.authorizeRecord(access.Read, v)
	}
	if err != nil {
		c.event(audit.ActionRead, "read", typ, id, 0)
		return nil, err
	}
	c.versionEvent(audit.ActionRead, "read", v)
	return s.versionReply(c, v, http.StatusOK), nil
}

func (s *Server) vread(c *call) (*reply, error) {
	typ, id := c.r.PathValue("type"), c.r.PathValue("id")
	if err := c.params(); err != nil {
		return nil, err
	}
	vid, err := strconv.ParseInt(c.r.PathValue("vid"), 10, 64)
	if err != nil || vid < 1 {
		return nil, bad("invalid version id")
	}
	if err := c.authorize(access.Read, typ); err != nil {
		return nil, err
	}
	v, err := s.d.Store.VRead(c.r.Context(), c.p.Tenant, typ, id, vid)
	if err == nil {
		err = c.authorizeRecord(access.Read, v)
	}
	if err != nil {
		c.event(audit.ActionRead, "vread", typ, id, vid)
		return nil, err
	}
	c.versionEvent(audit.ActionRead, "vread", v)
	return s.versionReply(c, v, http.StatusOK), nil
}

func (s *Server) create(c *call) (*reply, error) {
	typ := c.r.PathValue("type")
	if err := c.params(); err != nil {
		return nil, err
	}
	if err := c.authorize(access.Create, typ); err != nil {
		return nil, err
	}
	if cond := c.r.Header.Get("If-None-Exist"); cond != "" {
		ids, err := s.conditional(c, typ, cond)
		if err != nil {
			c.event(audit.ActionCreate, "create", typ, "", 0)
			return nil, err
		}
		if len(ids) == 1 {
			// A match exists: nothing is created; answer with it (200).
			if err := c.authorize(access.Read, typ); err != nil {
				return nil, err
			}
			v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, typ, ids[0])
			if err == nil {
				err = c.authorizeRecord(access.Read, v)
			}
			if err != nil {
				c.event(audit.ActionRead, "create", typ, ids[0], 0)
				return nil, err
			}
			c.versionEvent(audit.ActionRead, "create", v)
			rep := s.versionReply(c, v, http.StatusOK)
			rep.header.Set("Location", s.versionURL(v))
			return rep, nil
		}
	}
	res, err := c.readResource(typ)
	if err == nil {
		err = c.authorizeNew(access.Create, typ, newPatients(res))
	}
	if err != nil {
		c.event(audit.ActionCreate, "create", typ, "", 0)
		return nil, err
	}
	res.SetID("") // the server assigns ids on create
	out, err := c.write([]store.Op{{Kind: store.OpCreate, Doc: res}}, func(out []store.Result) {
		c.versionEvent(audit.ActionCreate, "create", out[0].Version).Outcome = http.StatusCreated
	})
	if err != nil {
		c.event(audit.ActionCreate, "create", typ, "", 0)
		return nil, unwrapSingle(err)
	}
	v := out[0].Version
	rep := s.versionReply(c, v, http.StatusCreated)
	rep.header.Set("Location", s.versionURL(v))
	return rep, nil
}

// newPatients are the patients whose compartment a resource about to be
// written is in. A new Patient is in its own, which does not exist yet:
// registering a patient needs only the privilege.
func newPatients(res *fhir.Resource) []string {
	if res.Type() == "Patient" {
		return nil
	}
	return res.PatientIDs()
}

// writePrologue checks what update and delete share: no query
// parameters, a well-formed If-Match, and the access decision.
func (c *call) writePrologue(a access.Action, typ string) (ifMatch int64, err error) {
	if err := c.params(); err != nil {
		return 0, err
	}
	if ifMatch, err = parseIfMatch(c.r.Header.Get("If-Match")); err != nil {
		return 0, err
	}
	return ifMatch, c.authorize(a, typ)
}

func (s *Server) update(c *call) (*reply, error) {
	typ, id := c.r.PathValue("type"), c.r.PathValue("id")
	ifMatch, err := c.writePrologue(access.Update, typ)
	if err != nil {
		return nil, err
	}
	return s.put(c, typ, id, ifMatch, false)
}

// conditionalUpdate is PUT [type]?search: the search picks the resource
// to update (one match), or none matches and the resource is created.
func (s *Server) conditionalUpdate(c *call) (*reply, error) {
	typ := c.r.PathValue("type")
	ifMatch, err := parseIfMatch(c.r.Header.Get("If-Match"))
	if err != nil {
		return nil, err
	}
	if err := c.authorize(access.Update, typ); err != nil {
		return nil, err
	}
	ids, err := s.conditional(c, typ, c.r.URL.RawQuery)
	if err != nil {
		c.event(audit.ActionUpdate, "update", typ, "", 0)
		return nil, err
	}
	if len(ids) == 1 {
		return s.put(c, typ, ids[0], ifMatch, true)
	}
	return s.put(c, typ, "", ifMatch, true)
}

// put writes res as the new version of typ/id; id "" (a conditional
// update without a match) takes the body's id, or creates a new one. A
// conditional update may leave the id out of the body.
func (s *Server) put(c *call, typ, id string, ifMatch int64, conditional bool) (rep *reply, err error) {
	failed := id // the record a failure event names
	defer func() {
		if err != nil {
			c.event(audit.ActionUpdate, "update", typ, failed, 0)
		}
	}()
	res, err := c.readResource(typ)
	if err != nil {
		return nil, err
	}
	// The caller must be allowed both the record as it is (else it is
	// hidden: 404) and as it will be (403).
	if cur := cmp.Or(id, res.ID()); cur != "" {
		v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, typ, cur)
		if err == nil {
			err = c.authorizeRecord(access.Update, v)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) || errors.As(err, new(*hiddenError)) {
			return nil, err
		}
	}
	if err := c.authorizeNew(access.Update, typ, newPatients(res)); err != nil {
		return nil, err
	}
	op := store.Op{Kind: store.OpUpdate, Doc: res, IfMatch: ifMatch}
	switch {
	case id == "" && res.ID() == "":
		op.Kind = store.OpCreate
	case id == "":
		failed = res.ID()
	case res.ID() == "" && conditional:
		res.SetID(id)
	case res.ID() == "":
		return nil, bad("the resource must carry an id equal to the one in the URL", typ+".id")
	case res.ID() != id:
		return nil, bad("the resource id does not match the URL", typ+".id")
	}
	out, err := c.write([]store.Op{op}, func(out []store.Result) {
		ev := c.versionEvent(audit.ActionUpdate, "update", out[0].Version)
		ev.Outcome = http.StatusOK
		if out[0].Created {
			ev.Action, ev.Outcome = audit.ActionCreate, http.StatusCreated
		}
	})
	if err != nil {
		return nil, unwrapSingle(err)
	}
	v := out[0].Version
	status := http.StatusOK
	if out[0].Created {
		status = http.StatusCreated
	}
	rep = s.versionReply(c, v, status)
	if out[0].Created {
		rep.header.Set("Location", s.versionURL(v))
	}
	return rep, nil
}

func (s *Server) delete(c *call) (*reply, error) {
	typ, id := c.r.PathValue("type"), c.r.PathValue("id")
	ifMatch, err := c.writePrologue(access.Delete, typ)
	if err != nil {
		return nil, err
	}
	return s.remove(c, typ, id, ifMatch)
}

// conditionalDelete is DELETE [type]?search: deletes the one match; no
// match changes nothing (204), several are refused (412).
func (s *Server) conditionalDelete(c *call) (*reply, error) {
	typ := c.r.PathValue("type")
	ifMatch, err := parseIfMatch(c.r.Header.Get("If-Match"))
	if err != nil {
		return nil, err
	}
	if err := c.authorize(access.Delete, typ); err != nil {
		return nil, err
	}
	ids, err := s.conditional(c, typ, c.r.URL.RawQuery)
	if err != nil {
		c.event(audit.ActionDelete, "delete", typ, "", 0)
		return nil, err
	}
	if len(ids) == 0 {
		c.event(audit.ActionDelete, "delete", typ, "", 0)
		return &reply{status: http.StatusNoContent, header: http.Header{}}, nil
	}
	return s.remove(c, typ, ids[0], ifMatch)
}

func (s *Server) remove(c *call, typ, id string, ifMatch int64) (*reply, error) {
	// The deletion marker has no body: name the patient from the version
	// it deletes.
	patient := ""
	if typ == "Patient" {
		patient = id
	}
	if v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, typ, id); err == nil {
		if err := c.authorizeRecord(access.Delete, v); err != nil {
			c.event(audit.ActionDelete, "delete", typ, id, 0)
			return nil, err
		}
		patient = c.patientOf(v)
	}
	out, err := c.write([]store.Op{{Kind: store.OpDelete, Type: typ, ID: id, IfMatch: ifMatch}}, func(out []store.Result) {
		ev := c.event(audit.ActionDelete, "delete", typ, id, 0)
		ev.Outcome, ev.PatientID = http.StatusNoContent, patient
		if !out[0].NoChange {
			ev.Version = out[0].Version.VersionID
		}
	})
	if err != nil {
		c.event(audit.ActionDelete, "delete", typ, id, 0)
		return nil, unwrapSingle(err)
	}
	rep := &reply{status: http.StatusNoContent, header: http.Header{}}
	if !out[0].NoChange {
		rep.header.Set("ETag", etag(out[0].Version.VersionID))
	}
	return rep, nil
}

func (s *Server) historyInstance(c *call) (*reply, error) {
	return s.history(c, c.r.PathValue("type"), c.r.PathValue("id"))
}

func (s *Server) historyType(c *call) (*reply, error) {
	return s.history(c, c.r.PathValue("type"), "")
}

func (s *Server) historySystem(c *call) (*reply, error) {
	return s.history(c, "", "")
}

func (s *Server) history(c *call, typ, id string) (*reply, error) {
	if err := c.params("_count", "_since", "_page"); err != nil {
		return nil, err
	}
	q := store.HistoryQuery{Type: typ, ID: id, Count: 20}
	qv := c.r.URL.Query()
	if v := qv.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, bad("_count must be a positive integer", "_count")
		}
		q.Count = min(n, 1000)
	}
	if v := qv.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, bad("_since must be an instant such as 2026-01-02T15:04:05Z", "_since")
		}
		q.Since = t
	}
	if v := qv.Get("_page"); v != "" {
		cur, ok := decodeCursor(v)
		if !ok {
			return nil, bad("invalid _page cursor", "_page")
		}
		q.Before = cur
	}
	if err := c.authorize(access.History, typ); err != nil {
		return nil, err
	}
	vs, next, err := s.d.Store.History(c.r.Context(), c.p.Tenant, q)
	if err != nil {
		c.event(audit.ActionRead, c.subtype, typ, id, 0)
		return nil, err
	}
	if len(vs) == 0 {
		c.event(audit.ActionRead, c.subtype, typ, id, 0)
	}
	b := bundle{ResourceType: "Bundle", Type: "history", Timestamp: instant(s.d.Now())}
	self := c.r.URL.Path
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: s.d.BaseURL + self + "?" + c.r.URL.RawQuery})
	if !next.IsZero() {
		nq := qv
		nq.Set("_page", encodeCursor(next))
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: s.d.BaseURL + self + "?" + nq.Encode()})
	}
	for _, v := range vs {
		if c.restricted() {
			ok, err := c.visible(v)
			if err != nil {
				return nil, err
			}
			if !ok || v.Deleted { // a deletion marker has no body to judge it by
				continue
			}
		}
		c.versionEvent(audit.ActionRead, c.subtype, v)
		e := bundleEntry{FullURL: s.resourceURL(v.Type, v.ID)}
		method, url := http.MethodPut, v.Type+"/"+v.ID
		switch {
		case v.Deleted:
			method = http.MethodDelete
		case v.VersionID == 1:
			method, url = http.MethodPost, v.Type
		}
		e.Request = &bundleRequest{Method: method, URL: url}
		status := "200 OK"
		if v.Deleted {
			status = "204 No Content"
		} else {
			e.Resource = json.RawMessage(v.Body)
			if v.VersionID == 1 {
				status = "201 Created"
			}
		}
		e.Response = &bundleResponse{Status: status, Etag: etag(v.VersionID), LastModified: instant(v.LastUpdated)}
		b.Entry = append(b.Entry, e)
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return &reply{status: http.StatusOK, header: http.Header{}, body: body}, nil
}

// params rejects query parameters the route does not understand, unless
// the client asked for lenient handling. _format and _pretty are always allowed.
func (c *call) params(allowed ...string) error {
	if c.r.URL.RawQuery == "" || lenient(c.r) {
		return nil
	}
	for k := range c.r.URL.Query() {
		if k == "_format" || k == "_pretty" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return bad("unknown or unsupported parameter "+strconv.Quote(truncate(k, 64)), k)
		}
	}
	return nil
}

func lenient(r *http.Request) bool {
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		if strings.TrimSpace(p) == "handling=lenient" {
			return true
		}
	}
	return false
}

// preferReturn is the Prefer: return= value (minimal, representation, OperationOutcome).
func preferReturn(r *http.Request) string {
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "return="); ok {
			return v
		}
	}
	return "representation"
}

// readResource reads and validates the request body as a resource of typ.
func (c *call) readResource(typ string) (*fhir.Resource, error) {
	if !requestIsJSON(c.r) {
		return nil, &badRequest{status: http.StatusUnsupportedMediaType, code: "not-supported", msg: "Content-Type must be application/fhir+json"}
	}
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		return nil, err
	}
	res, err := fhir.Parse(body)
	if err != nil {
		return nil, err
	}
	if typ != "" && res.Type() != typ {
		return nil, bad("resourceType does not match the URL", "resourceType")
	}
	return res, nil
}

func (s *Server) versionReply(c *call, v store.Version, status int) *reply {
	h := http.Header{}
	h.Set("ETag", etag(v.VersionID))
	h.Set("Last-Modified", v.LastUpdated.UTC().Format(http.TimeFormat))
	rep := &reply{status: status, header: h}
	if c.r.Method == http.MethodGet {
		rep.body = v.Body
		return rep
	}
	switch preferReturn(c.r) {
	case "minimal":
	case "OperationOutcome":
		rep.body = outcome(c.rid, ooIssue{Severity: "information", Code: "informational", Diagnostics: "ok"})
	default:
		rep.body = v.Body
	}
	return rep
}

func (s *Server) resourceURL(typ, id string) string {
	return s.d.BaseURL + "/fhir/R4/" + typ + "/" + id
}

func (s *Server) versionURL(v store.Version) string {
	return s.resourceURL(v.Type, v.ID) + "/_history/" + strconv.FormatInt(v.VersionID, 10)
}

func etag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

// parseIfMatch accepts W/"n" or "n"; "" means no precondition.
func parseIfMatch(h string) (int64, error) {
	if h == "" {
		return 0, nil
	}
	v := strings.TrimPrefix(strings.TrimSpace(h), "W/")
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, bad(`If-Match must be a version ETag such as W/"3"`)
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64)
	if err != nil || n < 1 {
		return 0, bad(`If-Match must be a version ETag such as W/"3"`)
	}
	return n, nil
}

// unwrapSingle drops the op index of a one-op write so the outcome does
// not point into a Bundle that does not exist.
func unwrapSingle(err error) error {
	if oe, ok := err.(*store.OpError); ok {
		return oe.Err
	}
	return err
}

func notSupported(msg string) error {
	return &badRequest{status: http.StatusNotImplemented, code: "not-supported", msg: msg}
}

func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// Cursors are opaque to clients: base64 of the position's time (unix ms)
// and the backend's sequence number. Neither carries PHI.
func encodeCursor(c store.Cursor) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(c.LastUpdated.UnixMilli()))
	binary.BigEndian.PutUint64(b[8:], uint64(c.Seq))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(s string) (store.Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return store.Cursor{}, false
	}
	ms, seq := int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:]))
	if ms <= 0 || seq <= 0 {
		return store.Cursor{}, false
	}
	return store.Cursor{LastUpdated: time.UnixMilli(ms).UTC(), Seq: seq}, true
}

// Bundle JSON shapes for responses.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Request  *bundleRequest  `json:"request,omitempty"`
	Response *bundleResponse `json:"response,omitempty"`
}

type bundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type bundleResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}
