// Package load drives a running ward over HTTPS as a client would (OAuth 2
// client credentials, FHIR REST) and measures throughput and latency:
// `ward bench run`. It imports no server package; the data comes from
// internal/synth.
package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options say what to run against which server, and for how long.
type Options struct {
	// Target is the server's base URL (https://127.0.0.1:8443). It must
	// be https, and on a loopback address unless AllowRemote.
	Target      string
	AllowRemote bool
	Scenario    string        // crud, import, search or mixed
	Clients     int           // concurrent clients, 1..1024
	Duration    time.Duration // how long the measured phase runs, 1s..10m
	MaxRequests int           // bound on the requests of the measured phase; 0: 10 million
	// Patients is how many synthetic patients search and mixed load
	// before measuring (0: 100; at most 10,000).
	Patients int
	// ClientID and Secret are the OAuth 2 client credentials (a service
	// client); tokens come from POST /oauth2/token and are renewed before
	// they expire.
	ClientID, Secret string
	RootCAs          *x509.CertPool // nil: the system roots
	Insecure         bool           // skip certificate verification
	// ServerPID, when not 0, is the local server process whose CPU time
	// and RSS are read from /proc during the run.
	ServerPID int
	Seed      int64
}

// Report is what a run measured.
type Report struct {
	Target          string           `json:"target"`
	Scenario        string           `json:"scenario"`
	Clients         int              `json:"clients"`
	Duration        time.Duration    `json:"duration_ns"` // the measured phase, as it ran
	Preload         time.Duration    `json:"preload_ns,omitempty"`
	Requests        int64            `json:"requests"`
	Errors          int64            `json:"errors"` // transport errors and statuses other than 2xx
	ReqPerSec       float64          `json:"requests_per_second"`
	P50             time.Duration    `json:"p50_ns"`
	P95             time.Duration    `json:"p95_ns"`
	P99             time.Duration    `json:"p99_ns"`
	Max             time.Duration    `json:"max_ns"`
	ByStatus        map[int]int64    `json:"by_status"`           // 0: transport errors
	Resources       int64            `json:"resources,omitempty"` // import: resources the server accepted
	ResourcesPerSec float64          `json:"resources_per_second,omitempty"`
	FirstError      string           `json:"first_error,omitempty"` // the first failed request, for diagnosis
	Ops             map[string]int64 `json:"ops,omitempty"`         // requests per operation (create, read, search-family-prefix, …)

	// The server process (ServerPID), from /proc; 0 when not sampled.
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	ServerRSSStartMB float64 `json:"server_rss_start_mb,omitempty"`
	ServerRSSEndMB   float64 `json:"server_rss_end_mb,omitempty"`
	ServerRSSPeakMB  float64 `json:"server_rss_peak_mb,omitempty"`
}

// Bounds of the options.
const (
	MaxClients         = 1024
	MinDuration        = time.Second
	MaxDuration        = 10 * time.Minute
	DefaultMaxRequests = 10_000_000
	DefaultPatients    = 100
	MaxPatients        = 10_000
)

// Scenarios are the scenario names Run accepts.
var Scenarios = []string{"crud", "import", "search", "mixed"}

// ErrOptions marks options Run refuses.
var ErrOptions = errors.New("bench run: invalid options")

// check validates o and fills in defaults.
func (o *Options) check() (*url.URL, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrOptions}, a...)...)
	}
	u, err := url.Parse(strings.TrimRight(o.Target, "/"))
	if err != nil || u.Host == "" {
		return nil, bad("target %q is not a URL such as https://127.0.0.1:8443", o.Target)
	}
	if u.Scheme != "https" {
		return nil, bad("target %q must be https: ward serves FHIR over TLS only", o.Target)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("target %q must be a base URL, without credentials, query or fragment", o.Target)
	}
	if !o.AllowRemote && !isLoopback(u.Hostname()) {
		return nil, bad("target host %q is not a loopback address: allow remote targets explicitly to drive another machine", u.Hostname())
	}
	if !validScenario(o.Scenario) {
		return nil, bad("scenario %q: want one of %s", o.Scenario, strings.Join(Scenarios, ", "))
	}
	if o.Clients < 1 || o.Clients > MaxClients {
		return nil, bad("clients %d: want 1 to %d", o.Clients, MaxClients)
	}
	if o.Duration < MinDuration || o.Duration > MaxDuration {
		return nil, bad("duration %s: want %s to %s", o.Duration, MinDuration, MaxDuration)
	}
	if o.MaxRequests < 0 {
		return nil, bad("max requests %d must not be negative", o.MaxRequests)
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.Patients < 0 || o.Patients > MaxPatients {
		return nil, bad("patients %d: want 1 to %d", o.Patients, MaxPatients)
	}
	if o.Patients == 0 {
		o.Patients = DefaultPatients
	}
	if o.ClientID == "" || o.Secret == "" {
		return nil, bad("client id and secret are required (a service client: ward client create --role service)")
	}
	if o.ServerPID < 0 {
		return nil, bad("server pid %d must not be negative", o.ServerPID)
	}
	return u, nil
}

func validScenario(s string) bool {
	for _, x := range Scenarios {
		if x == s {
			return true
		}
	}
	return false
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errStop ends a client's loop: the time or request bound was reached,
// or the run was cancelled.
var errStop = errors.New("stop")

// runner is one run's shared state. Counters are atomic; byStatus, ops
// and firstErr are guarded by mu.
type runner struct {
	o        Options
	base     string // target without a trailing slash
	hc       *http.Client
	tok      *tokenSource
	hist     histogram
	claimed  atomic.Int64 // request slots taken (bounded by MaxRequests)
	done     atomic.Int64 // requests completed
	errs     atomic.Int64
	accepted atomic.Int64 // import: resources the server accepted
	measure  atomic.Bool  // false during preload: requests are not counted
	deadline time.Time

	mu       sync.Mutex
	byStatus map[int]int64
	ops      map[string]int64
	firstErr string
}

// scenario is a workload: prepare runs before measuring (data to read,
// bodies to send); iter does one unit of work for client c and returns
// errStop when the run is over.
type scenario interface {
	prepare(ctx context.Context, r *runner) error
	iter(ctx context.Context, r *runner, c int, rng *rand.Rand) error
}

// Run drives the target with o.Scenario and reports what it measured.
// It returns an error when the options are invalid, the server refuses
// the credentials, or the preload fails; failed requests while measuring
// are counted in the report, not returned.
func Run(ctx context.Context, o Options) (Report, error) {
	u, err := o.check()
	if err != nil {
		return Report{}, err
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: o.RootCAs, InsecureSkipVerify: o.Insecure, MinVersion: tls.VersionTLS12}, //nolint:gosec // Insecure is the operator's explicit choice for a dev certificate
		MaxIdleConns:        o.Clients + 4,
		MaxIdleConnsPerHost: o.Clients + 4,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	r := &runner{
		o:        o,
		base:     u.String(),
		hc:       &http.Client{Transport: tr, Timeout: time.Minute},
		byStatus: map[int]int64{},
		ops:      map[string]int64{},
	}
	r.tok = &tokenSource{hc: r.hc, url: r.base + "/oauth2/token", id: o.ClientID, secret: o.Secret, now: time.Now}
	if _, err := r.tok.get(ctx); err != nil {
		return Report{}, err
	}
	var sc scenario
	switch o.Scenario {
	case "crud":
		sc = &crud{}
	case "import":
		sc = &importer{}
	case "search":
		sc = &searcher{}
	case "mixed":
		sc = &mixed{}
	}
	t0 := time.Now()
	if err := sc.prepare(ctx, r); err != nil {
		if ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		return Report{}, fmt.Errorf("bench run: %s: prepare: %w", o.Scenario, err)
	}
	preload := time.Since(t0)

	var sampler *procSampler
	if o.ServerPID != 0 {
		if sampler, err = startSampler(ctx, o.ServerPID, 100*time.Millisecond); err != nil {
			return Report{}, err
		}
	}
	r.measure.Store(true)
	start := time.Now()
	r.deadline = start.Add(o.Duration)
	var wg sync.WaitGroup
	for c := range o.Clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(c)))
			for sc.iter(ctx, r, c, rng) == nil {
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	rep := r.report(elapsed)
	rep.Preload = preload
	if sampler != nil {
		usage := sampler.stop()
		rep.ServerCPUSeconds, rep.ServerRSSStartMB, rep.ServerRSSEndMB, rep.ServerRSSPeakMB = usage.CPUSeconds, usage.RSSStartMB, usage.RSSEndMB, usage.RSSPeakMB
	}
	return rep, ctx.Err() // cancelled: the report covers the time until then
}

func (r *runner) report(elapsed time.Duration) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{
		Target: r.base, Scenario: r.o.Scenario, Clients: r.o.Clients, Duration: elapsed,
		Requests: r.done.Load(), Errors: r.errs.Load(),
		P50: r.hist.quantile(0.50), P95: r.hist.quantile(0.95), P99: r.hist.quantile(0.99), Max: time.Duration(r.hist.max.Load()),
		ByStatus: make(map[int]int64, len(r.byStatus)), Ops: make(map[string]int64, len(r.ops)),
		FirstError: r.firstErr,
	}
	for k, v := range r.byStatus {
		rep.ByStatus[k] = v
	}
	for k, v := range r.ops {
		rep.Ops[k] = v
	}
	if s := elapsed.Seconds(); s > 0 {
		rep.ReqPerSec = float64(rep.Requests) / s
		if r.o.Scenario == "import" {
			rep.Resources = r.accepted.Load()
			rep.ResourcesPerSec = float64(rep.Resources) / s
		}
	}
	return rep
}
