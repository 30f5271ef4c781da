package ledger_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit/ledger"
)

// Retention: archive the oldest events to a signed file, prune them, and
// keep the rest verifiable. The clock is injected: nowFor(i) is the time
// at which events [0, i) of the fixture are past the retention period and
// event i is not.

const retention = 2192 * 24 * time.Hour

func nowFor(i int) time.Time { return event(i).Time.Add(retention) }

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// archive writes an archive of the fixture's database at the given time.
func archive(t testing.TB, f *fixture, db ledger.Reader, now time.Time, before time.Time) ([]byte, ledger.ArchiveInfo) {
	t.Helper()
	var buf bytes.Buffer
	info, err := ledger.WriteArchive(context.Background(), db, f.signer, f.verifier, &buf,
		ledger.ArchiveOptions{Retention: retention, Before: before, Now: clock(now)})
	if err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	return buf.Bytes(), info
}

func prune(db ledger.Pruner, f *fixture, arch []byte, now time.Time) (ledger.ArchiveInfo, error) {
	return ledger.Prune(context.Background(), db, f.verifier, bytes.NewReader(arch), ledger.PruneOptions{Retention: retention, Now: clock(now)})
}

// prunedFixture is a fixture of 100 events (a checkpoint every 10) whose
// events [0, 40) were archived and pruned.
func prunedFixture(t testing.TB) (*fixture, []byte) {
	t.Helper()
	f := buildFixture(t, tamperEvents, tamperEvery)
	db := openDB(t, f.path)
	arch, _ := archive(t, f, db, nowFor(46), time.Time{})
	if _, err := prune(db, f, arch, nowFor(46)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return f, arch
}

func leafCount(t testing.TB, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_leaves`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestArchivePruneVerify(t *testing.T) {
	ctx := context.Background()
	f := buildFixture(t, tamperEvents, tamperEvery)
	db := openDB(t, f.path)

	// Events [0, 46) are past retention; the last checkpoint before 46 is 40.
	arch1, info1 := archive(t, f, db, nowFor(46), time.Time{})
	if info1.From != 0 || info1.To != 40 || !info1.Oldest.Equal(event(0).Time) || !info1.Newest.Equal(event(39).Time) {
		t.Fatalf("first archive: %+v", info1)
	}
	if got, err := ledger.VerifyArchive(bytes.NewReader(arch1), f.verifier); err != nil || got.To != 40 || !bytes.Equal(got.Note, info1.Note) {
		t.Fatalf("VerifyArchive: %+v, %v", got, err)
	}
	if _, err := prune(db, f, arch1, nowFor(46)); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	rep, err := ledger.Verify(ctx, db, f.verifier, f.external)
	if err != nil || !rep.OK() || rep.Floor != 40 || rep.Leaves != 100 || rep.Verified != 100 || rep.Older != 3 {
		t.Fatalf("Verify after the first prune: %+v, %v", rep, err)
	}
	t.Logf("older checkpoints: %d, of which %d not checkable", rep.Older, rep.OlderUnchecked)

	// The next archive starts at the floor, from its compact range; Before
	// limits it further than retention would.
	arch2, info2 := archive(t, f, db, nowFor(95), event(75).Time)
	if info2.From != 40 || info2.To != 70 || info2.Base.Size != 40 || !bytes.Equal(info2.Base.Hash, info1.Checkpoint.Hash) {
		t.Fatalf("second archive: %+v", info2)
	}
	if _, err := ledger.VerifyArchive(bytes.NewReader(arch2), f.verifier); err != nil {
		t.Fatal(err)
	}
	if _, err := prune(db, f, arch2, nowFor(95)); err != nil {
		t.Fatal(err)
	}
	rep, err = ledger.Verify(ctx, db, f.verifier, f.external)
	if err != nil || !rep.OK() || rep.Floor != 70 || rep.Leaves != 100 || rep.Verified != 100 {
		t.Fatalf("Verify after the second prune: %+v, %v", rep, err)
	}

	// Proofs: pruned leaves say so; the rest still prove against the
	// signed checkpoints.
	notes := ledger.SplitNotes(f.external)
	last, err := ledger.OpenCheckpoint(notes[len(notes)-1], f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.InclusionProof(ctx, db, 5, 100); !errors.Is(err, ledger.ErrPruned) {
		t.Errorf("inclusion proof of a pruned leaf: %v", err)
	}
	if _, err := ledger.LeafHashAt(ctx, db, 69); !errors.Is(err, ledger.ErrPruned) {
		t.Errorf("hash of a pruned leaf: %v", err)
	}
	for _, i := range []uint64{70, 71, 85, 99} {
		p, err := ledger.InclusionProof(ctx, db, i, 100)
		if err != nil {
			t.Fatalf("inclusion proof of %d: %v", i, err)
		}
		lh, err := ledger.LeafHashAt(ctx, db, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.VerifyInclusion(i, 100, lh, p, last.Hash); err != nil {
			t.Errorf("inclusion proof of %d: %v", i, err)
		}
	}
	roots := map[uint64][]byte{}
	for _, n := range notes {
		c, _ := ledger.OpenCheckpoint(n, f.verifier)
		roots[c.Size] = c.Hash
	}
	for _, from := range []uint64{70, 80, 90} {
		p, err := ledger.ConsistencyProof(ctx, db, from, 100)
		if err != nil {
			t.Fatalf("consistency proof %d → 100: %v", from, err)
		}
		if err := ledger.VerifyConsistency(from, 100, p, roots[from], last.Hash); err != nil {
			t.Errorf("consistency proof %d → 100: %v", from, err)
		}
	}
	if p, err := ledger.ConsistencyProof(ctx, db, 10, 100); err == nil {
		if err := ledger.VerifyConsistency(10, 100, p, roots[10], last.Hash); err != nil {
			t.Errorf("consistency proof 10 → 100: %v", err)
		}
	} else if !errors.Is(err, ledger.ErrPruned) {
		t.Errorf("consistency proof 10 → 100: %v", err)
	}

	// The ledger resumes after a prune, with its state or without (the
	// tree is then rebuilt from the prune record), and keeps signing.
	for _, lose := range []bool{false, true} {
		if lose {
			mustExec(t, openRaw(t, f.path), `DELETE FROM audit_state`)
		}
		l := newLedger(t, db, f.signer, f.verifier, ledger.Options{})
		if err := l.Record(ctx, events(200, 3)); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Flush(ctx); err != nil {
			t.Fatalf("state lost %v: %v", lose, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if rep := mustVerify(t, db, f.verifier, f.external); rep.Leaves != 106 || rep.Verified != 106 || rep.Floor != 70 {
		t.Errorf("after more events: %+v", rep)
	}
}

func TestPruneOlderCheckpoints(t *testing.T) {
	// Checkpoints below the floor are checked by consistency proofs where
	// the remaining hashes (the prune record's nodes, and the cached nodes
	// at levels 8, 16, ...) allow.
	tests := []struct {
		name                  string
		events, every, at     int
		floor                 uint64
		older, olderUnchecked int
	}{
		// Floor 40: the checkpoint at 32 is proved by the record's node
		// [32, 40); those at 8, 16 and 24 would need pruned leaves.
		{"every 8", 64, 8, 41, 40, 4, 3},
		// Checkpoints at multiples of 256 are proved by cached nodes.
		{"every 256", 1300, 256, 1100, 1024, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := buildFixture(t, tt.events, tt.every)
			db := openDB(t, f.path)
			arch, info := archive(t, f, db, nowFor(tt.at), time.Time{})
			if info.To != tt.floor {
				t.Fatalf("archive: %+v", info)
			}
			if _, err := prune(db, f, arch, nowFor(tt.at)); err != nil {
				t.Fatal(err)
			}
			if rep := mustVerify(t, db, f.verifier, f.external); rep.Older != tt.older || rep.OlderUnchecked != tt.olderUnchecked {
				t.Errorf("older checkpoints: %d, unchecked %d; want %d and %d", rep.Older, rep.OlderUnchecked, tt.older, tt.olderUnchecked)
			}
			if tt.olderUnchecked == 0 {
				// An altered cached node makes the proof fail: reported.
				mustExec(t, openRaw(t, f.path), `UPDATE audit_nodes SET hash = zeroblob(32) WHERE node = ?`, uint64(8)<<56)
				rep := f.verify(t, f.external)
				if rep.Divergence != nil || len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], "not consistent with the prune record") {
					t.Errorf("altered cached node: %+v", rep)
				}
			}
		})
	}
}

func TestPruneEverything(t *testing.T) {
	// When every event is past retention and checkpointed, the whole
	// ledger can go; the next event still gets the next index.
	ctx := context.Background()
	f := buildFixture(t, 30, 10)
	db := openDB(t, f.path)
	now := event(29).Time.Add(time.Millisecond + retention)
	arch, info := archive(t, f, db, now, time.Time{})
	if info.From != 0 || info.To != 30 {
		t.Fatalf("archive: %+v", info)
	}
	if _, err := prune(db, f, arch, now); err != nil {
		t.Fatal(err)
	}
	if n := leafCount(t, openRaw(t, f.path)); n != 0 {
		t.Fatalf("%d leaves left", n)
	}
	if rep := mustVerify(t, db, f.verifier, f.external); rep.Leaves != 30 || rep.Floor != 30 {
		t.Errorf("after pruning everything: %+v", rep)
	}
	mustExec(t, openRaw(t, f.path), `DELETE FROM audit_state`)
	l := newLedger(t, db, f.signer, f.verifier, ledger.Options{})
	if err := l.Record(ctx, events(100, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, db, f.verifier, f.external); rep.Leaves != 32 || rep.Verified != 32 {
		t.Errorf("after new events: %+v", rep)
	}
	if _, err := ledger.WriteArchive(ctx, db, f.signer, f.verifier, &bytes.Buffer{}, ledger.ArchiveOptions{Retention: retention, Now: clock(now)}); !errors.Is(err, ledger.ErrNothingToArchive) {
		t.Errorf("archive with nothing old enough: %v", err)
	}
}

func TestPruneRefused(t *testing.T) {
	ctx := context.Background()
	f := buildFixture(t, tamperEvents, tamperEvery)
	db := openDB(t, f.path)
	raw := openRaw(t, f.path)
	arch, _ := archive(t, f, db, nowFor(46), time.Time{})

	unchanged := func(t *testing.T) {
		t.Helper()
		if n := leafCount(t, raw); n != tamperEvents {
			t.Errorf("%d leaves after a refused prune, want %d", n, tamperEvents)
		}
		if floor, _, err := db.PruneBase(ctx); err != nil || floor != 0 {
			t.Errorf("floor %d after a refused prune, %v", floor, err)
		}
	}
	t.Run("inside retention", func(t *testing.T) {
		// Retention is rechecked at prune time: with the clock earlier (or
		// the retention longer) than when the archive was made, events
		// [30, 40) are inside it.
		_, err := prune(db, f, arch, nowFor(30))
		if !errors.Is(err, ledger.ErrRetention) {
			t.Fatalf("prune inside retention: %v", err)
		}
		t.Log(err)
		unchanged(t)
		_, err = ledger.Prune(ctx, db, f.verifier, bytes.NewReader(arch), ledger.PruneOptions{Retention: 10 * retention, Now: clock(nowFor(46))})
		if !errors.Is(err, ledger.ErrRetention) {
			t.Fatalf("prune with a longer retention: %v", err)
		}
		unchanged(t)
		if _, err := ledger.Prune(ctx, db, f.verifier, bytes.NewReader(arch), ledger.PruneOptions{}); err == nil {
			t.Error("prune without a retention period succeeded")
		}
		unchanged(t)
	})
	t.Run("nothing to archive", func(t *testing.T) {
		// Events [0, 5) are past retention, but no checkpoint ends there.
		_, err := ledger.WriteArchive(ctx, db, f.signer, f.verifier, &bytes.Buffer{}, ledger.ArchiveOptions{Retention: retention, Now: clock(nowFor(5))})
		if !errors.Is(err, ledger.ErrNothingToArchive) {
			t.Errorf("archive: %v", err)
		}
	})
	t.Run("another key", func(t *testing.T) {
		_, err := ledger.Prune(ctx, db, strangerVerifier(t), bytes.NewReader(arch), ledger.PruneOptions{Retention: retention, Now: clock(nowFor(46))})
		if err == nil {
			t.Error("prune with another ledger's key succeeded")
		}
		unchanged(t)
	})
	t.Run("different events", func(t *testing.T) {
		// A validly signed archive of another ledger with the same key.
		other := filepath.Join(t.TempDir(), "other.db")
		odb := openDB(t, other)
		l := newLedger(t, odb, f.signer, f.verifier, ledger.Options{})
		if err := l.Record(ctx, events(1, 40)); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		oarch, info := archive(t, f, odb, nowFor(60), time.Time{})
		if info.To != 40 {
			t.Fatalf("other archive: %+v", info)
		}
		_, err := prune(db, f, oarch, nowFor(60))
		if err == nil || !strings.Contains(err.Error(), "differs from the stored one") {
			t.Errorf("prune with another ledger's archive: %v", err)
		}
		unchanged(t)
	})
	t.Run("already pruned", func(t *testing.T) {
		if _, err := prune(db, f, arch, nowFor(46)); err != nil {
			t.Fatal(err)
		}
		_, err := prune(db, f, arch, nowFor(46))
		if err == nil || !strings.Contains(err.Error(), "already pruned") {
			t.Errorf("second prune of one archive: %v", err)
		}
	})
}

// strangerVerifier is the verifier of a fresh key with the ledger's name.
func strangerVerifier(t testing.TB) note.Verifier {
	t.Helper()
	_, vkey, err := note.GenerateKey(crand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestArchiveTamper(t *testing.T) {
	// Every single-byte change to an archive is refused, in every part:
	// header, starting state, checkpoints, leaves and the signed note.
	f := buildFixture(t, 20, 5)
	db := openDB(t, f.path)
	arch1, _ := archive(t, f, db, nowFor(12), time.Time{}) // [0, 10)
	if _, err := prune(db, f, arch1, nowFor(12)); err != nil {
		t.Fatal(err)
	}
	arch, info := archive(t, f, db, nowFor(19), time.Time{}) // [10, 15): has a starting state
	if info.From != 10 || info.To != 15 {
		t.Fatalf("archive: %+v", info)
	}
	for i := range arch {
		bad := bytes.Clone(arch)
		bad[i] ^= 0x01
		if _, err := ledger.VerifyArchive(bytes.NewReader(bad), f.verifier); err == nil {
			t.Fatalf("byte %d of %d changed: archive accepted", i, len(arch))
		}
	}
	for _, n := range []int{0, 10, len(arch) / 2, len(arch) - 1} {
		if _, err := ledger.VerifyArchive(bytes.NewReader(arch[:n]), f.verifier); err == nil {
			t.Errorf("archive truncated to %d bytes accepted", n)
		}
	}
	if _, err := ledger.VerifyArchive(bytes.NewReader(append(bytes.Clone(arch), '\n')), f.verifier); err == nil {
		t.Error("archive with a trailing byte accepted")
	}

	// Prune refuses an altered archive and changes nothing.
	bad := bytes.Clone(arch)
	bad[len(arch)/2] ^= 0x01
	_, err := prune(db, f, bad, nowFor(19))
	if !errors.Is(err, ledger.ErrArchive) {
		t.Errorf("prune with an altered archive: %v", err)
	}
	if floor, _, _ := db.PruneBase(context.Background()); floor != 10 {
		t.Errorf("floor %d after a refused prune, want 10", floor)
	}
	if _, err := prune(db, f, arch, nowFor(19)); err != nil {
		t.Errorf("prune with the intact archive: %v", err)
	}
}

// rawPruned is f.raw with the prune records' triggers dropped too.
func rawPruned(t testing.TB, f *fixture) *sql.DB {
	t.Helper()
	raw := f.raw(t)
	for _, tr := range []string{"audit_prunes_increasing", "audit_prunes_no_update", "audit_prunes_no_delete"} {
		mustExec(t, raw, `DROP TRIGGER `+tr)
	}
	return raw
}

// pruneRecord returns the stored prune record at floor.
func pruneRecord(t testing.TB, raw *sql.DB, floor int) []byte {
	t.Helper()
	var rec []byte
	if err := raw.QueryRow(`SELECT record FROM audit_prunes WHERE floor = ?`, floor).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestVerifyTamperAfterPrune(t *testing.T) {
	// The tamper tests again, on a ledger pruned to 40, and tampering with
	// the prune record itself.
	type want struct {
		kind    ledger.Kind
		index   uint64
		exact   bool
		count   uint64 // checked when non-zero
		problem string // instead of a divergence
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, raw *sql.DB, f *fixture)
		want   want
	}{
		{"modify an event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			_, hash := leafRow(t, raw, 57)
			setLeaf(t, raw, 57, forgedLeaf(t, raw, 57), hash)
		}, want{kind: ledger.Modified, index: 57, exact: true}},
		{"delete the event just above the floor", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx = 40`)
		}, want{kind: ledger.Deleted, index: 40, exact: true, count: 1}},
		{"delete a range", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx BETWEEN 45 AND 49`)
		}, want{kind: ledger.Deleted, index: 45, exact: true, count: 5}},
		{"insert a forged event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			forged := forgedLeaf(t, raw, 50)
			shift(t, raw, 50)
			mustExec(t, raw, `INSERT INTO audit_leaves (idx, hash, data) VALUES (50, ?, ?)`, ledger.HashLeaf(forged), forged)
		}, want{kind: ledger.Inserted, index: 50, exact: true, count: 1}},
		{"swap two events", func(t *testing.T, raw *sql.DB, _ *fixture) {
			d1, h1 := leafRow(t, raw, 45)
			d2, h2 := leafRow(t, raw, 52)
			setLeaf(t, raw, 45, d2, h2)
			setLeaf(t, raw, 52, d1, h1)
		}, want{kind: ledger.Reordered, index: 45, exact: true}},
		{"truncate", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx >= 63`)
		}, want{kind: ledger.Truncated, index: 63, exact: true, count: 37}},
		{"rewrite an event and its hash", func(t *testing.T, raw *sql.DB, _ *fixture) {
			forged := forgedLeaf(t, raw, 57)
			setLeaf(t, raw, 57, forged, ledger.HashLeaf(forged))
		}, want{kind: ledger.Modified, index: 50}},
		{"change a hash of the prune record", func(t *testing.T, raw *sql.DB, _ *fixture) {
			rec := pruneRecord(t, raw, 40)
			rec[len(rec)-1] ^= 0x01
			mustExec(t, raw, `UPDATE audit_prunes SET record = ? WHERE floor = 40`, rec)
		}, want{kind: ledger.BaseAltered, index: 40, exact: true}},
		{"lower the floor", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `UPDATE audit_prunes SET floor = 30 WHERE floor = 40`)
		}, want{kind: ledger.BaseAltered, index: 30, exact: true}},
		{"raise the floor with a recomputed record", func(t *testing.T, raw *sql.DB, f *fixture) {
			// Everything but a signed archive ending at 60: the attacker
			// has the checkpoint at 60 and recomputes the tree state there.
			rec := pruneRecord(t, raw, 40)
			rng, err := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewRange(0, 40, recordHashes(rec, 40))
			if err != nil {
				t.Fatal(err)
			}
			for i := 40; i < 60; i++ {
				data, _ := leafRow(t, raw, i)
				if err := rng.Append(ledger.HashLeaf(data), nil); err != nil {
					t.Fatal(err)
				}
			}
			var cp60 []byte
			if err := raw.QueryRow(`SELECT note FROM audit_checkpoints WHERE size = 60`).Scan(&cp60); err != nil {
				t.Fatal(err)
			}
			_, archiveNote := recordNotes(rec)
			forged := binary.BigEndian.AppendUint64([]byte{1}, 60)
			forged = binary.AppendUvarint(forged, uint64(len(cp60)))
			forged = append(forged, cp60...)
			forged = binary.AppendUvarint(forged, uint64(len(archiveNote)))
			forged = append(forged, archiveNote...)
			for _, h := range rng.Hashes() {
				forged = append(forged, h...)
			}
			mustExec(t, raw, `INSERT INTO audit_prunes (floor, record) VALUES (60, ?)`, forged)
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx < 60`)
		}, want{kind: ledger.BaseAltered, index: 60, exact: true}},
		{"delete the prune record", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_prunes`)
		}, want{kind: ledger.Deleted, index: 0, exact: true, count: 40}},
		{"insert a row below the floor", func(t *testing.T, raw *sql.DB, _ *fixture) {
			leaf := ledger.EncodeLeaf(3, event(3))
			mustExec(t, raw, `INSERT INTO audit_leaves (idx, hash, data) VALUES (3, ?, ?)`, ledger.HashLeaf(leaf), leaf)
		}, want{problem: "below the prune floor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := prunedFixture(t)
			tt.tamper(t, rawPruned(t, f), f)
			for _, ext := range [][]byte{nil, f.external} {
				rep := f.verify(t, ext)
				w := tt.want
				if w.problem != "" {
					if rep.Divergence != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], w.problem) {
						t.Errorf("report = %+v", rep)
					}
					continue
				}
				d := rep.Divergence
				if d == nil {
					t.Fatalf("tampering not detected: %+v", rep)
				}
				t.Logf("%v", d)
				if d.Kind != w.kind || d.Index != w.index || d.Exact != w.exact || (w.count != 0 && d.Count != w.count) {
					t.Errorf("got %s (index %d, count %d, exact %v), want %s at %d (count %d, exact %v)",
						d.Kind, d.Index, d.Count, d.Exact, w.kind, w.index, w.count, w.exact)
				}
			}
		})
	}
}

func TestResumeWithAlteredPruneRecord(t *testing.T) {
	// The integrator never signs on top of an altered prune record.
	f, _ := prunedFixture(t)
	raw := rawPruned(t, f)
	rec := pruneRecord(t, raw, 40)
	rec[len(rec)-1] ^= 0x01
	mustExec(t, raw, `UPDATE audit_prunes SET record = ? WHERE floor = 40`, rec)
	mustExec(t, raw, `DELETE FROM audit_state`)
	db := openDB(t, f.path)
	l := newLedger(t, db, f.signer, f.verifier, ledger.Options{})
	if err := l.Record(context.Background(), events(100, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Flush(context.Background()); !errors.Is(err, ledger.ErrIntegrity) || !strings.Contains(err.Error(), "prune record") {
		t.Errorf("Flush over an altered prune record: %v", err)
	}
}

// recordNotes and recordHashes take a prune record apart (its format is in
// prune.go), as an attacker who read the code would.
func recordNotes(rec []byte) (checkpoint, archive []byte) {
	rest := rec[9:]
	var notes [2][]byte
	for i := range notes {
		n, k := binary.Uvarint(rest)
		notes[i], rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	return notes[0], notes[1]
}

func recordHashes(rec []byte, floor uint64) [][]byte {
	n := compact.RangeSize(0, floor)
	tail := rec[len(rec)-32*n:]
	var hs [][]byte
	for i := range n {
		hs = append(hs, bytes.Clone(tail[32*i:32*(i+1)]))
	}
	return hs
}

func FuzzVerifyArchive(f *testing.F) {
	// Archives are read from files an operator keeps: untrusted input. The
	// only inputs that verify are the archives the key actually signed.
	fx := buildFixture(f, 20, 5)
	db := openDB(f, fx.path)
	a1, _ := archive(f, fx, db, nowFor(12), time.Time{})
	if _, err := prune(db, fx, a1, nowFor(12)); err != nil {
		f.Fatal(err)
	}
	a2, _ := archive(f, fx, db, nowFor(19), time.Time{})
	f.Add(a1)
	f.Add(a2)
	f.Add([]byte("ward-audit-archive v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ledger.VerifyArchive(bytes.NewReader(data), fx.verifier); err == nil && !bytes.Equal(data, a1) && !bytes.Equal(data, a2) {
			t.Errorf("accepted an archive the key did not sign: %q", data)
		}
	})
}
