package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	_ "modernc.org/sqlite"
)

// syncBuf is a concurrency-safe buffer for a command's output.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuf
	code := Run(args, Env{Stdout: &out, Stderr: &errb, Getenv: noEnv})
	return code, out.String(), errb.String()
}

// needsServer skips a test that runs a server in a build with the
// auditdiscard tag, whose serve refuses (TestServeRefusesAuditDiscard).
func needsServer(t *testing.T) {
	t.Helper()
	if app.AuditDiscarded {
		t.Skip("built with the auditdiscard tag: ward serve refuses")
	}
}

func TestUsageAndHelp(t *testing.T) {
	cases := []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"bogus"}, 2},
		{[]string{"help"}, 0},
		{[]string{"version"}, 0},
		{[]string{"serve", "--help"}, 0},
		{[]string{"serve", "--nope"}, 2},
		{[]string{"client"}, 2},
		{[]string{"client", "create", "--help"}, 0},
		{[]string{"client", "create"}, 2},
		{[]string{"key"}, 2},
		{[]string{"key", "init"}, 2},
		{[]string{"init", "extra-arg"}, 2},
	}
	for _, c := range cases {
		if code, _, _ := run(t, c.args...); code != c.code {
			t.Errorf("ward %v: exit %d, want %d", c.args, code, c.code)
		}
	}
}

func TestProductionRefusals(t *testing.T) {
	needsServer(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// No certificate configured.
	code, _, stderr := run(t, "serve", "--data-dir", data)
	if code != 1 || !strings.Contains(stderr, "kms is required") {
		t.Errorf("production without kms: exit %d, %q", code, stderr)
	}
	// A development key file is refused in production.
	if code, _, _ := run(t, "init", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("init --dev: exit %d", code)
	}
	cert, key := filepath.Join(data, "tls", "cert.pem"), filepath.Join(data, "tls", "key.pem")
	env := map[string]string{"WARD_KMS": "local:" + filepath.Join(data, "keys", "kek"), "WARD_TLS_CERT": cert, "WARD_TLS_KEY": key, "WARD_DATA_DIR": data,
		"WARD_AUDIT_KEY": filepath.Join(data, "keys", "audit.key")}
	var out, errb syncBuf
	code = Run([]string{"serve"}, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 1 || !strings.Contains(errb.String(), "refuses a development key file") {
		t.Errorf("production with dev key: exit %d, %q", code, errb.String())
	}
	// A group-readable key file is refused.
	prodKey := filepath.Join(dir, "prod.kek")
	if code, _, stderr := run(t, "key", "init", "--out", prodKey); code != 0 {
		t.Fatalf("key init: %d %s", code, stderr)
	}
	if code, _, _ := run(t, "key", "init", "--out", prodKey); code != 1 {
		t.Error("key init overwrote an existing key file")
	}
	os.Chmod(prodKey, 0o640)
	env["WARD_KMS"] = "local:" + prodKey
	errb = syncBuf{}
	code = Run([]string{"serve"}, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 1 || !strings.Contains(errb.String(), "kek") {
		t.Errorf("group-readable key file: exit %d, %q", code, errb.String())
	}
}

// TestServe runs `ward serve --dev` for real: TLS 1.1 is refused, a client
// made with `ward client create` gets a token, a Patient is created, and
// SIGTERM lets an in-flight request finish before a clean stop.
func TestServe(t *testing.T) {
	needsServer(t)
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run([]string{"serve", "--dev", "--data-dir", data, "--addr", "127.0.0.1:0"}, Env{
			Stdout: &out, Stderr: &errb, Getenv: noEnv,
			Signals: func(context.Context) (context.Context, context.CancelFunc) { return ctx, cancel },
		})
	}()
	addrRe := regexp.MustCompile(`listening on https://([0-9.:]+)/fhir/R4`)
	var addr string
	for i := 0; i < 200 && addr == ""; i++ {
		if m := addrRe.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errb.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if addr == "" {
		t.Fatalf("serve did not start: %s %s", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "fingerprint: ") {
		t.Error("no certificate fingerprint printed")
	}

	// TLS 1.0 and 1.1 are refused; 1.2 and 1.3 work.
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err == nil {
			c.Close()
			t.Errorf("TLS version %x accepted", v)
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Errorf("TLS version %x refused: %v", v, err)
			continue
		}
		c.Close()
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		cmd := exec.Command("openssl", "s_client", "-connect", addr, "-tls1_1")
		cmd.Stdin = strings.NewReader("")
		if err := cmd.Run(); err == nil {
			t.Error("openssl s_client -tls1_1 connected")
		}
	}

	// A client created with the CLI while the server runs.
	code, cout, cerr := run(t, "client", "create", "--data-dir", data, "--name", "itest", "--role", "service", "--json")
	if code != 0 {
		t.Fatalf("client create: %d %s", code, cerr)
	}
	var creds struct{ ClientID, ClientSecret string }
	var raw map[string]string
	if err := json.Unmarshal([]byte(cout), &raw); err != nil {
		t.Fatalf("client create --json: %v: %q", err, cout)
	}
	creds.ClientID, creds.ClientSecret = raw["client_id"], raw["client_secret"]
	if code, list, _ := run(t, "client", "list", "--data-dir", data); code != 0 || !strings.Contains(list, creds.ClientID) || strings.Contains(list, creds.ClientSecret) {
		t.Errorf("client list: %d %q", code, list)
	}

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("POST", "https://"+addr+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" || tok.ExpiresIn != 900 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %+v", resp.StatusCode, tok)
	}

	// The running server's alert watcher notices five refused requests.
	for range 5 {
		resp, err := hc.Get("https://" + addr + "/fhir/R4/Patient")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	adb, err := sql.Open("sqlite", filepath.Join(data, "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	var alerts int
	for deadline := time.Now().Add(20 * time.Second); alerts == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		adb.QueryRow(`SELECT count(*) FROM audit_alerts WHERE rule = 'repeated-denials'`).Scan(&alerts)
	}
	adb.Close()
	if alerts != 1 {
		t.Errorf("%d repeated-denials alerts from the running server, want 1", alerts)
	}

	// Start a create whose body arrives slowly, then ask the server to stop.
	pr, pw := io.Pipe()
	req, _ = http.NewRequest("POST", "https://"+addr+"/fhir/R4/Patient", pr)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/fhir+json")
	result := make(chan *http.Response, 1)
	go func() {
		resp, err := hc.Do(req)
		if err != nil {
			t.Error(err)
		}
		result <- resp
	}()
	pw.Write([]byte(`{"resourceType":"Patient",`))
	time.Sleep(200 * time.Millisecond) // the request is in flight
	cancel()                           // SIGTERM
	time.Sleep(200 * time.Millisecond)
	pw.Write([]byte(`"gender":"other"}`))
	pw.Close()
	if resp := <-result; resp == nil || resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request was not drained: %+v", resp)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(errb.String(), "stopped cleanly") {
		t.Error("no clean stop logged")
	}
	// The access log names routes, never raw paths or queries.
	sc := bufio.NewScanner(strings.NewReader(errb.String()))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
			continue
		}
		if rec["msg"] == "request" && strings.Contains(sc.Text(), tok.AccessToken) {
			t.Error("token in log")
		}
	}
	// A second start reuses the certificate and key file.
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still listening after stop")
	}
	code, out2, _ := run(t, "init", "--dev", "--data-dir", data)
	if code != 0 || strings.Contains(out2, "created") {
		t.Errorf("second start recreated files: %d %q", code, out2)
	}

	// The audit ledger verifies, then a direct edit of one event is caught.
	code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data)
	if code != 0 || !strings.Contains(vout, "audit ledger intact") {
		t.Fatalf("audit verify: %d %q %q", code, vout, verr)
	}
	// The start and the stop are in the trail, with the configuration's digest.
	if code, xout, _ := run(t, "audit", "export", "--fhir", "--dev", "--data-dir", data); code != 0 ||
		!strings.Contains(xout, `"code":"server-start"`) || !strings.Contains(xout, `"code":"server-stop"`) {
		t.Errorf("start and stop events: exit %d", code)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The first event of tenant "default" becomes one of tenant "dEfault".
	var idx int
	if err := db.QueryRow(`SELECT min(idx) FROM audit_leaves WHERE instr(data, CAST('default' AS BLOB)) > 0`).Scan(&idx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TRIGGER audit_leaves_no_update; UPDATE audit_leaves SET data = CAST(replace(CAST(data AS TEXT), 'default', 'dEfault') AS BLOB) WHERE idx = ?`, idx); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("modified at index %d", idx)
	code, vout, _ = run(t, "audit", "verify", "--dev", "--data-dir", data)
	t.Logf("audit verify after tampering: %s", strings.TrimSpace(vout))
	if code != 1 || !strings.Contains(vout, want) {
		t.Errorf("tampered ledger: exit %d, %q, want %q", code, vout, want)
	}
	// The failure is raised as a deployment-wide alert.
	var rule, summary string
	if err := db.QueryRow(`SELECT rule, summary FROM audit_alerts WHERE rule = 'verification-failed' AND tenant = ''`).Scan(&rule, &summary); err != nil || rule != "verification-failed" || !strings.Contains(summary, want) {
		t.Errorf("verification alert: %q %q %v", rule, summary, err)
	}
}

func TestBenchGen(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.ndjson"), filepath.Join(dir, "b.ndjson")
	for _, out := range []string{a, b} {
		if code, _, stderr := run(t, "bench", "gen", "--patients", "5", "--seed", "7", "--out", out); code != 0 {
			t.Fatalf("bench gen: %d %s", code, stderr)
		}
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if len(x) == 0 || !bytes.Equal(x, y) {
		t.Fatal("same seed gave different output")
	}
	if n := bytes.Count(x, []byte("\n")); n != 5 {
		t.Errorf("%d bundles, want 5", n)
	}
	nd := filepath.Join(dir, "nd")
	if code, _, stderr := run(t, "bench", "gen", "--patients", "3", "--format", "ndjson", "--out", nd); code != 0 {
		t.Fatalf("ndjson: %d %s", code, stderr)
	}
	if p, _ := os.ReadFile(filepath.Join(nd, "Patient.ndjson")); bytes.Count(p, []byte("\n")) != 3 {
		t.Errorf("Patient.ndjson has %d lines", bytes.Count(p, []byte("\n")))
	}
	for _, bad := range [][]string{{"bench", "gen"}, {"bench", "gen", "--patients", "1", "--format", "xml"}, {"bench", "gen", "--patients", "1", "--format", "ndjson"}, {"bench", "gen", "--patients", "1", "--observations", "-1"}} {
		if code, _, _ := run(t, bad...); code == 0 {
			t.Errorf("ward %v succeeded", bad)
		}
	}
}
