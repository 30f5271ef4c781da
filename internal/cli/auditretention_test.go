package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// recordAt records events with the given times in the data directory's
// ledger, signed with its development key, and closes it (which signs a
// checkpoint over them).
func recordAt(t *testing.T, data string, times ...time.Time) {
	t.Helper()
	ctx := context.Background()
	signer, verifier, err := ledger.LoadKeyFile(filepath.Join(data, "keys", "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	sink, err := ledger.OpenFileSink(filepath.Clean(data) + ".checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	db, err := sqlite.Open(ctx, filepath.Join(data, "ward.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := ledger.New(ctx, db, signer, verifier, ledger.Options{Sinks: []ledger.Sink{sink},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]audit.Event, len(times))
	for i, at := range times {
		evs[i] = audit.Event{Time: at, ActorID: "u1", ActorKind: "user", Action: audit.ActionRead, Subtype: "read",
			EntityType: "Observation", EntityID: fmt.Sprintf("o-%d", i), Outcome: 200, EntryPoint: "api"}
	}
	if err := l.Record(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAuditArchivePrune(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	// The development keys, without ward init, which would record the
	// super-admin's creation first.
	if _, err := app.PrepareDev(devConfig(t, data), time.Now()); err != nil {
		t.Fatal(err)
	}
	// 30 events from 2015, past the default six years, then 10 recent ones.
	var old, recent []time.Time
	for i := range 30 {
		old = append(old, time.Date(2015, 3, 1, 9, i, 0, 0, time.UTC))
	}
	for range 10 {
		recent = append(recent, time.Now().Add(-time.Hour))
	}
	recordAt(t, data, old...)
	recordAt(t, data, recent...)

	for _, args := range [][]string{
		{"audit", "archive", "--dev", "--data-dir", data},
		{"audit", "archive", "--dev", "--data-dir", data, "--out", "x", "--before", "yesterday"},
		{"audit", "verify-archive", "--dev", "--data-dir", data},
		{"audit", "prune", "--dev", "--data-dir", data},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("ward %v: exit %d, want 2", args, code)
		}
	}

	arch := filepath.Join(t.TempDir(), "audit-2015.archive")
	code, out, stderr := run(t, "audit", "archive", "--dev", "--data-dir", data, "--out", arch)
	if code != 0 || !strings.Contains(out, "archived events [0, 30)") {
		t.Fatalf("audit archive: %d %q %q", code, out, stderr)
	}
	if fi, err := os.Stat(arch); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archive file: %v, %v", fi, err)
	}
	if code, _, _ := run(t, "audit", "archive", "--dev", "--data-dir", data, "--out", arch); code != 1 {
		t.Error("audit archive overwrote an existing file")
	}
	code, out, stderr = run(t, "audit", "verify-archive", "--dev", "--data-dir", data, arch)
	if code != 0 || !strings.Contains(out, "intact: events [0, 30)") {
		t.Fatalf("verify-archive: %d %q %q", code, out, stderr)
	}

	// One byte changed: refused by verify-archive and by prune.
	b, err := os.ReadFile(arch)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	bad := filepath.Join(t.TempDir(), "altered.archive")
	os.WriteFile(bad, b, 0o600)
	if code, out, _ := run(t, "audit", "verify-archive", "--dev", "--data-dir", data, bad); code != 1 || !strings.Contains(out, "INVALID") {
		t.Errorf("verify-archive of an altered archive: %d %q", code, out)
	}
	if code, _, stderr := run(t, "audit", "prune", "--dev", "--data-dir", data, "--archive", bad); code != 1 || !strings.Contains(stderr, "nothing was deleted") {
		t.Errorf("prune with an altered archive: %d %q", code, stderr)
	}

	// A retention that now covers 2015 (a hundred years): refused.
	var o, e syncBuf
	code = Run([]string{"audit", "prune", "--dev", "--data-dir", data, "--archive", arch}, Env{Stdout: &o, Stderr: &e,
		Getenv: func(k string) string { return map[string]string{"WARD_AUDIT_RETENTION": "36500d"}[k] }})
	if code != 1 || !strings.Contains(e.String(), "retention period") || !strings.Contains(e.String(), "nothing was deleted") {
		t.Errorf("prune inside retention: %d %q", code, e.String())
	}
	t.Logf("prune inside retention: %s", strings.TrimSpace(e.String()))

	code, out, stderr = run(t, "audit", "prune", "--dev", "--data-dir", data, "--archive", arch)
	if code != 0 || !strings.Contains(out, "pruned events [0, 30)") {
		t.Fatalf("audit prune: %d %q %q", code, out, stderr)
	}
	code, out, stderr = run(t, "audit", "verify", "--dev", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "audit ledger intact") || !strings.Contains(out, "events below 30 were archived and pruned") {
		t.Fatalf("audit verify after prune: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := run(t, "audit", "prune", "--dev", "--data-dir", data, "--archive", arch); code != 1 || !strings.Contains(stderr, "already pruned") {
		t.Errorf("second prune: %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "audit", "proof", "--dev", "--data-dir", data, "--index", "5"); code != 1 || !strings.Contains(stderr, "pruned") {
		t.Errorf("proof of a pruned event: %d %q", code, stderr)
	}
	next := filepath.Join(t.TempDir(), "next.archive")
	code, out, _ = run(t, "audit", "archive", "--dev", "--data-dir", data, "--out", next)
	if _, err := os.Stat(next); code != 0 || !strings.Contains(out, "nothing to archive") || err == nil {
		t.Errorf("archive with nothing old enough: %d %q (file: %v)", code, out, err)
	}
}
