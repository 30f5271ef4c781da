package sqlite

import (
	"context"
	"strings"
	"testing"
)

// Prune storage: the floor, the relaxed delete trigger and the
// append-only prune records (migration 0005). The ledger package's tests
// cover archives, prune records and verification on top of these.

func TestLedgerPruneLeaves(t *testing.T) {
	db, path := openTemp(t, Options{})
	ctx := context.Background()
	if _, err := db.AppendLeaves(ctx, 10, leafBuild(10, "a", nil)); err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, path)

	// Before any prune, no leaf can be deleted.
	if _, err := raw.Exec(`DELETE FROM audit_leaves WHERE idx = 0`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("delete before any prune: %v", err)
	}
	if floor, rec, err := db.PruneBase(ctx); err != nil || floor != 0 || rec != nil {
		t.Fatalf("PruneBase before any prune = %d, %q, %v", floor, rec, err)
	}

	// A prune from the wrong floor, or over missing leaves, changes nothing.
	if err := db.PruneLeaves(ctx, 2, 4, []byte("r")); err == nil {
		t.Error("prune from floor 2 when the floor is 0 succeeded")
	}
	if err := db.PruneLeaves(ctx, 0, 11, []byte("r")); err == nil {
		t.Error("prune past the last leaf succeeded")
	}
	if got := allLeaves(t, db); len(got) != 10 {
		t.Fatalf("%d leaves after refused prunes, want 10", len(got))
	}

	if err := db.PruneLeaves(ctx, 0, 4, []byte("rec4")); err != nil {
		t.Fatal(err)
	}
	if floor, rec, err := db.PruneBase(ctx); err != nil || floor != 4 || string(rec) != "rec4" {
		t.Fatalf("PruneBase = %d, %q, %v", floor, rec, err)
	}
	var n, lowest int
	if err := raw.QueryRow(`SELECT count(*), min(idx) FROM audit_leaves`).Scan(&n, &lowest); err != nil || n != 6 || lowest != 4 {
		t.Fatalf("after prune: %d leaves from %d, %v; want 6 from 4", n, lowest, err)
	}

	// Leaves at or above the floor still cannot be deleted or changed.
	for _, q := range []string{`DELETE FROM audit_leaves WHERE idx = 4`, `DELETE FROM audit_leaves`, `UPDATE audit_leaves SET data = x'00' WHERE idx = 5`} {
		if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
	// Prune records are append-only, and floors only increase.
	for _, q := range []string{`DELETE FROM audit_prunes`, `UPDATE audit_prunes SET floor = 2`, `UPDATE audit_prunes SET record = x'00'`,
		`INSERT INTO audit_prunes (floor, record) VALUES (3, x'00')`, `INSERT INTO audit_prunes (floor, record) VALUES (4, x'00')`} {
		if _, err := raw.Exec(q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	if err := db.PruneLeaves(ctx, 0, 6, []byte("r")); err == nil {
		t.Error("a second prune from the old floor succeeded")
	}

	// Pruning every leaf: the next append continues at the floor.
	if err := db.PruneLeaves(ctx, 4, 10, []byte("rec10")); err != nil {
		t.Fatal(err)
	}
	var first uint64
	if _, err := db.AppendLeaves(ctx, 2, leafBuild(2, "b", &first)); err != nil {
		t.Fatal(err)
	}
	if first != 10 {
		t.Errorf("first index after pruning everything = %d, want 10", first)
	}
	if floor, rec, err := db.PruneBase(ctx); err != nil || floor != 10 || string(rec) != "rec10" {
		t.Errorf("PruneBase = %d, %q, %v", floor, rec, err)
	}
}
