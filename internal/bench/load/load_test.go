package load

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/api/apitest"
)

// smokeDuration is how long each scenario runs against a real ward: the
// CI smoke of issue 10. It asserts that requests succeed, not speed;
// two seconds a scenario keeps CI short.
const smokeDuration = 2 * time.Second

// harnessOptions are Options for the ward h runs.
func harnessOptions(t *testing.T, h *apitest.Harness, scenario string) Options {
	t.Helper()
	tr, ok := h.Client.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil {
		t.Fatal("apitest client has no TLS config")
	}
	return Options{
		Target: h.BaseURL, Scenario: scenario, Clients: 4, Duration: smokeDuration,
		Patients: 20, ClientID: h.ClientID, Secret: h.Secret,
		RootCAs: tr.TLSClientConfig.RootCAs, ServerPID: os.Getpid(), Seed: 1,
	}
}

func TestLoadScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a ward for a few seconds per scenario")
	}
	cases := []struct {
		scenario string
		statuses []int           // every status must be one of these
		ops      map[string]bool // operations that must have run
	}{
		{"crud", []int{200, 201, 204}, map[string]bool{"create": true, "read": true, "update": true, "delete": true}},
		{"import", []int{200}, map[string]bool{"transaction": true}},
		{"search", []int{200}, map[string]bool{"search-family-prefix": true, "search-identifier": true, "search-obs-patient-code": true,
			"search-obs-date-range": true, "search-obs-date-month": true, "search-obs-include-subject": true}},
		{"mixed", []int{200, 201}, map[string]bool{"read": true, "create": true, "update": true, "search-identifier": true}},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			h := apitest.New(t)
			rep, err := Run(context.Background(), harnessOptions(t, h, c.scenario))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", rep.Table())
			if rep.Requests == 0 || rep.Errors != 0 || rep.FirstError != "" {
				t.Fatalf("%d requests, %d errors (%s); want requests and no errors", rep.Requests, rep.Errors, rep.FirstError)
			}
			var sum int64
			for code, n := range rep.ByStatus {
				sum += n
				if !containsInt(c.statuses, code) {
					t.Errorf("status %d (%d times); want only %v", code, n, c.statuses)
				}
			}
			if sum != rep.Requests {
				t.Errorf("statuses add up to %d, requests %d", sum, rep.Requests)
			}
			for op := range c.ops {
				if rep.Ops[op] == 0 {
					t.Errorf("operation %s never ran: %v", op, rep.Ops)
				}
			}
			if rep.ReqPerSec <= 0 || rep.P50 <= 0 || rep.P50 > rep.P95 || rep.P95 > rep.P99 || rep.P99 > rep.Max {
				t.Errorf("req/s %.1f, p50 %v, p95 %v, p99 %v, max %v: want positive, ordered figures", rep.ReqPerSec, rep.P50, rep.P95, rep.P99, rep.Max)
			}
			if rep.Duration < smokeDuration || rep.Duration > smokeDuration+30*time.Second {
				t.Errorf("measured for %v, want about %v", rep.Duration, smokeDuration)
			}
			if c.scenario == "import" && (rep.Resources != rep.Requests*bundleEntries || rep.ResourcesPerSec <= 0) {
				t.Errorf("%d resources from %d Bundles (%.1f/s); want %d each", rep.Resources, rep.Requests, rep.ResourcesPerSec, bundleEntries)
			}
			if rep.ServerRSSPeakMB <= 0 || rep.ServerRSSPeakMB < rep.ServerRSSStartMB || rep.ServerCPUSeconds <= 0 {
				t.Errorf("server CPU %.2f s, RSS start %.1f peak %.1f MB: want both sampled (the test process is the server)",
					rep.ServerCPUSeconds, rep.ServerRSSStartMB, rep.ServerRSSPeakMB)
			}
		})
	}
}

// TestLoadBounds checks MaxRequests stops a run before its time.
func TestLoadBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a ward")
	}
	h := apitest.New(t)
	o := harnessOptions(t, h, "crud")
	o.Duration, o.MaxRequests, o.ServerPID = time.Minute, 30, 0
	start := time.Now()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 30 || rep.Errors != 0 || time.Since(start) > 30*time.Second {
		t.Errorf("%d requests (%d errors) in %v; want exactly 30, well before the minute", rep.Requests, rep.Errors, time.Since(start))
	}
	if strings.Contains(rep.Table(), "server CPU") {
		t.Error("table reports server usage without a server pid")
	}

	// Bad credentials fail the run before it starts.
	o.Secret = "wrong"
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("wrong secret: %v, want a token error", err)
	}
	// An untrusted certificate is a clear failure too.
	o = harnessOptions(t, h, "crud")
	o.RootCAs = nil
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
	o.Insecure = true
	o.MaxRequests = 12
	if rep, err := Run(context.Background(), o); err != nil || rep.Errors != 0 {
		t.Errorf("insecure: %v, %+v", err, rep)
	}
}

func TestOptionsRefused(t *testing.T) {
	ok := Options{Target: "https://127.0.0.1:8443", Scenario: "crud", Clients: 1, Duration: time.Second, ClientID: "c", Secret: "s"}
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"http", func(o *Options) { o.Target = "http://127.0.0.1:8443" }, "must be https"},
		{"not a URL", func(o *Options) { o.Target = "127.0.0.1:8443" }, "https"},
		{"remote", func(o *Options) { o.Target = "https://example.org" }, "not a loopback"},
		{"remote IP", func(o *Options) { o.Target = "https://10.0.0.1:8443" }, "not a loopback"},
		{"credentials in URL", func(o *Options) { o.Target = "https://u:p@127.0.0.1" }, "without credentials"},
		{"scenario", func(o *Options) { o.Scenario = "soak" }, "scenario"},
		{"no clients", func(o *Options) { o.Clients = 0 }, "clients"},
		{"too many clients", func(o *Options) { o.Clients = MaxClients + 1 }, "clients"},
		{"short", func(o *Options) { o.Duration = 500 * time.Millisecond }, "duration"},
		{"long", func(o *Options) { o.Duration = 11 * time.Minute }, "duration"},
		{"negative max", func(o *Options) { o.MaxRequests = -1 }, "max requests"},
		{"patients", func(o *Options) { o.Patients = MaxPatients + 1 }, "patients"},
		{"no secret", func(o *Options) { o.Secret = "" }, "client id and secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			c.edit(&o)
			_, err := Run(context.Background(), o)
			if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want ErrOptions mentioning %q", err, c.want)
			}
		})
	}
	for _, target := range []string{"https://localhost:8443", "https://[::1]:8443", "https://127.0.0.2"} {
		o := ok
		o.Target = target
		if _, err := o.check(); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
	o := ok
	o.Target, o.AllowRemote = "https://example.org", true
	if _, err := o.check(); err != nil {
		t.Errorf("remote allowed: %v", err)
	}
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
