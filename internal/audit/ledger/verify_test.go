package ledger_test

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit/ledger"
)

// Tamper tests: each changes rows directly in the SQLite file, as someone
// with access to the database could, and checks that Verify names the
// kind of change and the first index where history diverges.

const (
	tamperEvents = 100
	tamperEvery  = 10 // a checkpoint after every 10 events: sizes 10, 20, ..., 100
)

func leafRow(t testing.TB, raw *sql.DB, idx int) (data, hash []byte) {
	t.Helper()
	if err := raw.QueryRow(`SELECT data, hash FROM audit_leaves WHERE idx = ?`, idx).Scan(&data, &hash); err != nil {
		t.Fatalf("leaf %d: %v", idx, err)
	}
	return data, hash
}

func setLeaf(t testing.TB, raw *sql.DB, idx int, data, hash []byte) {
	t.Helper()
	mustExec(t, raw, `UPDATE audit_leaves SET data = ?, hash = ? WHERE idx = ?`, data, hash, idx)
}

// shift moves the rows at from and after up by one, leaving from free.
func shift(t testing.TB, raw *sql.DB, from int) {
	t.Helper()
	mustExec(t, raw, `UPDATE audit_leaves SET idx = idx + 1000000 WHERE idx >= ?`, from)
	mustExec(t, raw, `UPDATE audit_leaves SET idx = idx - 1000000 + 1 WHERE idx >= 1000000`)
}

// forgedLeaf re-encodes leaf idx with another actor: what an attacker who
// knows the format would write.
func forgedLeaf(t testing.TB, raw *sql.DB, idx int) []byte {
	t.Helper()
	data, _ := leafRow(t, raw, idx)
	i, e, err := ledger.DecodeLeaf(data)
	if err != nil || i != uint64(idx) {
		t.Fatalf("decode leaf %d: %d, %v", idx, i, err)
	}
	e.ActorID = "u-forged"
	return ledger.EncodeLeaf(uint64(idx), e)
}

// coverTracks removes what could betray a rewrite of the leaves: the
// stored checkpoints (which the attacker cannot re-sign), the integrator
// state and the cached nodes.
func coverTracks(t testing.TB, raw *sql.DB, above int) {
	t.Helper()
	mustExec(t, raw, `DELETE FROM audit_checkpoints WHERE size > ?`, above)
	mustExec(t, raw, `DELETE FROM audit_state`)
	mustExec(t, raw, `DELETE FROM audit_nodes`)
}

func TestVerifyIntact(t *testing.T) {
	f := buildFixture(t, tamperEvents, tamperEvery)
	for _, ext := range [][]byte{nil, f.external} {
		rep := f.verify(t, ext)
		if !rep.OK() {
			t.Fatalf("intact ledger: %+v", rep)
		}
		if rep.Leaves != tamperEvents || rep.Verified != tamperEvents || rep.Checkpoints != tamperEvents/tamperEvery {
			t.Errorf("report = %+v", rep)
		}
	}
	if rep := f.verify(t, f.external); rep.External != tamperEvents/tamperEvery {
		t.Errorf("%d external checkpoints read from the file sink, want %d", rep.External, tamperEvents/tamperEvery)
	}
	// The root Verify computes is the one in the last checkpoint.
	notes := ledger.SplitNotes(f.external)
	last, err := ledger.OpenCheckpoint(notes[len(notes)-1], f.verifier)
	if err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t, nil); string(rep.Root) != string(last.Hash) {
		t.Error("Verify's root differs from the last checkpoint's")
	}
}

func TestVerifyTamper(t *testing.T) {
	type want struct {
		kind          ledger.Kind
		index         uint64
		exact         bool
		end, count    uint64 // checked when non-zero
		intactWithout bool   // only the external checkpoints reveal it
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, raw *sql.DB, f *fixture)
		want   want
	}{
		{"modify an event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			_, hash := leafRow(t, raw, 37)
			setLeaf(t, raw, 37, forgedLeaf(t, raw, 37), hash)
		}, want{kind: ledger.Modified, index: 37, exact: true}},
		{"modify a byte", func(t *testing.T, raw *sql.DB, _ *fixture) {
			data, hash := leafRow(t, raw, 37)
			data[len(data)-1] ^= 1
			setLeaf(t, raw, 37, data, hash)
		}, want{kind: ledger.Modified, index: 37, exact: true}},
		{"delete an event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx = 37`)
		}, want{kind: ledger.Deleted, index: 37, exact: true, count: 1}},
		{"delete the first event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx = 0`)
		}, want{kind: ledger.Deleted, index: 0, exact: true, count: 1}},
		{"delete a range", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx BETWEEN 37 AND 41`)
		}, want{kind: ledger.Deleted, index: 37, exact: true, count: 5, end: 42}},
		{"delete and renumber", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx = 37`)
			mustExec(t, raw, `UPDATE audit_leaves SET idx = idx - 1 WHERE idx > 37`)
		}, want{kind: ledger.Deleted, index: 37, exact: true, count: 1}},
		{"insert a well-formed forged event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			forged := forgedLeaf(t, raw, 37)
			shift(t, raw, 37)
			mustExec(t, raw, `INSERT INTO audit_leaves (idx, hash, data) VALUES (37, ?, ?)`, ledger.HashLeaf(forged), forged)
		}, want{kind: ledger.Inserted, index: 37, exact: true, count: 1}},
		{"insert a copy after the original", func(t *testing.T, raw *sql.DB, _ *fixture) {
			data, hash := leafRow(t, raw, 37)
			shift(t, raw, 38)
			mustExec(t, raw, `INSERT INTO audit_leaves (idx, hash, data) VALUES (38, ?, ?)`, hash, data)
		}, want{kind: ledger.Inserted, index: 38, exact: true, count: 1}},
		{"insert a garbage row", func(t *testing.T, raw *sql.DB, _ *fixture) {
			shift(t, raw, 37)
			mustExec(t, raw, `INSERT INTO audit_leaves (idx, hash, data) VALUES (37, x'00', x'01')`)
		}, want{kind: ledger.Inserted, index: 37, exact: true, count: 1}},
		{"swap two events", func(t *testing.T, raw *sql.DB, _ *fixture) {
			d1, h1 := leafRow(t, raw, 37)
			d2, h2 := leafRow(t, raw, 52)
			setLeaf(t, raw, 37, d2, h2)
			setLeaf(t, raw, 52, d1, h1)
		}, want{kind: ledger.Reordered, index: 37, exact: true}},
		{"swap adjacent rows by key", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `UPDATE audit_leaves SET idx = 1000000 WHERE idx = 37`)
			mustExec(t, raw, `UPDATE audit_leaves SET idx = 37 WHERE idx = 38`)
			mustExec(t, raw, `UPDATE audit_leaves SET idx = 38 WHERE idx = 1000000`)
		}, want{kind: ledger.Reordered, index: 37, exact: true}},
		{"move an event later", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `UPDATE audit_leaves SET idx = 1000000 WHERE idx = 37`)
			mustExec(t, raw, `UPDATE audit_leaves SET idx = idx - 1 WHERE idx BETWEEN 38 AND 52`)
			mustExec(t, raw, `UPDATE audit_leaves SET idx = 52 WHERE idx = 1000000`)
		}, want{kind: ledger.Reordered, index: 37, exact: true}},
		{"truncate", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx >= 63`)
		}, want{kind: ledger.Truncated, index: 63, exact: true, count: 37}},
		{"delete the last event", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx = 99`)
		}, want{kind: ledger.Truncated, index: 99, exact: true, count: 1}},
		{"truncate to a checkpoint and delete later checkpoints", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx >= 60`)
			coverTracks(t, raw, 60)
		}, want{kind: ledger.Truncated, index: 60, exact: true, count: 40, intactWithout: true}},
		{"rewrite an event and its hash", func(t *testing.T, raw *sql.DB, _ *fixture) {
			forged := forgedLeaf(t, raw, 37)
			setLeaf(t, raw, 37, forged, ledger.HashLeaf(forged))
		}, want{kind: ledger.Modified, index: 30, end: 40}},
		{"recompute everything and delete the checkpoints", func(t *testing.T, raw *sql.DB, _ *fixture) {
			forged := forgedLeaf(t, raw, 37)
			setLeaf(t, raw, 37, forged, ledger.HashLeaf(forged))
			coverTracks(t, raw, 0)
		}, want{kind: ledger.Modified, index: 30, end: 40, intactWithout: true}},
		{"delete an event, re-encode the rest, delete the checkpoints", func(t *testing.T, raw *sql.DB, _ *fixture) {
			mustExec(t, raw, `DELETE FROM audit_leaves WHERE idx = 37`)
			for i := 38; i < tamperEvents; i++ {
				data, _ := leafRow(t, raw, i)
				_, e, err := ledger.DecodeLeaf(data)
				if err != nil {
					t.Fatal(err)
				}
				enc := ledger.EncodeLeaf(uint64(i-1), e)
				mustExec(t, raw, `UPDATE audit_leaves SET idx = ?, data = ?, hash = ? WHERE idx = ?`, i-1, enc, ledger.HashLeaf(enc), i)
			}
			coverTracks(t, raw, 0)
		}, want{kind: ledger.Modified, index: 30, end: 40, intactWithout: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := buildFixture(t, tamperEvents, tamperEvery)
			tt.tamper(t, f.raw(t), f)

			check := func(rep ledger.Report, where string) {
				t.Helper()
				d := rep.Divergence
				if d == nil {
					t.Fatalf("%s: tampering not detected: %+v", where, rep)
				}
				t.Logf("%s: %v", where, d)
				w := tt.want
				if d.Kind != w.kind || d.Index != w.index || d.Exact != w.exact ||
					(w.end != 0 && d.End != w.end) || (w.count != 0 && d.Count != w.count) {
					t.Errorf("%s: got %s (index %d, end %d, count %d, exact %v), want %s at %d (end %d, count %d, exact %v)",
						where, d.Kind, d.Index, d.End, d.Count, d.Exact, w.kind, w.index, w.end, w.count, w.exact)
				}
			}
			if tt.want.intactWithout {
				// Without checkpoints kept outside the database, a rewrite
				// that recomputes every hash cannot be seen.
				if rep := f.verify(t, nil); !rep.OK() {
					t.Errorf("without external checkpoints: %+v", rep)
				}
			} else {
				check(f.verify(t, nil), "database checkpoints")
			}
			check(f.verify(t, f.external), "with external checkpoints")
		})
	}
}

func TestVerifyCheckpointTampering(t *testing.T) {
	ctx := context.Background()
	t.Run("re-signed with another key", func(t *testing.T) {
		// The attacker rewrites an event, recomputes everything and signs
		// new checkpoints with their own key under the same name.
		f := buildFixture(t, tamperEvents, tamperEvery)
		raw := f.raw(t)
		forged := forgedLeaf(t, raw, 37)
		setLeaf(t, raw, 37, forged, ledger.HashLeaf(forged))
		coverTracks(t, raw, 0)
		db := openDB(t, f.path)
		evil := otherKey(t)
		for size := uint64(tamperEvery); size <= tamperEvents; size += tamperEvery {
			root, err := ledger.RootHash(ctx, db, size)
			if err != nil {
				t.Fatal(err)
			}
			n, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: size, Hash: root}, evil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, raw, `INSERT INTO audit_checkpoints (size, note) VALUES (?, ?)`, size, n)
		}
		rep, err := ledger.Verify(ctx, db, f.verifier, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || len(rep.Problems) != tamperEvents/tamperEvery || !strings.Contains(rep.Problems[0], "not validly signed") {
			t.Errorf("forged checkpoints: %+v", rep)
		}
		if rep, err = ledger.Verify(ctx, db, f.verifier, f.external); err != nil || rep.Divergence == nil || rep.Divergence.Index != 30 || rep.Divergence.End != 40 {
			t.Errorf("with external checkpoints: %+v, %v", rep, err)
		}
	})
	t.Run("checkpoint stored under another size", func(t *testing.T) {
		f := buildFixture(t, tamperEvents, tamperEvery)
		mustExec(t, f.raw(t), `UPDATE audit_checkpoints SET size = 55 WHERE size = 50`)
		rep := f.verify(t, nil)
		if rep.OK() || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "signs size 50") {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("fork", func(t *testing.T) {
		// A validly signed checkpoint whose root differs from the stored
		// one at the same size means the key signed two histories.
		f := buildFixture(t, tamperEvents, tamperEvery)
		n, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: 50, Hash: make([]byte, 32)}, f.signer)
		if err != nil {
			t.Fatal(err)
		}
		rep := f.verify(t, append(append([]byte{}, f.external...), n...))
		if rep.OK() || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "fork") {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("external garbage and other logs", func(t *testing.T) {
		f := buildFixture(t, 20, 10)
		other, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: "other.example/log", Size: 3, Hash: make([]byte, 32)}, mustSigner(t, "other.example/log"))
		if err != nil {
			t.Fatal(err)
		}
		ext := append([]byte("noise\n\n"), other...)
		ext = append(ext, f.external...)
		rep := f.verify(t, ext)
		if !rep.OK() || rep.Skipped != 1 || rep.External != 2 {
			t.Errorf("report = %+v", rep)
		}
	})
	t.Run("events after the last checkpoint are unverified", func(t *testing.T) {
		// An event appended at the end, correctly encoded, is
		// indistinguishable from one not yet checkpointed; Verify says how
		// many leaves no checkpoint covers.
		f := buildFixture(t, tamperEvents, tamperEvery)
		forged := ledger.EncodeLeaf(tamperEvents, event(1000))
		mustExec(t, f.raw(t), `INSERT INTO audit_leaves (idx, hash, data) VALUES (?, ?, ?)`, tamperEvents, ledger.HashLeaf(forged), forged)
		rep := f.verify(t, f.external)
		if !rep.OK() || rep.Leaves != tamperEvents+1 || rep.Verified != tamperEvents {
			t.Errorf("report = %+v", rep)
		}
	})
}

func mustSigner(t testing.TB, name string) note.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(crand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
