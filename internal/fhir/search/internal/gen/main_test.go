package main

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dataDir = "../../../../../../shared/data/fhir-r4-core"

// TestGeneratedUpToDate regenerates the registry from the shared data and
// compares it with the committed files, so they cannot drift from the
// generator. Skipped when the data folder is absent.
func TestGeneratedUpToDate(t *testing.T) {
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("definitions absent: %v", err)
	}
	r, err := build(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for file, src := range map[string][]byte{"registry_gen.go": r.emit(), "registry_types_gen_test.go": r.emitTypes()} {
		want, err := format.Source(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("../..", file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./internal/fhir/search", file)
		}
	}
}

// TestCounts pins what the R4 definitions give, so a change in the
// generator or the compiler that drops parameters shows.
func TestCounts(t *testing.T) {
	if _, err := os.Stat(dataDir); err != nil {
		t.Skipf("definitions absent: %v", err)
	}
	r, err := build(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ps := range r.byType {
		n += len(ps)
	}
	kinds := map[string]int{}
	for _, u := range r.unsupported {
		kinds[u.kind]++
		if u.kind != "composite" && u.kind != "special" && !strings.Contains(u.reason, "no FHIRPath expression") {
			t.Errorf("%s (%s) does not compile: %s", u.code, u.kind, u.reason)
		}
	}
	t.Logf("%d common + %d per-type parameters, %d programs, %d multi-type definitions split, unsupported %v",
		len(r.common), n, len(r.progs), r.branches, kinds)
	if len(r.common) != 6 || n != 1624 {
		t.Errorf("got %d common and %d per-type parameters, want 6 and 1624", len(r.common), n)
	}
	if kinds["composite"] != 46 || kinds["special"] != 1 || len(r.unsupported) != 50 {
		t.Errorf("unsupported: %v (%d), want 46 composite, 1 special, 3 without expression", kinds, len(r.unsupported))
	}
}
