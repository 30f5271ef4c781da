// Package api serves ward over HTTP: the FHIR R4 REST API, the OAuth 2
// token endpoint and health probes. Every FHIR route goes through one
// pipeline (pipeline.go): authenticate → decide → act → record.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/store"
)

// Store is what the REST layer needs from storage; *store.Store has it.
type Store interface {
	Read(ctx context.Context, tenant, typ, id string) (store.Version, error)
	VRead(ctx context.Context, tenant, typ, id string, version int64) (store.Version, error)
	History(ctx context.Context, tenant string, q store.HistoryQuery) ([]store.Version, store.Cursor, error)
	Write(ctx context.Context, tenant string, ops []store.Op) ([]store.Result, error)
	WriteWith(ctx context.Context, tenant string, ops []store.Op, then func(tx store.Tx, results []store.Result) error) ([]store.Result, error)
}

// TxRecorder appends audit events inside a store write transaction, so a
// write and its events commit together; the app adapts the ledger.
type TxRecorder interface {
	RecordTx(tx store.Tx, events []audit.Event) error
	// Committed is called after a transaction carrying events committed.
	Committed()
}

// AttemptCounter counts attempts of a key in fixed windows, shared by
// every instance; the SQLite store has it.
type AttemptCounter interface {
	CountAttempt(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
}

// Authenticator verifies credentials; *auth.Service has it.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
	IssueToken(ctx context.Context, clientID, secret string) (auth.Secret, auth.Principal, error)
	TokenTTL() time.Duration
}

// Deps are the parts the server is built from.
type Deps struct {
	Store   Store
	Search  Searcher
	Cursors Cursors
	Auth    Authenticator
	People  People // nil: people cannot sign in (service clients only)
	// SSO runs sign-ins with tenants' identity providers; nil: none.
	SSO SSO
	// Signatures signs resource versions ($sign) and checks them.
	Signatures Signatures
	// Allowlist restricts the addresses requests may come from.
	Allowlist access.Allowlist
	// OrgWideRoles see every patient of their tenant within their
	// privileges; other people's roles need a care relationship.
	OrgWideRoles []string
	// SensitiveRoles hold the privilege records with sensitive security
	// labels need.
	SensitiveRoles []string
	// Masks remove elements a role may not see from every answer.
	Masks access.Masks
	// BreakGlass is emergency access (nil: not available).
	BreakGlass BreakGlass
	// Roles keeps tenants' edited role privileges (nil: built-in only).
	Roles RoleStore
	// Attempts counts sign-in attempts per address across instances;
	// SignInPerMinute bounds them (0: no bound).
	Attempts        AttemptCounter
	SignInPerMinute int
	Audit           audit.Recorder
	TxAudit         TxRecorder // nil: write events are recorded after the write, like reads
	Proofs          Proofs
	Trail           AuditTrail
	Alerts          AlertList
	Log             *slog.Logger
	Ready           func(ctx context.Context) error // readiness probe; nil = always ready
	BaseURL         string                          // public https base, e.g. https://ward.example.org
	MaxBody         int64                           // request body limit in bytes
	NewID           func() string                   // resource ids for transaction entries
	Now             func() time.Time
	Version         string // software version for the CapabilityStatement
	TokenIP         *auth.Limiter
	TokenCli        *auth.Limiter
}

// Server is ward's HTTP handler.
type Server struct {
	d        Deps
	cap      []byte // CapabilityStatement, built once
	mux      *http.ServeMux
	care     *tenantCache[map[string]bool]           // practitioner → their patients (careTTL)
	consents *tenantCache[consentSet]                // patient → their Consents
	roles    *tenantCache[map[string][]access.Grant] // the tenant's edited role privileges (roleTTL)

	routeList []Route // authenticated routes, in registration order
}

// New builds the server and its routes.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBody == 0 {
		d.MaxBody = 16 << 20
	}
	s := &Server{d: d, mux: http.NewServeMux(), care: newTenantCache[map[string]bool](careTTL, 10000),
		consents: newTenantCache[consentSet](0, 10000), roles: newTenantCache[map[string][]access.Grant](roleTTL, 1000)}
	s.cap = capabilityStatement(d.BaseURL, d.Version, d.Now())
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.HandleFunc("POST /oauth2/token", s.token)
	s.signIn("POST /auth/login", "login", s.login)
	s.signIn("POST /auth/password", "login-password", s.newPassword)
	s.signIn("POST /auth/mfa/totp/enroll", "mfa-enroll", s.enrolTOTP)
	s.signIn("POST /auth/mfa/totp", "mfa-totp", s.finishTOTP)
	s.signIn("POST /auth/mfa/recovery", "mfa-recovery", s.finishRecovery)
	s.signIn("POST /auth/resume", "session-resume", s.resume)
	s.webauthnRoutes()
	s.ssoRoute("GET /auth/sso/{tenant}/{provider}/start", "sso-start", s.ssoStart)
	s.ssoRoute("GET /auth/sso/{tenant}/{provider}/callback", "sso-callback", s.ssoCallback)
	s.signIn("POST /auth/invitations/accept", "invitation-accept", s.acceptInvitation)
	s.account("POST /auth/logout", "logout", s.logout)
	s.account("GET /auth/sessions", "sessions", s.sessions)
	s.account("DELETE /auth/sessions", "sessions-end", s.endSessions)
	s.account("DELETE /auth/sessions/{id}", "sessions-end", s.endSessions)
	s.account("GET /admin/users/{user}/sessions", "sessions", s.sessions)
	s.account("DELETE /admin/users/{user}/sessions", "sessions-end", s.endSessions)
	s.account("POST /auth/step-up", "step-up", s.stepUp)
	s.account("POST /auth/pin", "pin-set", s.setPIN)
	s.account("POST /admin/invitations", "invitation", s.invite)
	s.account("GET /admin/roles", "roles", s.listRoles)
	s.account("PUT /admin/users/{user}/role", "user-role-change", s.setUserRole)
	s.account("PUT /admin/roles/{role}", "role-change", s.setRole)
	s.account("DELETE /admin/roles/{role}", "role-change", s.setRole)
	s.account("POST /access/break-glass", "break-glass-start", s.breakGlassStart)
	s.account("DELETE /access/break-glass/{id}", "break-glass-end", s.breakGlassEnd)
	s.account("GET /access/reviews", "break-glass-reviews", s.reviews)
	s.account("GET /access/reviews/{id}", "break-glass-review", s.reviewCase)
	s.account("POST /access/reviews/{id}/close", "break-glass-review-close", s.reviewClose)

	m.HandleFunc("GET /fhir/R4/metadata", s.metadata)
	s.fhir("GET /audit/events", "audit-read", s.auditEvents)
	s.fhir("GET /audit/alerts", "audit-alerts", s.auditAlerts)
	s.fhir("GET /audit/checkpoint", "audit-checkpoint", s.auditCheckpoint)
	s.fhir("GET /audit/proof/inclusion", "audit-proof", s.auditInclusion)
	s.fhir("GET /audit/proof/consistency", "audit-proof", s.auditConsistency)
	s.fhir("POST /fhir/R4/{$}", "bundle", s.bundle)
	s.fhir("GET /fhir/R4/_history", "history-system", s.historySystem)
	s.fhir("POST /fhir/R4/{type}", "create", s.create)
	s.fhir("GET /fhir/R4/{type}", "search-type", s.searchType)
	s.fhir("POST /fhir/R4/{type}/_search", "search-type", s.searchType)
	s.fhir("PUT /fhir/R4/{type}", "update", s.conditionalUpdate)
	s.fhir("DELETE /fhir/R4/{type}", "delete", s.conditionalDelete)
	s.fhir("GET /fhir/R4/{ctype}/{cid}/{type}", "search-type", s.searchCompartment)
	s.fhir("GET /fhir/R4/{type}/_history", "history-type", s.historyType)
	s.fhir("GET /fhir/R4/{type}/{id}", "read", s.read)
	s.fhir("PUT /fhir/R4/{type}/{id}", "update", s.update)
	s.fhir("DELETE /fhir/R4/{type}/{id}", "delete", s.delete)
	s.fhir("GET /fhir/R4/{type}/{id}/_history", "history-instance", s.historyInstance)
	s.fhir("GET /fhir/R4/{type}/{id}/_history/{vid}", "vread", s.vread)
	s.fhir("POST /fhir/R4/{type}/{id}/$sign", "sign", s.sign)
	s.fhir("GET /fhir/R4/Provenance/{id}/$verify", "verify", s.verifySignature)
	m.HandleFunc("/", s.notFound)
}

// ServeHTTP applies the headers and logging every response gets, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := requestID(r)
	securityHeaders(w.Header())
	w.Header().Set("X-Request-Id", rid)
	lw := &loggingWriter{ResponseWriter: w, status: http.StatusOK}
	r = r.WithContext(withRequestInfo(r.Context(), &requestInfo{id: rid}))
	defer func() {
		if v := recover(); v != nil {
			// Log the panic without the request's data; answer 500.
			s.d.Log.Error("panic", "request_id", rid, "route", r.Pattern)
			if !lw.wrote {
				writeOutcome(lw, rid, http.StatusInternalServerError, issue("exception", "internal error"))
			}
		}
		ri := requestInfoFrom(r.Context())
		s.d.Log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", routeOf(r)),
			slog.Int("status", lw.status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", rid),
			slog.String("principal", ri.principal))
	}()
	r.Body = http.MaxBytesReader(lw, r.Body, s.d.MaxBody)
	s.mux.ServeHTTP(lw, r)
}

// routeOf is the matched route pattern, never the raw path or query.
func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}

type loggingWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *loggingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}`))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.d.Ready != nil {
		if err := s.d.Ready(r.Context()); err != nil {
			s.d.Log.Warn("not ready", "err", err.Error())
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
	}
	w.Write([]byte(`{"status":"ready"}`))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeOutcome(w, requestInfoFrom(r.Context()).id, http.StatusNotFound, issue("not-found", "no such route"))
}
