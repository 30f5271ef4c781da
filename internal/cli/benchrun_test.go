package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/bench/load"
)

// TestBenchRun runs `ward bench run` for two seconds against a real ward
// (the issue-10 CI smoke of the command) and reads its JSON report, then
// checks the refusals.
func TestBenchRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a ward for a few seconds")
	}
	h := apitest.New(t)
	cert, _ := h.Cfg.DevTLSPaths()
	env := map[string]string{"WARD_BENCH_CLIENT_ID": h.ClientID, "WARD_BENCH_CLIENT_SECRET": h.Secret}
	var out, errb syncBuf
	code := Run([]string{"bench", "run", "--target", h.BaseURL, "--scenario", "crud", "--clients", "2", "--duration", "2s",
		"--cacert", cert, "--server-pid", "0", "--json"}, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	var rep load.Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if rep.Scenario != "crud" || rep.Clients != 2 || rep.Requests == 0 || rep.Errors != 0 || rep.ByStatus[201] == 0 || rep.ByStatus[204] == 0 || rep.ReqPerSec <= 0 {
		t.Errorf("report %+v; want crud requests, all successful", rep)
	}

	// The table, with the data dir's development certificate and flags for the credentials.
	code, stdout, stderr := run(t, "bench", "run", "--target", h.BaseURL, "--scenario", "import", "--clients", "1", "--duration", "1s",
		"--max-requests", "2", "--data-dir", h.Cfg.DataDir, "--client-id", h.ClientID, "--client-secret", h.Secret)
	if code != 0 {
		t.Fatalf("table run: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"requests      2 (0 errors)", "resources/s", "p95", "200: 2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}

	badCA := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := []string{"--client-id", "id", "--client-secret", "s"}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"http", append([]string{"--target", "http://127.0.0.1:8443", "--scenario", "crud"}, creds...), 2, "must be https"},
		{"remote", append([]string{"--target", "https://192.0.2.1:8443", "--scenario", "crud"}, creds...), 2, "not a loopback"},
		{"scenario", append([]string{"--scenario", "soak"}, creds...), 2, "scenario"},
		{"clients", append([]string{"--scenario", "crud", "--clients", "0"}, creds...), 2, "clients"},
		{"duration", append([]string{"--scenario", "crud", "--duration", "20m"}, creds...), 2, "duration"},
		{"no scenario", creds, 2, "--scenario is required"},
		{"no credentials", []string{"--scenario", "crud"}, 2, "--client-id"},
		{"bad cacert", append([]string{"--scenario", "crud", "--cacert", badCA}, creds...), 1, "no PEM certificate"},
		{"wrong secret", []string{"--target", h.BaseURL, "--scenario", "crud", "--cacert", cert, "--client-id", h.ClientID, "--client-secret", "wrong"}, 1, "token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"bench", "run"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, c.code, c.want, stderr)
			}
		})
	}
}
