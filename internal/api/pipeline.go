package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/store"
)

// requestInfo travels in the request context so the access log can name
// the principal without the handler's help.
type requestInfo struct {
	id        string
	principal string
}

type ctxKey struct{}

func withRequestInfo(ctx context.Context, ri *requestInfo) context.Context {
	return context.WithValue(ctx, ctxKey{}, ri)
}

func requestInfoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(ctxKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9-]{8,64}$`)

// requestID keeps a well-formed incoming X-Request-Id (so traces join up)
// and otherwise makes a random one.
func requestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); requestIDRe.MatchString(v) {
		return v
	}
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// purposeHeader declares the purpose of use of a request, recorded in
// its audit events.
const purposeHeader = "X-Purpose-Of-Use"

// call is one FHIR request moving through the pipeline.
type call struct {
	s       *Server
	r       *http.Request
	p       auth.Principal
	rid     string
	subtype string
	events  []audit.Event
	// committed counts the events already committed with the data they
	// describe (see write); events holds only those still to record.
	committed int
	// refused names the account of a failed sign-in step (the principal
	// stays anonymous), for the audit trail.
	refused *identity.Refused
	// token is the credential that authenticated the call (a person's
	// session or a client's access token); viaCookie if it came in the
	// session cookie.
	token     string
	viaCookie bool
	// cookie, when set, is sent with the reply (a new session cookie, or
	// one that clears it).
	cookie *http.Cookie
	// patients memoises the patients of the versions the call decided on
	// (see patientsOf).
	patients map[string][]string
	// breakGlass is set once an emergency grant allowed an access: every
	// event of the call then records purpose of use BTG.
	breakGlass bool
	// decided is set once the call asked the access package.
	decided bool
	// sub is the principal for the access package, once built.
	sub *access.Subject
	// representedPatient is the patient a representative's RelatedPerson
	// names, once looked up (representedOK).
	representedPatient  string
	representedVerified bool
	representedOK       bool
}

// reply is what a handler produces; the pipeline records the audit
// events and only then writes it.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// handler acts on an authenticated, authorised call.
type handler func(c *call) (*reply, error)

// Route is a registered authenticated route; Data routes act on FHIR or
// audit data and must make an access decision.
type Route struct {
	Pattern string
	Data    bool
}

// Routes lists the authenticated routes, for tests that walk them.
func (s *Server) Routes() []Route { return slices.Clone(s.routeList) }

// fhir registers a route over FHIR or audit data. Every such route goes
// through here, so none can skip authentication, the access decision or
// the audit record: a handler that answers with success without asking
// the access package (authorize, authorizeRecord, ...) is refused with
// 500 instead, so a route added without its decision fails closed and
// fails TestEveryRouteDecides.
func (s *Server) fhir(pattern, subtype string, h handler) { s.authenticated(pattern, subtype, true, h) }

// account registers an authenticated route over the caller's own account
// (sessions, step-up, PIN) or account administration, which the identity
// service decides rather than the access package.
func (s *Server) account(pattern, subtype string, h handler) {
	s.authenticated(pattern, subtype, false, h)
}

func (s *Server) authenticated(pattern, subtype string, data bool, h handler) {
	s.routeList = append(s.routeList, Route{Pattern: pattern, Data: data})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ri := requestInfoFrom(r.Context())
		c := &call{s: s, r: r, rid: ri.id, subtype: subtype}

		// 1. Authenticate.
		p, err := s.authenticate(c)
		if err != nil {
			c.event(audit.ActionExecute, "authenticate", "", "", 0)
			var se *sessionEnded
			if errors.As(err, &se) && se.subtype != "" {
				c.event(audit.ActionExecute, se.subtype, "User", se.personID, 0)
			}
			c.finish(w, s.unauthorized(c, err))
			return
		}
		c.p, ri.principal = p, p.ID

		// Route-level checks that need no data.
		rep := c.allowed(operationOf(r, subtype))
		if rep == nil {
			rep = c.preflight()
		}
		if rep == nil {
			// 2. Decide, 3. act: handlers call c.authorize before touching data.
			rep, err = h(c)
			if err != nil {
				rep = c.errorReply(err)
			}
			if data && !c.decided && rep.status < http.StatusBadRequest {
				s.d.Log.Error("route answered without an access decision; refused", "request_id", c.rid, "route", pattern)
				rep = outcomeReply(c.rid, http.StatusInternalServerError, issue("exception", "internal error"))
			}
		}
		// 4. Record, then write.
		c.finish(w, rep)
	})
}

// finish records the call's audit events (fail-closed) and writes rep.
func (c *call) finish(w http.ResponseWriter, rep *reply) {
	if len(c.events) == 0 && c.committed == 0 {
		c.event(actionOf(c.subtype), c.subtype, c.r.PathValue("type"), c.r.PathValue("id"), 0)
	}
	for i := range c.events {
		if c.events[i].Outcome == 0 {
			c.events[i].Outcome = rep.status
		}
		if c.breakGlass {
			c.events[i].Purpose = audit.PurposeBreakGlass
		}
	}
	if err := c.s.d.Audit.Record(c.r.Context(), c.events); err != nil {
		c.s.d.Log.Error("audit record failed; refusing response", "request_id", c.rid, "err", err.Error())
		rep = outcomeReply(c.rid, http.StatusServiceUnavailable, issue("transient", "the audit trail is unavailable; the request was not completed"))
		rep.header.Set("Retry-After", "5")
	}
	if rep.body != nil && rep.status < http.StatusMultipleChoices && c.s.d.Masks.For(c.p.Role, "") {
		// Minimum necessary: the role's field masks, on every resource
		// of the answer (Bundle entries and contained ones too).
		masked, err := c.s.d.Masks.Apply(c.p.Role, rep.body)
		if err != nil {
			c.s.d.Log.Error("field mask failed; refusing response", "request_id", c.rid, "err", err.Error())
			rep = outcomeReply(c.rid, http.StatusInternalServerError, issue("exception", "internal error"))
		} else {
			rep.body = masked
		}
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	if c.cookie != nil {
		w.Header().Add("Set-Cookie", c.cookie.String())
	}
	if rep.body != nil && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", fhirJSON)
	}
	body := rep.body
	if rep.body != nil && c.r.URL.Query().Get("_pretty") == "true" {
		var buf bytes.Buffer
		if json.Indent(&buf, rep.body, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	w.WriteHeader(rep.status)
	if body != nil && c.r.Method != http.MethodHead {
		w.Write(body)
	}
}

// write applies ops and, inside the same transaction, records the events
// events adds to the call (from the results, with their outcomes set):
// a write and its audit trail commit together or not at all. If the
// write fails, those events are dropped and the caller records the
// failure. Without a TxRecorder the events are recorded after the write.
func (c *call) write(ops []store.Op, events func(results []store.Result)) ([]store.Result, error) {
	tr := c.s.d.TxAudit
	k := len(c.events)
	results, err := c.s.d.Store.WriteWith(c.r.Context(), c.p.Tenant, ops, func(tx store.Tx, res []store.Result) error {
		c.events = c.events[:k] // a fresh start should the callback run again
		events(res)
		if tr == nil {
			return nil
		}
		if err := tr.RecordTx(tx, c.events[k:]); err != nil {
			return fmt.Errorf("%w: %w", errAuditDown, err)
		}
		return nil
	})
	if err != nil {
		c.events = c.events[:k]
		return nil, err
	}
	if tr != nil {
		c.committed += len(c.events) - k
		c.events = c.events[:k]
		tr.Committed()
	}
	for _, op := range ops {
		typ := op.Type
		if op.Doc != nil {
			typ = op.Doc.Type()
		}
		if slices.Contains(careTypes, typ) {
			c.s.care.invalidate(c.p.Tenant)
		}
		if typ == "Consent" {
			c.s.consents.invalidate(c.p.Tenant)
		}
	}
	return results, nil
}

// errAuditDown marks a write undone because its audit events could not
// be recorded with it.
var errAuditDown = errors.New("the audit trail is unavailable")

// event adds an audit event for this call; its outcome defaults to the
// reply status.
func (c *call) event(action, subtype, typ, id string, version int64) *audit.Event {
	c.events = append(c.events, audit.Event{
		Time:       c.s.d.Now().UTC(),
		Tenant:     c.p.Tenant,
		ActorID:    c.p.ID,
		ActorKind:  c.p.Kind,
		Role:       c.p.Role,
		SessionID:  c.p.Session,
		Action:     action,
		Subtype:    subtype,
		EntityType: typ,
		EntityID:   id,
		Version:    version,
		Query:      paramNames(c.r),
		Purpose:    c.r.Header.Get(purposeHeader), // checked in preflight
		SourceIP:   clientIP(c.r),
		UserAgent:  truncate(c.r.UserAgent(), 256),
		EntryPoint: "api",
		RequestID:  c.rid,
	})
	ev := &c.events[len(c.events)-1]
	if typ == "Patient" {
		ev.PatientID = id
	}
	return ev
}

// versionEvent is event for a version read or written: it also names the
// version's patient.
func (c *call) versionEvent(action, subtype string, v store.Version) *audit.Event {
	ev := c.event(action, subtype, v.Type, v.ID, v.VersionID)
	if ps := c.patientsOf(v); len(ps) > 0 {
		ev.PatientID = ps[0]
	}
	return ev
}

// authorize asks the access package; a denial becomes a 403 error.
func (c *call) authorize(a access.Action, typ string) error {
	c.decided = true
	sub, err := c.subject()
	if err != nil {
		return err
	}
	d := access.Decide(sub, a, access.Resource{Tenant: c.p.Tenant, Type: typ})
	if !d.Allow {
		return &forbiddenError{reason: d.Reason}
	}
	return nil
}

type forbiddenError struct{ reason string }

func (e *forbiddenError) Error() string { return "forbidden: " + e.reason }

// allowed applies the IP allowlist to the call's principal and operation
// op; a request from elsewhere gets 403.
func (c *call) allowed(op string) *reply {
	if d := c.s.permitted(c.r, c.p.Tenant, c.p.Role, op); !d.Allow {
		return outcomeReply(c.rid, http.StatusForbidden, issue("forbidden", d.Reason))
	}
	return nil
}

// permitted applies the IP allowlist to a request from r's address by
// role in tenant for operation op (for sign-in steps, whose principal is
// known only once the account is).
func (s *Server) permitted(r *http.Request, tenant, role, op string) access.Decision {
	addr, _ := netip.ParseAddr(clientIP(r))
	return s.d.Allowlist.Permit(tenant, role, op, addr)
}

// operationOf is the allowlist operation of a route.
func operationOf(r *http.Request, subtype string) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/admin/"):
		return access.OpAdmin
	case subtype == "sign", subtype == "step-up":
		return subtype
	case subtype == "break-glass-start":
		return access.OpBreakGlass
	case strings.HasPrefix(r.URL.Path, "/audit/"):
		return access.OpAudit
	}
	return ""
}

// preflight checks what every FHIR route needs before its handler runs:
// a supported response format, a known resource type and a valid id.
func (c *call) preflight() *reply {
	if !acceptsJSON(c.r) {
		return outcomeReply(c.rid, http.StatusNotAcceptable, issue("not-supported", "only application/fhir+json responses are supported"))
	}
	if typ := c.r.PathValue("type"); typ != "" && !fhir.IsResourceType(typ) {
		return outcomeReply(c.rid, http.StatusNotFound, issue("not-supported", "unknown resource type"))
	}
	if id := c.r.PathValue("id"); id != "" && !validID(id) {
		return outcomeReply(c.rid, http.StatusBadRequest, issue("value", "invalid resource id: 1-64 characters A-Z a-z 0-9 - ."))
	}
	if p := c.r.Header.Get(purposeHeader); p != "" && !audit.ValidPurpose(p) {
		return outcomeReply(c.rid, http.StatusBadRequest, issue("value", purposeHeader+" must be a code of the HL7 v3 PurposeOfUse value set, such as TREAT, HPAYMT or HOPERAT"))
	}
	return nil
}

// bearer is the request's bearer token, or "".
func bearer(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authenticate verifies the call's credential (credential) and notes it
// in the call.
func (s *Server) authenticate(c *call) (auth.Principal, error) {
	tok, err := s.credential(c)
	if err != nil {
		return auth.Principal{}, err
	}
	if strings.HasPrefix(tok, identity.SessionTokenPrefix) {
		return s.personSession(c.r.Context(), tok)
	}
	return s.d.Auth.Authenticate(c.r.Context(), tok)
}

var errNoCredentials = errors.New("no credentials")

func (s *Server) unauthorized(c *call, err error) *reply {
	if errors.Is(err, errCSRF) {
		return outcomeReply(c.rid, http.StatusForbidden, issue("forbidden", err.Error()))
	}
	if !errors.Is(err, errNoCredentials) && !errors.Is(err, auth.ErrInvalidCredentials) {
		s.d.Log.Error("authentication backend error", "request_id", c.rid, "err", err.Error())
		return outcomeReply(c.rid, http.StatusServiceUnavailable, issue("transient", "authentication is unavailable"))
	}
	msg := "a valid bearer access token is required"
	var se *sessionEnded
	if errors.As(err, &se) && se.locked {
		msg = "the session is locked after inactivity; resume it at POST /auth/resume with the password or PIN"
	}
	rep := outcomeReply(c.rid, http.StatusUnauthorized, issue("login", msg))
	v := `Bearer realm="ward"`
	if errors.Is(err, auth.ErrInvalidCredentials) {
		v += `, error="invalid_token"`
	}
	rep.header.Set("WWW-Authenticate", v)
	return rep
}

func actionOf(subtype string) string {
	switch subtype {
	case "create":
		return audit.ActionCreate
	case "update":
		return audit.ActionUpdate
	case "delete":
		return audit.ActionDelete
	case "bundle":
		return audit.ActionExecute
	}
	return audit.ActionRead
}

// paramNames lists the query's parameter names, never their values.
func paramNames(r *http.Request) string {
	if r.URL.RawQuery == "" {
		return ""
	}
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, truncate(k, 64))
	}
	slices.Sort(names)
	return strings.Join(names, "&")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

func validID(id string) bool { return idRe.MatchString(id) }
