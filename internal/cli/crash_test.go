package cli

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/fhir"
)

// crashHelperEnv makes the test binary act as `ward serve` on the data
// directory it names (see TestMain), so that TestCrashRecovery can
// SIGKILL a real server process.
const crashHelperEnv = "WARD_TEST_CRASH_SERVE"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashHelperEnv); dir != "" {
		os.Exit(Run([]string{"serve", "--dev", "--data-dir", dir, "--addr", "127.0.0.1:0"},
			Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: noEnv}))
	}
	os.Exit(m.Run())
}

// clientCreds is what `ward client create --json` prints.
type clientCreds struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// initWithClient prepares a development data directory and creates a
// service client in it with the CLI.
func initWithClient(t *testing.T, name string) (string, clientCreds) {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := run(t, "init", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	code, out, errOut := run(t, "client", "create", "--name", name, "--role", "service", "--json", "--data-dir", data)
	if code != 0 {
		t.Fatalf("client create: %s", errOut)
	}
	var creds clientCreds
	if err := json.Unmarshal([]byte(out), &creds); err != nil {
		t.Fatal(err)
	}
	return data, creds
}

// TestCrashRecovery kills the server with SIGKILL in the middle of a write
// load, then checks that the audit ledger verifies and that every write
// the server acknowledged is stored with its create event.
func TestCrashRecovery(t *testing.T) {
	needsServer(t)
	data, creds := initWithClient(t, "crash")

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+data)
	var stdout syncBuf
	cmd.Stdout, cmd.Stderr = &stdout, &syncBuf{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrRe := regexp.MustCompile(`listening on https://([0-9.:]+)/fhir/R4`)
	var addr string
	for i := 0; i < 400 && addr == ""; i++ {
		if m := addrRe.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(25 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("server did not start: %s", stdout.String())
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 16}}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", "https://"+addr+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	// 8 writers create Patients, and 8 readers read the acknowledged
	// ones, until the server dies under them. Reads change no data: their
	// events go to the audit journal, not to the database.
	var mu sync.Mutex
	var acked []string
	readAcked := map[string]int{} // acknowledged reads per Patient
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(context.Background())
	send := func(req *http.Request) (*http.Response, error) {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/fhir+json")
		return hc.Do(req)
	}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"resourceType":"Patient","gender":"other","identifier":[{"system":"urn:crash","value":"%d-%d"}]}`, w, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", "https://"+addr+"/fhir/R4/Patient", strings.NewReader(body))
				resp, err := send(req)
				if err != nil {
					return // the server is gone
				}
				var created struct{ ID string }
				json.NewDecoder(resp.Body).Decode(&created)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, created.ID)
					mu.Unlock()
				}
			}
		})
	}
	for r := range 8 {
		wg.Go(func() {
			for i := r; ctx.Err() == nil; i++ {
				mu.Lock()
				n := len(acked)
				id := ""
				if n > 0 {
					id = acked[i%n]
				}
				mu.Unlock()
				if id == "" {
					time.Sleep(time.Millisecond)
					continue
				}
				req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/fhir/R4/Patient/"+id, nil)
				resp, err := send(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					readAcked[id]++
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stop()
	wg.Wait()
	if len(acked) < 10 || len(readAcked) == 0 {
		t.Fatalf("only %d writes and reads of %d Patients acknowledged before the kill", len(acked), len(readAcked))
	}

	// After the crash the ledger verifies.
	code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data)
	if code != 0 || !strings.Contains(vout, "audit ledger intact") {
		t.Fatalf("audit verify after SIGKILL: %d %q %q", code, vout, verr)
	}

	// The server starts again on the crashed directory: it moves the
	// journaled read events into the ledger, stops cleanly, and the ledger
	// (now with the restart's checkpoint) still verifies.
	ctx2, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out2, err2 syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run([]string{"serve", "--dev", "--data-dir", data, "--addr", "127.0.0.1:0"}, Env{
			Stdout: &out2, Stderr: &err2, Getenv: noEnv,
			Signals: func(context.Context) (context.Context, context.CancelFunc) { return ctx2, cancel },
		})
	}()
	for i := 0; i < 400 && !strings.Contains(out2.String(), "listening on"); i++ {
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("restart after SIGKILL: exit %d: %s", code, err2.String())
	}
	if code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("audit verify after restart: %d %q %q", code, vout, verr)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "ward.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	created, reads, seen := map[string]bool{}, map[string]int{}, map[string]bool{}
	rows, err := db.Query(`SELECT data FROM audit_leaves ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		_, e, err := ledger.DecodeLeaf(b)
		if err != nil {
			t.Fatal(err)
		}
		if e.RequestID != "" {
			key := e.RequestID + " " + e.Action + " " + e.EntityType + "/" + e.EntityID
			if seen[key] {
				t.Errorf("event %q stored twice", key)
			}
			seen[key] = true
		}
		if e.EntityType == "Patient" && e.Action == "C" && e.Outcome == http.StatusCreated {
			created[e.EntityID] = true
		}
		if e.EntityType == "Patient" && e.Action == "R" && e.Outcome == http.StatusOK {
			reads[e.EntityID]++
		}
	}
	rows.Close()
	for _, id := range acked {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM resources WHERE type = 'Patient' AND id = ?`, id).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged Patient/%s is not stored (%d rows, %v)", id, n, err)
		}
		if !created[id] {
			t.Errorf("acknowledged Patient/%s has no create event", id)
		}
	}
	nReads := 0
	for id, n := range readAcked {
		nReads += n
		if reads[id] < n {
			t.Errorf("Patient/%s: %d reads acknowledged, %d read events", id, n, reads[id])
		}
	}
	t.Logf("%d writes and %d reads acknowledged before SIGKILL; all stored with their events, each once; ledger verifies", len(acked), nReads)
}

// TestClientCommandsAudited: creating and disabling a client from the
// CLI leaves events (entry point cli) in the ledger, which verifies.
func TestClientCommandsAudited(t *testing.T) {
	data, creds := initWithClient(t, "audited")
	if code, _, errOut := run(t, "client", "disable", "--data-dir", data, creds.ClientID); code != 0 {
		t.Fatalf("client disable: %s", errOut)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT data FROM audit_leaves ORDER BY idx`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var b []byte
		rows.Scan(&b)
		_, e, err := ledger.DecodeLeaf(b)
		if err != nil {
			t.Fatal(err)
		}
		if e.EntryPoint != "cli" || !strings.HasPrefix(e.ActorID, "os:") ||
			e.EntityType == "Client" && e.EntityID != creds.ClientID {
			t.Errorf("event %+v", e)
		}
		got = append(got, e.Subtype)
	}
	rows.Close()
	// ward init created the super-admin first.
	if strings.Join(got, ",") != "user-create,client-create,client-disable" {
		t.Fatalf("ledger holds %q, want user-create, client-create, client-disable", got)
	}
	if code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("audit verify: %d %q %q", code, vout, verr)
	}

	// ward audit proof: the inclusion proof of the first event in the
	// two-event tree verifies against the tree's root.
	code, out, errOut := run(t, "audit", "proof", "--dev", "--data-dir", data, "--index", "0", "--size", "2")
	if code != 0 {
		t.Fatalf("audit proof: %s", errOut)
	}
	var p struct {
		LeafHash []byte `json:"leaf_hash"`
		Proof    [][]byte
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	db2, err := app.OpenDB(context.Background(), devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	root, err := ledger.RootHash(context.Background(), db2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyInclusion(0, 2, p.LeafHash, p.Proof, root); err != nil {
		t.Fatalf("CLI inclusion proof does not verify: %v", err)
	}
	if code, _, _ := run(t, "audit", "proof", "--dev", "--data-dir", data); code != 2 {
		t.Errorf("audit proof without --index or --from: exit %d, want 2", code)
	}

	// ward audit export --fhir: one valid R4 AuditEvent per event.
	code, out, errOut = run(t, "audit", "export", "--fhir", "--dev", "--data-dir", data)
	if code != 0 {
		t.Fatalf("audit export: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("exported %d lines, want 3", len(lines))
	}
	for i, l := range lines {
		r, err := fhir.Parse([]byte(l))
		if err != nil || r.Type() != "AuditEvent" {
			t.Fatalf("not a valid AuditEvent (%v): %s", err, l)
		}
		if i > 0 && !strings.Contains(l, creds.ClientID) {
			t.Errorf("export lacks the client id: %s", l)
		}
	}
	code, out, _ = run(t, "audit", "export", "--fhir", "--dev", "--data-dir", data, "--from", time.Now().Add(time.Hour).Format(time.RFC3339))
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("export from the future: exit %d, %q", code, out)
	}
	if code, _, _ := run(t, "audit", "export", "--fhir", "--dev", "--data-dir", data, "--from", "yesterday"); code != 2 {
		t.Errorf("export --from yesterday: exit %d, want 2", code)
	}
}

func devConfig(t *testing.T, data string) config.Config {
	t.Helper()
	cfg := config.Config{Env: config.Development, DataDir: data}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	return cfg
}
