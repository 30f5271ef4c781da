package sqlite

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/breakglass"
	"github.com/wardhealth/ward/internal/identity"
)

// TestBreakGlassStore checks the store's rules: one active grant per
// person and patient even under concurrent starts, the grant, review and
// alert stored together, an early end once and never an extension,
// reviews closed once, rows never deleted, and Active one index seek.
func TestBreakGlassStore(t *testing.T) {
	db, path := openTemp(t, Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if err := db.CreatePerson(ctx, identity.Person{ID: "u-doc", Tenant: "clinic", Username: "doc", Role: "physician",
		PasswordHistory: []string{}, Created: now}); err != nil {
		t.Fatal(err)
	}
	grant := func(id string, start time.Time) (breakglass.Grant, breakglass.Review, breakglass.Alert) {
		g := breakglass.Grant{ID: "bg-" + id, Tenant: "clinic", PersonID: "u-doc", PatientID: "p1", SealedReason: []byte("sealed"),
			Started: start, Ends: start.Add(30 * time.Minute)}
		return g, breakglass.Review{ID: "rv-" + id, GrantID: g.ID, Tenant: "clinic", Opened: start},
			breakglass.Alert{Key: "break-glass|clinic|grant|" + g.ID, Tenant: "clinic", Time: start, Actor: "u-doc", Summary: "review rv-" + id}
	}

	// Eight concurrent starts for the same person and patient: one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			g, r, a := grant(string(rune('a'+i)), now)
			switch err := db.CreateBreakGlass(ctx, g, r, a); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, breakglass.ErrActive):
				t.Errorf("CreateBreakGlass: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent grants stored, want 1", wins.Load())
	}
	var n int
	raw := rawDB(t, path)
	if err := raw.QueryRow(`SELECT (SELECT count(*) FROM break_glass_grants) + (SELECT count(*) FROM break_glass_reviews)
		+ (SELECT count(*) FROM audit_alerts WHERE rule = 'break-glass' AND tenant = 'clinic' AND actor = 'u-doc')`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("grant, review and alert rows = %d, %v; want 3 (refused starts store nothing)", n, err)
	}

	g, err := db.ActiveBreakGlass(ctx, "clinic", "u-doc", "p1", now.Add(29*time.Minute))
	if err != nil || g.PatientID != "p1" || !g.Ends.Equal(now.Add(30*time.Minute)) || string(g.SealedReason) != "sealed" || g.Write {
		t.Fatalf("ActiveBreakGlass = %+v, %v", g, err)
	}
	for name, at := range map[string]time.Time{"at the end": now.Add(30 * time.Minute), "before the start": now.Add(-time.Second)} {
		if _, err := db.ActiveBreakGlass(ctx, "clinic", "u-doc", "p1", at); !errors.Is(err, breakglass.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := db.ActiveBreakGlass(ctx, "other", "u-doc", "p1", now); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("another tenant: %v, want ErrNotFound", err)
	}

	// An early end, once; then the person may start again.
	if err := db.EndBreakGlass(ctx, g.ID, "u-doc", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.EndBreakGlass(ctx, g.ID, "u-doc", now.Add(11*time.Minute)); !errors.Is(err, breakglass.ErrEnded) {
		t.Errorf("second end: %v, want ErrEnded", err)
	}
	if err := db.EndBreakGlass(ctx, "bg-none", "u-doc", now); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("end of no grant: %v, want ErrNotFound", err)
	}
	if _, err := db.ActiveBreakGlass(ctx, "clinic", "u-doc", "p1", now.Add(10*time.Minute)); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("active after its end: %v", err)
	}
	g2, r2, a2 := grant("z", now.Add(10*time.Minute))
	if err := db.CreateBreakGlass(ctx, g2, r2, a2); err != nil {
		t.Fatalf("a new grant after the end: %v", err)
	}
	if err := db.EndBreakGlass(ctx, g2.ID, "u-po", g2.Ends.Add(time.Second)); !errors.Is(err, breakglass.ErrEnded) {
		t.Errorf("end after expiry: %v, want ErrEnded", err)
	}

	// The tables refuse extensions, rewrites and deletions.
	for _, q := range []string{
		`UPDATE break_glass_grants SET ends_ns = ends_ns + 3600000000000 WHERE id = '` + g2.ID + `'`,
		`UPDATE break_glass_grants SET ended_ns = 0 WHERE id = '` + g.ID + `'`,
		`UPDATE break_glass_grants SET patient_id = 'p2' WHERE id = '` + g2.ID + `'`,
		`DELETE FROM break_glass_grants`,
		`DELETE FROM break_glass_reviews`,
	} {
		if _, err := raw.Exec(q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}

	// Reviews: listed open then closed, closed once.
	open, err := db.BreakGlassReviews(ctx, "clinic", true, 10)
	if err != nil || len(open) != 2 || open[0].GrantID != g.ID || open[1].ID != r2.ID || !open[0].IsOpen() {
		t.Fatalf("open reviews = %+v, %v", open, err)
	}
	if err := db.CloseBreakGlassReview(ctx, open[0].ID, "u-po", now.Add(time.Hour), breakglass.Justified, []byte("sealed notes")); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseBreakGlassReview(ctx, open[0].ID, "u-po", now.Add(2*time.Hour), breakglass.NotJustified, nil); !errors.Is(err, breakglass.ErrClosed) {
		t.Errorf("second close: %v, want ErrClosed", err)
	}
	if err := db.CloseBreakGlassReview(ctx, r2.ID, "u-po", now.Add(time.Hour), "fine", nil); err == nil {
		t.Error("an unknown disposition was stored")
	}
	if err := db.CloseBreakGlassReview(ctx, "rv-none", "u-po", now, breakglass.Justified, nil); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("close of no review: %v, want ErrNotFound", err)
	}
	closed, err := db.BreakGlassReviews(ctx, "clinic", false, 10)
	if err != nil || len(closed) != 1 || closed[0].Disposition != breakglass.Justified || closed[0].ClosedBy != "u-po" ||
		string(closed[0].SealedNotes) != "sealed notes" || !closed[0].Closed.Equal(now.Add(time.Hour)) {
		t.Fatalf("closed reviews = %+v, %v", closed, err)
	}
	if rv, err := db.BreakGlassReview(ctx, r2.ID); err != nil || rv.GrantID != g2.ID || rv.SealedNotes != nil {
		t.Fatalf("BreakGlassReview = %+v, %v", rv, err)
	}
	if others, err := db.BreakGlassReviews(ctx, "other", true, 10); err != nil || len(others) != 0 {
		t.Errorf("another tenant's reviews = %+v, %v", others, err)
	}

	// A grant for someone who has no account is refused.
	g3, r3, a3 := grant("x", now)
	g3.PersonID = "u-nobody"
	if err := db.CreateBreakGlass(ctx, g3, r3, a3); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("grant to no account: %v, want ErrNotFound", err)
	}

	// Active is asked on every request: it must seek the index.
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+activeGrant, "clinic", "u-doc", "p1", now.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "SEARCH break_glass_grants USING INDEX break_glass_grants_active") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("active grant plan = %q, want a search of break_glass_grants_active without sorting", p)
	}
}
