package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/bench/load"
)

// TestBenchSearch runs `ward bench search` end to end on a tiny dataset:
// a load with --json, a --reuse run printing the table, and the refusals.
func TestBenchSearch(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"bench", "search", "--data", data, "--patients", "50", "--observations", "500", "--duration", "200ms"}

	code, stdout, stderr := run(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("load run: exit %d\n%s", code, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if rep.Dataset.Observations != 500 || rep.Load.Reused || rep.Load.Resources != 550 || rep.Load.PerSecond <= 0 {
		t.Errorf("dataset %+v, load %+v; want 500 observations and 550 resources loaded by this run", rep.Dataset, rep.Load)
	}
	if s := rep.Storage; s.BodyBytes <= 0 || s.IndexBytes <= 0 || s.TokenRows <= 0 || s.Ratio <= 0 {
		t.Errorf("storage %+v: want bodies, index and ratio measured", s)
	}
	names := map[string]bool{}
	for _, q := range rep.Queries {
		names[q.Name] = true
		if q.Requests == 0 || q.Empty != 0 || q.Matches <= 0 || q.P95 <= 0 || q.P50 > q.P95 || q.P95 > q.P99 {
			t.Errorf("%s: %+v; want requests that all returned results and ordered percentiles", q.Name, q)
		}
	}
	for _, q := range load.Queries() {
		if !names[q.Name] {
			t.Errorf("query %s missing from the report", q.Name)
		}
	}
	for _, r := range rep.Queries {
		if r.Name == "obs-include-subject" && r.Included != 1 {
			t.Errorf("obs-include-subject includes %.1f resources a page, want the one subject", r.Included)
		}
	}

	// --reuse queries the loaded dataset and prints the table.
	code, stdout, stderr = run(t, append(args, "--reuse")...)
	if code != 0 {
		t.Fatalf("--reuse run: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "loading") {
		t.Errorf("--reuse loaded again:\n%s", stderr)
	}
	want := []string{"loaded by an earlier run; --reuse", "index / encrypted bodies", "p95 ms"}
	for _, q := range load.Queries() {
		want = append(want, "\n"+q.Name+" ")
	}
	for _, want := range want {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}

	// A non-empty directory needs --reuse, and --reuse needs the same dataset.
	if code, _, stderr := run(t, args...); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("loaded dir without --reuse: exit %d, %q", code, stderr)
	}
	if code, _, stderr := run(t, "bench", "search", "--data", data, "--patients", "60", "--reuse"); code != 1 || !strings.Contains(stderr, "holds 50 patients") {
		t.Errorf("--reuse with other options: exit %d, %q", code, stderr)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "bench", "search", "--data", other, "--reuse"); code != 1 || !strings.Contains(stderr, "no complete benchmark dataset") {
		t.Errorf("--reuse of a foreign dir: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, "bench", "search"); code != 2 {
		t.Errorf("without --data: exit %d, want 2", code)
	}
}
