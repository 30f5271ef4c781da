package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/auditfhir"
	"github.com/wardhealth/ward/internal/fhir"
)

// AuditTrail reads recorded audit events; the app adapts the ledger.
type AuditTrail interface {
	// Events calls fn for every recorded event with index >= from, in
	// index order; an error from fn stops the scan and is returned.
	Events(ctx context.Context, from uint64, fn func(index uint64, e audit.Event) error) error
}

// Page limits of GET /audit/events.
const (
	defaultAuditCount = 100
	maxAuditCount     = 1000
)

var errPageFull = errors.New("page full")

// auditEvents is GET /audit/events: the tenant's audit events, oldest
// first, filtered by patient (id), user (actor id), action, subtype,
// entity (Type or Type/id), outcome (HTTP status) and time range
// [from, to); paged with
// _count and _cursor (an event index). _format=fhir returns a searchset
// Bundle of R4 AuditEvent resources. Reading the trail is itself audited.
func (s *Server) auditEvents(c *call) (*reply, error) {
	l, err := c.auditListing("patient", "user", "action", "subtype", "entity", "outcome")
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	outcome := 0
	if v := q.Get("outcome"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 599 {
			return nil, bad("outcome must be an HTTP status code", "outcome")
		}
		outcome = n
	}
	entType, entID, _ := strings.Cut(q.Get("entity"), "/")
	match := func(e audit.Event) bool {
		return e.Tenant == c.p.Tenant &&
			(q.Get("patient") == "" || e.PatientID == q.Get("patient")) &&
			(q.Get("user") == "" || e.ActorID == q.Get("user")) &&
			(q.Get("action") == "" || e.Action == q.Get("action")) &&
			(q.Get("subtype") == "" || e.Subtype == q.Get("subtype")) &&
			(entType == "" || e.EntityType == entType) &&
			(entID == "" || e.EntityID == entID) &&
			(outcome == 0 || e.Outcome == outcome) &&
			(l.from.IsZero() || !e.Time.Before(l.from)) &&
			(l.to.IsZero() || e.Time.Before(l.to))
	}
	type indexed struct {
		Index uint64 `json:"index"`
		audit.Event
	}
	var page []indexed
	next := uint64(0)
	err = s.d.Trail.Events(c.r.Context(), l.cursor, func(index uint64, e audit.Event) error {
		if !match(e) {
			return nil
		}
		if len(page) == l.count {
			next = index
			return errPageFull
		}
		page = append(page, indexed{index, e})
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, err
	}
	var nextURL string
	if next > 0 {
		nq := q
		nq.Set("_cursor", strconv.FormatUint(next, 10))
		nextURL = s.d.BaseURL + c.r.URL.Path + "?" + nq.Encode()
	}
	if q.Get("_format") == "fhir" {
		b := searchBundle{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(s.d.Now())}
		if nextURL != "" {
			b.Link = append(b.Link, bundleLink{Relation: "next", URL: nextURL})
		}
		for _, ie := range page {
			ae, err := auditfhir.AuditEvent(ie.Index, ie.Event, fhir.IsResourceType)
			if err != nil {
				return nil, err
			}
			b.Entry = append(b.Entry, searchEntry{Resource: ae, Search: &entrySearch{Mode: "match"}})
		}
		body, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		return &reply{status: http.StatusOK, header: http.Header{}, body: body}, nil
	}
	out := map[string]any{"events": page}
	if page == nil {
		out["events"] = []indexed{}
	}
	if nextURL != "" {
		out["next"] = nextURL
	}
	return jsonReply(out)
}

// auditListing is what the audit listings share: the parameters (the
// listing's own and from, to, _count, _cursor), the access decision, the
// audit event of the read, and the parsed paging and period.
type auditListing struct {
	count    int
	cursor   uint64 // the listing's position: an event index or alert id
	from, to time.Time
}

func (c *call) auditListing(own ...string) (auditListing, error) {
	if err := c.params(append(own, "from", "to", "_count", "_cursor")...); err != nil {
		return auditListing{}, err
	}
	if err := c.authorize(access.ReadAudit, ""); err != nil {
		return auditListing{}, err
	}
	c.event(audit.ActionRead, c.subtype, "", "", 0)
	q := c.r.URL.Query()
	var l auditListing
	var err error
	if l.count, err = auditCount(q.Get("_count")); err != nil {
		return l, err
	}
	if v := q.Get("_cursor"); v != "" {
		if l.cursor, err = strconv.ParseUint(v, 10, 63); err != nil {
			return l, bad("invalid _cursor", "_cursor")
		}
	}
	l.from, l.to, err = auditPeriod(q.Get("from"), q.Get("to"))
	return l, err
}

// auditCount reads the _count of an audit listing.
func auditCount(v string) (int, error) {
	if v == "" {
		return defaultAuditCount, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxAuditCount {
		return 0, bad("_count must be between 1 and "+strconv.Itoa(maxAuditCount), "_count")
	}
	return n, nil
}

// auditPeriod reads the from and to of an audit listing (RFC 3339;
// empty: unbounded).
func auditPeriod(from, to string) (lo, hi time.Time, err error) {
	for name, p := range map[string]struct {
		v   string
		dst *time.Time
	}{"from": {from, &lo}, "to": {to, &hi}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			return lo, hi, bad(name+" must be an RFC 3339 time such as 2026-11-23T00:00:00Z", name)
		}
		*p.dst = t
	}
	return lo, hi, nil
}
