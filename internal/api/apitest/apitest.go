// Package apitest runs API scenarios against a complete ward (real SQLite,
// keyring, local key file, TLS) in a temporary data directory. Each
// scenario declares the request, the expected status, headers and body
// fragments, and the audit events the request must record, so a route
// that forgets to record fails its test.
package apitest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/tlsconf"
)

// Harness is one running ward and an authenticated client for it.
type Harness struct {
	T        testing.TB
	Cfg      config.Config
	App      *app.App
	Server   *httptest.Server
	Client   *http.Client
	BaseURL  string // https://127.0.0.1:port
	Token    string
	ClientID string
	Secret   string
	Log      *SyncBuffer // everything ward logged

	auditOff uint64           // ledger index of the next unread event
	now      func() time.Time // ward's clock; nil: time.Now
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Bytes returns a copy of what was written.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

// Options adjust the harness config before it starts.
type Options func(*config.Config)

// New starts ward in development mode in t.TempDir() and creates a
// service client with a token. Cleanup stops everything.
func New(t testing.TB, opts ...Options) *Harness {
	t.Helper()
	return NewWithClock(t, nil, opts...)
}

// NewWithClock is New with ward running on clock now (sessions, sign-in
// steps, signatures, audit event times), so tests can move time on.
func NewWithClock(t testing.TB, now func() time.Time, opts ...Options) *Harness {
	t.Helper()
	h := &Harness{T: t, Log: &SyncBuffer{}, now: now}
	dir := t.TempDir()
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Env = config.Development
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Addr = "127.0.0.1:0"
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.PrepareDev(cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.Cfg = cfg
	h.start()
	id, secret := h.CreateClient("default", "service")
	h.ClientID, h.Secret = id, secret
	h.Token = h.IssueToken(id, secret)
	h.DrainEvents()
	return h
}

// start opens the app and a TLS test server over its handler.
func (h *Harness) start() {
	t := h.T
	log := slog.New(slog.NewJSONHandler(h.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.OpenWith(context.Background(), h.Cfg, log, app.Options{Now: h.now})
	if err != nil {
		t.Fatal(err)
	}
	h.App = a
	certFile, keyFile := h.Cfg.DevTLSPaths()
	tc, err := tlsconf.Server(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler)
	srv.TLS = tc
	srv.StartTLS()
	h.Server = srv
	h.BaseURL = srv.URL
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	h.Client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: time.Minute}
	t.Cleanup(h.stop)
}

func (h *Harness) stop() {
	if h.Server != nil {
		h.Server.Close()
		h.Server = nil
	}
	if h.App != nil {
		if err := h.App.Close(); err != nil {
			h.T.Errorf("close app: %v", err)
		}
		h.App = nil
	}
}

// Restart closes ward and opens it again on the same data directory.
func (h *Harness) Restart() {
	h.stop()
	h.start()
	h.DrainEvents()
}

// CreateClient creates a service client directly through the auth service.
func (h *Harness) CreateClient(tenant, role string) (id, secret string) {
	h.T.Helper()
	cid, sec, err := h.App.Auth.CreateClient(context.Background(), tenant, "test-"+tenant, role)
	if err != nil {
		h.T.Fatal(err)
	}
	return cid, sec.Reveal()
}

// IssueToken runs the client-credentials grant over HTTP.
func (h *Harness) IssueToken(id, secret string) string {
	h.T.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	resp, err := h.Client.PostForm(h.BaseURL+"/oauth2/token", form)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.AccessToken == "" {
		h.T.Fatalf("token: status %d", resp.StatusCode)
	}
	return out.AccessToken
}

// Event is an expected audit event; empty fields match anything.
type Event struct {
	Action     string
	Subtype    string
	EntityType string
	EntityID   string // the record id the event must name; "" means any
	Patient    string // the patient id the event must name; "-" means none
	Outcome    int
	Count      int // how many such events; 0 means exactly 1
}

// Scenario is one request and what must come of it.
type Scenario struct {
	Name    string
	Method  string
	Path    string // below the base URL, e.g. /fhir/R4/Patient
	Header  map[string]string
	Body    string
	NoToken bool   // send no Authorization header
	Token   string // use this token instead of the harness token

	Status     int
	WantHeader map[string]string // exact values; "*" means present
	Contains   []string          // body substrings
	Excludes   []string          // body must not contain
	Events     []Event           // audit events the request must record (all of them)
	AnyEvents  bool              // do not check events
}

// Response is what a scenario got back.
type Response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return m
}

// Do sends a request and returns the response without checks.
func (h *Harness) Do(method, path string, body io.Reader, header map[string]string) *Response {
	h.T.Helper()
	req, err := http.NewRequest(method, h.BaseURL+path, body)
	if err != nil {
		h.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Authorization", "Bearer "+h.Token)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.T.Fatal(err)
	}
	return &Response{Response: resp, Body: b}
}

// Run performs a scenario and checks everything it declares.
func (h *Harness) Run(t *testing.T, sc Scenario) *Response {
	t.Helper()
	h.DrainEvents()
	hdr := map[string]string{}
	for k, v := range sc.Header {
		hdr[k] = v
	}
	if sc.NoToken {
		hdr["Authorization"] = ""
	} else if sc.Token != "" {
		hdr["Authorization"] = "Bearer " + sc.Token
	}
	var body io.Reader
	if sc.Body != "" {
		body = strings.NewReader(sc.Body)
	}
	resp := h.Do(sc.Method, sc.Path, body, hdr)
	if sc.Status != 0 && resp.StatusCode != sc.Status {
		t.Errorf("%s %s: status %d, want %d; body: %.500s", sc.Method, sc.Path, resp.StatusCode, sc.Status, resp.Body)
	}
	for k, want := range sc.WantHeader {
		got := resp.Header.Get(k)
		if (want == "*" && got == "") || (want != "*" && got != want) {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	for _, s := range sc.Contains {
		if !bytes.Contains(resp.Body, []byte(s)) {
			t.Errorf("body lacks %q; body: %.500s", s, resp.Body)
		}
	}
	for _, s := range sc.Excludes {
		if bytes.Contains(resp.Body, []byte(s)) {
			t.Errorf("body contains %q", s)
		}
	}
	if !sc.AnyEvents {
		h.CheckEvents(t, sc.Events)
	}
	return resp
}

// DrainEvents discards audit events recorded so far.
func (h *Harness) DrainEvents() { h.Events() }

// Events returns the audit events recorded in the ledger since the last call.
func (h *Harness) Events() []audit.Event {
	h.T.Helper()
	var out []audit.Event
	err := ledger.Trail{R: h.App.DB, L: h.App.Audit}.Events(context.Background(), h.auditOff, func(index uint64, e audit.Event) error {
		out = append(out, e)
		h.auditOff = index + 1
		return nil
	})
	if err != nil {
		h.T.Fatalf("read the audit ledger: %v", err)
	}
	return out
}

// CheckEvents asserts the events recorded since the last drain are
// exactly those expected (each expectation matched Count times, nothing else).
func (h *Harness) CheckEvents(t *testing.T, want []Event) {
	t.Helper()
	got := h.Events()
	used := make([]bool, len(got))
	for _, w := range want {
		n := w.Count
		if n == 0 {
			n = 1
		}
		found := 0
		for i, e := range got {
			if used[i] || !match(w, e) {
				continue
			}
			used[i] = true
			if found++; found == n {
				break
			}
		}
		if found != n {
			t.Errorf("audit: want %d event(s) %+v, found %d; recorded: %s", n, w, found, summarize(got))
		}
	}
	for i, e := range got {
		if !used[i] {
			t.Errorf("audit: unexpected event %s", summarize([]audit.Event{e}))
		}
	}
	for _, e := range got {
		if e.RequestID == "" || e.EntryPoint != "api" || e.Time.IsZero() || e.SourceIP == "" {
			t.Errorf("audit: event missing request id, entry point, time or source: %+v", e)
		}
	}
}

func match(w Event, e audit.Event) bool {
	return (w.Action == "" || w.Action == e.Action) &&
		(w.Subtype == "" || w.Subtype == e.Subtype) &&
		(w.EntityType == "" || w.EntityType == e.EntityType) &&
		(w.EntityID == "" || w.EntityID == e.EntityID) &&
		(w.Patient == "" || w.Patient == e.PatientID || (w.Patient == "-" && e.PatientID == "")) &&
		(w.Outcome == 0 || w.Outcome == e.Outcome)
}

func summarize(es []audit.Event) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("{" + e.Action + " " + e.Subtype + " " + e.EntityType + " " + http.StatusText(e.Outcome) + "} ")
	}
	return b.String()
}
