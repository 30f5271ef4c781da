package cli

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
)

// ledgerEvents returns every event in the data directory's ledger.
func ledgerEvents(t *testing.T, data string) []audit.Event {
	t.Helper()
	ctx := context.Background()
	db, err := app.OpenDB(ctx, devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var es []audit.Event
	err = db.ScanLeaves(ctx, 0, math.MaxUint64, func(_ uint64, b, _ []byte) error {
		_, e, err := ledger.DecodeLeaf(b)
		es = append(es, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAuditReport runs `ward audit report` on a ledger holding a client's
// accesses to two patients' records: the report holds exactly the events
// asked for, names the client, refuses bad flags without writing a file,
// and is itself recorded in the ledger.
func TestAuditReport(t *testing.T) {
	data, creds := initWithClient(t, "lab feed")
	at := time.Date(2025, 11, 23, 10, 2, 11, 0, time.UTC)
	ev := func(d time.Duration, tenant, patient string, outcome int) audit.Event {
		return audit.Event{Time: at.Add(d), Tenant: tenant, ActorID: creds.ClientID, ActorKind: "client", Role: "service",
			Action: audit.ActionRead, Subtype: "read", EntityType: "Observation", EntityID: "o-1", PatientID: patient,
			Outcome: outcome, SourceIP: "10.0.0.4", UserAgent: "=cmd|' /C calc'!A0", EntryPoint: "api", RequestID: "r-1"}
	}
	ctx := context.Background()
	db, err := app.OpenDB(ctx, devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	err = app.RecordOperator(ctx, db, []audit.Event{
		ev(-48*time.Hour, "default", "P-1", 200), // before --from
		ev(0, "default", "P-1", 200),
		ev(time.Minute, "default", "P-1", 403),
		ev(2*time.Minute, "default", "P-2", 200),
		ev(3*time.Minute, "other", "P-1", 200),
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"audit", "report", "--dev", "--data-dir", data}
	report := func(args ...string) (int, string, string) {
		t.Helper()
		return run(t, append(append([]string{}, base...), args...)...)
	}

	code, out, errOut := report("--patient", "P-1", "--from", "2025-11-23T00:00:00Z", "--to", "2025-11-24T00:00:00Z")
	if code != 0 {
		t.Fatalf("report --patient: %d %s", code, errOut)
	}
	t.Logf("text report:\n%s", out)
	for _, want := range []string{
		"Audit report: patient P-1\n",
		"Events:     2\n",
		"\n2025-11-23 10:02:11Z  lab feed (service)  read  Observation/o-1  patient P-1  from 10.0.0.4 via api\n",
		"\n2025-11-23 10:03:11Z  lab feed (service)  DENIED read  Observation/o-1  patient P-1  from 10.0.0.4 via api\n",
		"By outcome: 200 1, 403 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "P-2") || strings.Contains(out, "2025-11-21") || strings.Contains(out, "10:05:11") {
		t.Error("report holds events outside its patient, period or tenant")
	}

	// By user, as CSV to a new 0600 file that is never overwritten.
	file := filepath.Join(t.TempDir(), "report.csv")
	if code, _, errOut := report("--user", creds.ClientID, "--format", "csv", "--out", file); code != 0 {
		t.Fatalf("report --user: %d %s", code, errOut)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("report file: %v %v", fi, err)
	}
	f, _ := os.Open(file)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 5 { // header, P-1 twice, P-2, then nothing else in tenant default
		t.Fatalf("CSV: %v, %d records: %q", err, len(recs), recs)
	}
	if recs[1][4] != "lab feed" || recs[1][16] != "'=cmd|' /C calc'!A0" {
		t.Errorf("CSV record %q", recs[1])
	}
	before, _ := os.ReadFile(file)
	if code, _, errOut := report("--user", creds.ClientID, "--out", file); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("report onto an existing file: %d %q", code, errOut)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("existing report file was changed")
	}

	code, out, _ = report("--patient", "P-1", "--format", "html", "--tenant", "other")
	if code != 0 || !strings.Contains(out, "<table>") || strings.Count(out, "lab feed") != 0 || !strings.Contains(out, "<td>P-1</td>") {
		t.Errorf("html report for tenant other: %d\n%s", code, out)
	}

	if code, _, _ := report("--help"); code != 0 {
		t.Errorf("report --help: exit %d", code)
	}
	// Bad flags: usage errors, and no file.
	bad := filepath.Join(t.TempDir(), "bad.txt")
	for _, args := range [][]string{
		{},
		{"--patient", "P-1", "--user", creds.ClientID},
		{"--patient", "P-1", "--from", "yesterday"},
		{"--patient", "P-1", "--to", "2025-11-24"},
		{"--patient", "P-1", "--from", "2025-11-24T00:00:00Z", "--to", "2025-11-23T00:00:00Z"},
		{"--patient", "P-1", "--format", "pdf"},
		{"--patient", "P-1", "--tz", "Mars/Olympus"},
		{"--patient", "P-1", "--tenant", ""},
		{"--patient", "P-1", "extra"},
	} {
		if code, _, _ := report(append(args, "--out", bad)...); code != 2 {
			t.Errorf("report %q: exit %d, want 2", args, code)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Fatalf("report %q created its file", args)
		}
	}

	// Each report produced is in the ledger, and the ledger verifies.
	var reports []audit.Event
	for _, e := range ledgerEvents(t, data) {
		if e.Subtype == "audit-report" {
			reports = append(reports, e)
		}
	}
	if len(reports) != 3 {
		t.Fatalf("%d audit-report events, want 3: %+v", len(reports), reports)
	}
	for _, e := range reports {
		if e.EntryPoint != "cli" || !strings.HasPrefix(e.ActorID, "os:") || e.ActorKind != "operator" || e.Action != audit.ActionRead || e.Outcome != 200 {
			t.Errorf("report event %+v", e)
		}
	}
	if r := reports[0]; r.PatientID != "P-1" || r.Tenant != "default" || r.Query != "data-dir&dev&from&patient&to" {
		t.Errorf("patient report event %+v", r)
	}
	if r := reports[1]; r.EntityType != "Client" || r.EntityID != creds.ClientID || r.PatientID != "" {
		t.Errorf("user report event %+v", r)
	}
	// The next report on the patient shows the earlier report of them.
	code, out, _ = report("--patient", "P-1")
	if code != 0 || !strings.Contains(out, "(operator)  audit report  patient P-1  via cli\n") {
		t.Errorf("patient report does not show the earlier report: %d\n%s", code, out)
	}
	// The operator's own activity, by user.
	code, out, _ = report("--user", reports[0].ActorID)
	if code != 0 || !strings.Contains(out, "client create  Client/"+creds.ClientID) || !strings.Contains(out, "audit report") {
		t.Errorf("operator report: %d\n%s", code, out)
	}
	if code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("audit verify: %d %q %q", code, vout, verr)
	}
}
