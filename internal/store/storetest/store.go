package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

func runStore(t *testing.T, open func(t *testing.T) store.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"CreateAndRead", testCreateAndRead},
		{"CreateWithTakenID", testCreateWithTakenID},
		{"UpdateAndVRead", testUpdateAndVRead},
		{"IfMatchConflict", testIfMatchConflict},
		{"UpdateAsCreate", testUpdateAsCreate},
		{"DeleteThenGone", testDeleteThenGone},
		{"DeleteMissingNoChange", testDeleteMissing},
		{"HistoryIncludesDeletion", testStoreHistory},
		{"AtomicMultiOp", testAtomicMultiOp},
		{"SeveralOpsOnOneResource", testSeveralOpsOnOneResource},
		{"InvalidInputBeforeIO", testInvalidInput},
		{"IntegrityFailure", testIntegrity},
		{"TenantIsolation", testStoreTenantIsolation},
		{"PatientDataKeys", testPatientDataKeys},
		{"ConcurrentIfMatchUpdates", testConcurrentIfMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newEnv(t, open))
		})
	}
}

// env is a Store over a fresh backend, with the suite's keyring and clock.
type env struct {
	s     *store.Store
	b     *countingBackend
	kr    *Keyring
	clock *clock
}

func newEnv(t *testing.T, open func(t *testing.T) store.Backend) *env {
	e := &env{b: &countingBackend{Backend: newBackend(t, open)}, kr: NewKeyring(), clock: newClock()}
	e.s = store.New(e.b, e.kr, store.Options{Now: e.clock.Now})
	return e
}

// countingBackend counts calls, to show validation happens before I/O.
type countingBackend struct {
	store.Backend
	calls atomic.Int64
}

func (c *countingBackend) Current(ctx context.Context, tenant, typ, id string) (store.Row, error) {
	c.calls.Add(1)
	return c.Backend.Current(ctx, tenant, typ, id)
}

func (c *countingBackend) Version(ctx context.Context, tenant, typ, id string, v int64) (store.Row, error) {
	c.calls.Add(1)
	return c.Backend.Version(ctx, tenant, typ, id, v)
}

func (c *countingBackend) History(ctx context.Context, tenant string, q store.HistoryQuery) ([]store.HistoryRow, error) {
	c.calls.Add(1)
	return c.Backend.History(ctx, tenant, q)
}

func (c *countingBackend) Write(ctx context.Context, fn func(store.Tx) error) error {
	c.calls.Add(1)
	return c.Backend.Write(ctx, fn)
}

func patient(id, name string) *Doc {
	return NewDoc("Patient", id, map[string]any{"name": []any{map[string]any{"text": name}}})
}

func observation(id, patientID, value string) *Doc {
	return NewDoc("Observation", id, map[string]any{
		"status":        "final",
		"subject":       map[string]any{"reference": "Patient/" + patientID},
		"valueString":   value,
		"effectiveDate": "2025-01-01",
	})
}

func (e *env) write(t *testing.T, tenant string, ops ...store.Op) []store.Result {
	t.Helper()
	res, err := e.s.Write(context.Background(), tenant, ops)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if len(res) != len(ops) {
		t.Fatalf("Write returned %d results for %d ops", len(res), len(ops))
	}
	return res
}

// wantOpError checks err is an *OpError at index wrapping target.
func wantOpError(t *testing.T, err error, index int, target error) {
	t.Helper()
	var oe *store.OpError
	if !errors.As(err, &oe) || oe.Index != index || !errors.Is(err, target) {
		t.Fatalf("error = %v, want *OpError at %d wrapping %v", err, index, target)
	}
}

// checkBody checks a version's body is the document with id and meta stamped.
func checkBody(t *testing.T, v store.Version, field string, want any) {
	t.Helper()
	d, err := ParseDoc(v.Body)
	if err != nil {
		t.Fatalf("%s/%s v%d: body %q: %v", v.Type, v.ID, v.VersionID, v.Body, err)
	}
	if d.Type() != v.Type || d.ID() != v.ID {
		t.Errorf("body is %s/%s, want %s/%s", d.Type(), d.ID(), v.Type, v.ID)
	}
	vid, lu := d.Meta()
	if vid != fmt.Sprint(v.VersionID) || lu != v.LastUpdated.Format("2006-01-02T15:04:05.000Z07:00") {
		t.Errorf("body meta = %s %s, want %d %s", vid, lu, v.VersionID, v.LastUpdated)
	}
	if got := fmt.Sprint(d.Get(field)); got != fmt.Sprint(want) {
		t.Errorf("body %s = %s, want %v", field, got, want)
	}
}

func testCreateAndRead(t *testing.T, e *env) {
	ctx := context.Background()
	const canary = "Zebediah Canary-4711"
	res := e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("", canary)})
	v := res[0].Version
	if !res[0].Created || res[0].NoChange || v.VersionID != 1 || v.Deleted || v.Type != "Patient" {
		t.Fatalf("create result = %+v", res[0])
	}
	if len(v.ID) != 36 || v.ID[14] != '4' || store.ValidID(v.ID) != nil {
		t.Errorf("assigned id %q is not a UUID v4", v.ID)
	}
	if want := e.clock.peek(); !v.LastUpdated.Equal(want) || v.LastUpdated.Location() != time.UTC {
		t.Errorf("LastUpdated = %v, want %v (ms, UTC)", v.LastUpdated, want)
	}
	checkBody(t, v, "name", []any{map[string]any{"text": canary}})

	got, err := e.s.Read(ctx, tenantA, "Patient", v.ID)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.VersionID != 1 || !got.LastUpdated.Equal(v.LastUpdated) || !bytes.Equal(got.Body, v.Body) || got.Deleted {
		t.Errorf("Read = %+v, want %+v", got, v)
	}
	// The backend holds only ciphertext.
	raw, err := e.b.Current(ctx, tenantA, "Patient", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Body, []byte(canary)) || bytes.Contains(raw.Body, []byte("Patient")) {
		t.Error("backend row holds plaintext")
	}
	if _, err := e.s.Read(ctx, tenantA, "Patient", "never-written"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Read of missing = %v, want ErrNotFound", err)
	}
}

func testCreateWithTakenID(t *testing.T, e *env) {
	res := e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("p1", "A")})
	if res[0].Version.ID != "p1" || !res[0].Created {
		t.Fatalf("create with id = %+v", res[0])
	}
	_, err := e.s.Write(context.Background(), tenantA, []store.Op{{Kind: store.OpCreate, Doc: patient("p1", "B")}})
	wantOpError(t, err, 0, store.ErrExists)
	// A deleted id stays taken for create.
	e.write(t, tenantA, store.Op{Kind: store.OpDelete, Type: "Patient", ID: "p1"})
	_, err = e.s.Write(context.Background(), tenantA, []store.Op{{Kind: store.OpCreate, Doc: patient("p1", "C")}})
	wantOpError(t, err, 0, store.ErrExists)
}

func testUpdateAndVRead(t *testing.T, e *env) {
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("p", "v1")})
	res := e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("p", "v2"), IfMatch: 1})
	if v := res[0].Version; v.VersionID != 2 || res[0].Created {
		t.Fatalf("update result = %+v", res[0])
	}
	res = e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("p", "v3")})
	if v := res[0].Version; v.VersionID != 3 || res[0].Created {
		t.Fatalf("update without If-Match = %+v", res[0])
	}
	for n := int64(1); n <= 3; n++ {
		v, err := e.s.VRead(ctx, tenantA, "Patient", "p", n)
		if err != nil {
			t.Fatalf("VRead %d: %v", n, err)
		}
		if v.VersionID != n {
			t.Errorf("VRead %d returned version %d", n, v.VersionID)
		}
		checkBody(t, v, "name", []any{map[string]any{"text": fmt.Sprintf("v%d", n)}})
	}
	for _, n := range []int64{0, 4, -1} {
		if _, err := e.s.VRead(ctx, tenantA, "Patient", "p", n); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("VRead %d = %v, want ErrNotFound", n, err)
		}
	}
	cur, err := e.s.Read(ctx, tenantA, "Patient", "p")
	if err != nil || cur.VersionID != 3 {
		t.Errorf("Read = v%d, %v; want v3", cur.VersionID, err)
	}
}

func testIfMatchConflict(t *testing.T, e *env) {
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("p", "v1")})
	e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("p", "v2")})
	for _, op := range []store.Op{
		{Kind: store.OpUpdate, Doc: patient("p", "stale"), IfMatch: 1},
		{Kind: store.OpUpdate, Doc: patient("p", "future"), IfMatch: 3},
		{Kind: store.OpDelete, Type: "Patient", ID: "p", IfMatch: 1},
	} {
		_, err := e.s.Write(ctx, tenantA, []store.Op{op})
		wantOpError(t, err, 0, store.ErrVersionConflict)
	}
	cur, err := e.s.Read(ctx, tenantA, "Patient", "p")
	if err != nil || cur.VersionID != 2 {
		t.Fatalf("after conflicts, Read = v%d, %v; want v2", cur.VersionID, err)
	}
	checkBody(t, cur, "name", []any{map[string]any{"text": "v2"}})
}

func testUpdateAsCreate(t *testing.T, e *env) {
	ctx := context.Background()
	_, err := e.s.Write(ctx, tenantA, []store.Op{{Kind: store.OpUpdate, Doc: patient("q", "x"), IfMatch: 1}})
	wantOpError(t, err, 0, store.ErrVersionConflict)
	if _, err := e.s.Read(ctx, tenantA, "Patient", "q"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after failed conditional update, Read = %v; want ErrNotFound", err)
	}
	res := e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("q", "x")})
	if v := res[0].Version; !res[0].Created || v.VersionID != 1 || v.ID != "q" {
		t.Fatalf("update-as-create = %+v", res[0])
	}
	got, err := e.s.Read(ctx, tenantA, "Patient", "q")
	if err != nil || got.VersionID != 1 {
		t.Errorf("Read = v%d, %v", got.VersionID, err)
	}
}

func testDeleteThenGone(t *testing.T, e *env) {
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("p", "v1")})
	res := e.write(t, tenantA, store.Op{Kind: store.OpDelete, Type: "Patient", ID: "p", IfMatch: 1})
	del := res[0]
	if del.NoChange || del.Created || !del.Version.Deleted || del.Version.VersionID != 2 || del.Version.Body != nil {
		t.Fatalf("delete result = %+v", del)
	}
	if want := e.clock.peek(); !del.Version.LastUpdated.Equal(want) {
		t.Errorf("delete LastUpdated = %v, want %v", del.Version.LastUpdated, want)
	}
	v, err := e.s.Read(ctx, tenantA, "Patient", "p")
	if !errors.Is(err, store.ErrGone) {
		t.Fatalf("Read after delete = %v, want ErrGone", err)
	}
	if !v.Deleted || v.VersionID != 2 || !v.LastUpdated.Equal(del.Version.LastUpdated) || v.Body != nil {
		t.Errorf("Read after delete returned %+v, want the deletion (v2)", v)
	}
	v, err = e.s.VRead(ctx, tenantA, "Patient", "p", 2)
	if !errors.Is(err, store.ErrGone) || !v.Deleted || v.VersionID != 2 {
		t.Errorf("VRead of the deletion = %+v, %v; want ErrGone", v, err)
	}
	if v, err := e.s.VRead(ctx, tenantA, "Patient", "p", 1); err != nil || v.Deleted {
		t.Errorf("VRead 1 after delete = %+v, %v", v, err)
	}
	// Deleting again changes nothing.
	res = e.write(t, tenantA, store.Op{Kind: store.OpDelete, Type: "Patient", ID: "p"})
	if !res[0].NoChange || res[0].Version.VersionID != 2 || !res[0].Version.Deleted {
		t.Errorf("second delete = %+v, want NoChange at v2", res[0])
	}
	res = e.write(t, tenantA, store.Op{Kind: store.OpDelete, Type: "Patient", ID: "p", IfMatch: 2})
	if !res[0].NoChange {
		t.Errorf("second delete with If-Match of the deletion = %+v, want NoChange", res[0])
	}
	// An update revives the resource, numbering on.
	res = e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("p", "v3")})
	if !res[0].Created || res[0].Version.VersionID != 3 {
		t.Errorf("update after delete = %+v, want created v3", res[0])
	}
	if v, err := e.s.Read(ctx, tenantA, "Patient", "p"); err != nil || v.VersionID != 3 {
		t.Errorf("Read = v%d, %v; want v3", v.VersionID, err)
	}
}

func testDeleteMissing(t *testing.T, e *env) {
	ctx := context.Background()
	res := e.write(t, tenantA, store.Op{Kind: store.OpDelete, Type: "Patient", ID: "nobody"})
	if !res[0].NoChange || res[0].Created || res[0].Version.VersionID != 0 {
		t.Errorf("delete of missing = %+v, want NoChange", res[0])
	}
	if _, err := e.b.Current(ctx, tenantA, "Patient", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete of missing wrote something: %v", err)
	}
	_, err := e.s.Write(ctx, tenantA, []store.Op{{Kind: store.OpDelete, Type: "Patient", ID: "nobody", IfMatch: 1}})
	wantOpError(t, err, 0, store.ErrVersionConflict)
}

func testStoreHistory(t *testing.T, e *env) {
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("p", "v1")})
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: observation("o", "p", "x")})
	e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("p", "v2")})
	e.write(t, tenantA, store.Op{Kind: store.OpDelete, Type: "Patient", ID: "p"})
	e.write(t, tenantA, store.Op{Kind: store.OpUpdate, Doc: patient("p", "v4")})

	vs, next, err := e.s.History(ctx, tenantA, store.HistoryQuery{Type: "Patient", ID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if !next.IsZero() {
		t.Errorf("single page: next = %+v, want zero", next)
	}
	want := []string{"Patient/p/4", "Patient/p/3 deleted", "Patient/p/2", "Patient/p/1"}
	if got := versionKeys(vs); !equalStrings(got, want) {
		t.Fatalf("instance history = %v, want %v", got, want)
	}
	for _, v := range vs {
		if v.Deleted {
			if v.Body != nil {
				t.Errorf("deletion v%d has a body", v.VersionID)
			}
			continue
		}
		checkBody(t, v, "name", []any{map[string]any{"text": fmt.Sprintf("v%d", v.VersionID)}})
	}
	all, _, err := e.s.History(ctx, tenantA, store.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := versionKeys(all), []string{"Patient/p/4", "Patient/p/3 deleted", "Patient/p/2", "Observation/o/1", "Patient/p/1"}; !equalStrings(got, want) {
		t.Errorf("system history = %v, want %v", got, want)
	}
	// Pages: the next cursor is zero exactly on the last page.
	for _, size := range []int{1, 2, 3, 4} {
		var got []string
		q := store.HistoryQuery{Type: "Patient", Count: size}
		for pages := 1; ; pages++ {
			vs, next, err := e.s.History(ctx, tenantA, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, versionKeys(vs)...)
			if next.IsZero() {
				if len(vs) == 0 {
					t.Errorf("page size %d: empty last page", size)
				}
				break
			}
			if len(vs) != size || pages > 10 {
				t.Fatalf("page size %d: page of %d with a next cursor", size, len(vs))
			}
			q.Before = next
		}
		if !equalStrings(got, want) {
			t.Errorf("page size %d: %v, want %v", size, got, want)
		}
	}
	if vs, _, err := e.s.History(ctx, tenantA, store.HistoryQuery{Type: "Patient", Since: e.clock.peek()}); err != nil || !equalStrings(versionKeys(vs), want[:1]) {
		t.Errorf("history since the last write = %v, %v; want %v", versionKeys(vs), err, want[:1])
	}
}

func versionKeys(vs []store.Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%s/%s/%d", v.Type, v.ID, v.VersionID)
		if v.Deleted {
			out[i] += " deleted"
		}
	}
	return out
}

func testAtomicMultiOp(t *testing.T, e *env) {
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("keep", "v1")})
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("doomed", "v1")})
	_, err := e.s.Write(ctx, tenantA, []store.Op{
		{Kind: store.OpCreate, Doc: patient("m1", "new")},
		{Kind: store.OpUpdate, Doc: observation("m2", "m1", "new")},
		{Kind: store.OpDelete, Type: "Patient", ID: "doomed"},
		{Kind: store.OpUpdate, Doc: patient("keep", "v2"), IfMatch: 7},
		{Kind: store.OpCreate, Doc: patient("m3", "never reached")},
	})
	wantOpError(t, err, 3, store.ErrVersionConflict)
	for _, ref := range [][2]string{{"Patient", "m1"}, {"Observation", "m2"}, {"Patient", "m3"}} {
		if _, err := e.s.Read(ctx, tenantA, ref[0], ref[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s/%s after the failed Write: %v, want ErrNotFound", ref[0], ref[1], err)
		}
	}
	for _, id := range []string{"keep", "doomed"} {
		if v, err := e.s.Read(ctx, tenantA, "Patient", id); err != nil || v.VersionID != 1 {
			t.Errorf("Patient/%s after the failed Write = v%d, %v; want v1", id, v.VersionID, err)
		}
	}
	// The same ops without the bad one all apply.
	res := e.write(t, tenantA,
		store.Op{Kind: store.OpCreate, Doc: patient("m1", "new")},
		store.Op{Kind: store.OpUpdate, Doc: observation("m2", "m1", "new")},
		store.Op{Kind: store.OpDelete, Type: "Patient", ID: "doomed"},
	)
	if !res[0].Created || !res[1].Created || !res[2].Version.Deleted {
		t.Errorf("results = %+v", res)
	}
}

func testSeveralOpsOnOneResource(t *testing.T, e *env) {
	ctx := context.Background()
	res := e.write(t, tenantA,
		store.Op{Kind: store.OpCreate, Doc: patient("s", "v1")},
		store.Op{Kind: store.OpUpdate, Doc: patient("s", "v2"), IfMatch: 1},
		store.Op{Kind: store.OpDelete, Type: "Patient", ID: "s", IfMatch: 2},
		store.Op{Kind: store.OpUpdate, Doc: patient("s", "v4")},
	)
	for i, r := range res {
		if r.Version.VersionID != int64(i+1) {
			t.Errorf("op %d wrote v%d, want v%d", i, r.Version.VersionID, i+1)
		}
	}
	if !res[0].Created || res[1].Created || !res[2].Version.Deleted || !res[3].Created {
		t.Errorf("results = %+v", res)
	}
	if v, err := e.s.Read(ctx, tenantA, "Patient", "s"); err != nil || v.VersionID != 4 {
		t.Errorf("Read = v%d, %v; want v4", v.VersionID, err)
	}
}

func testInvalidInput(t *testing.T, e *env) {
	ctx := context.Background()
	long := strings.Repeat("a", 65)
	for _, tenant := range []string{"", "Tenant", "a_b", "a b", "a/b", "ü", long} {
		if _, err := e.s.Read(ctx, tenant, "Patient", "p"); !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("Read tenant %q: %v, want ErrNoTenant", tenant, err)
		}
		if _, err := e.s.VRead(ctx, tenant, "Patient", "p", 1); !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("VRead tenant %q: %v, want ErrNoTenant", tenant, err)
		}
		if _, _, err := e.s.History(ctx, tenant, store.HistoryQuery{}); !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("History tenant %q: %v, want ErrNoTenant", tenant, err)
		}
		if _, err := e.s.Write(ctx, tenant, []store.Op{{Kind: store.OpCreate, Doc: patient("", "x")}}); !errors.Is(err, store.ErrNoTenant) {
			t.Errorf("Write tenant %q: %v, want ErrNoTenant", tenant, err)
		}
	}
	for _, id := range []string{"", "a b", "a/b", "a_b", "a|b", "ü", long} {
		if _, err := e.s.Read(ctx, tenantA, "Patient", id); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Read id %q: %v, want ErrInvalid", id, err)
		}
		if _, err := e.s.VRead(ctx, tenantA, "Patient", id, 1); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("VRead id %q: %v, want ErrInvalid", id, err)
		}
		if _, _, err := e.s.History(ctx, tenantA, store.HistoryQuery{Type: "Patient", ID: id + "/"}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("History id %q: %v, want ErrInvalid", id+"/", err)
		}
		_, err := e.s.Write(ctx, tenantA, []store.Op{
			{Kind: store.OpCreate, Doc: patient("fine", "x")},
			{Kind: store.OpUpdate, Doc: patient(id, "x")},
		})
		wantOpError(t, err, 1, store.ErrInvalid)
		_, err = e.s.Write(ctx, tenantA, []store.Op{{Kind: store.OpDelete, Type: "Patient", ID: id}})
		wantOpError(t, err, 0, store.ErrInvalid)
	}
	for _, typ := range []string{"", "Pa-tient", "Patient/1", "a|b", long} {
		if _, err := e.s.Read(ctx, tenantA, typ, "p"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Read type %q: %v, want ErrInvalid", typ, err)
		}
		if _, _, err := e.s.History(ctx, tenantA, store.HistoryQuery{Type: typ + "-"}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("History type %q: %v, want ErrInvalid", typ+"-", err)
		}
		_, err := e.s.Write(ctx, tenantA, []store.Op{{Kind: store.OpCreate, Doc: NewDoc(typ, "p", nil)}})
		wantOpError(t, err, 0, store.ErrInvalid)
	}
	for i, op := range []store.Op{
		{Kind: 0, Type: "Patient", ID: "p"},
		{Kind: 99, Type: "Patient", ID: "p"},
		{Kind: store.OpCreate},
		{Kind: store.OpUpdate},
		{Kind: store.OpUpdate, Doc: patient("p", "x"), IfMatch: -1},
	} {
		_, err := e.s.Write(ctx, tenantA, []store.Op{op})
		var oe *store.OpError
		if !errors.As(err, &oe) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("bad op %d: %v, want *OpError wrapping ErrInvalid", i, err)
		}
	}
	if _, _, err := e.s.History(ctx, tenantA, store.HistoryQuery{ID: "p"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("History of an id without a type: %v, want ErrInvalid", err)
	}
	if n := e.b.calls.Load(); n != 0 {
		t.Errorf("invalid input reached the backend %d times", n)
	}
	if n := e.kr.Calls(); n != 0 {
		t.Errorf("invalid input reached the keyring %d times", n)
	}
}

func testIntegrity(t *testing.T, e *env) {
	ctx := context.Background()
	// A genuine ciphertext of Patient/b, planted on Patient/a's row.
	keyID, err := e.kr.DataKey(ctx, tenantA, "")
	if err != nil {
		t.Fatal(err)
	}
	bodyB, err := e.kr.Seal(ctx, tenantA, keyID, []byte(`{"resourceType":"Patient","id":"b"}`), store.AAD(tenantA, "Patient", "b", 1))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(bodyB)
	flipped[len(flipped)-1] ^= 1
	plant := func(id string, body []byte) {
		t.Helper()
		mustInsert(t, e.b.Backend, tenantA, store.Row{Type: "Patient", ID: id, Version: 1, LastUpdated: t0, KeyID: keyID, Body: body})
	}
	plant("a", bodyB)
	plant("c", flipped)
	plant("b", bodyB) // its own row: opens
	if v, err := e.s.Read(ctx, tenantA, "Patient", "b"); err != nil || !bytes.Contains(v.Body, []byte(`"id":"b"`)) {
		t.Fatalf("Read of the genuine row = %q, %v", v.Body, err)
	}
	for _, id := range []string{"a", "c"} {
		v, err := e.s.Read(ctx, tenantA, "Patient", id)
		if !errors.Is(err, store.ErrIntegrity) || v.Body != nil {
			t.Errorf("Read of tampered Patient/%s = %q, %v; want ErrIntegrity and no body", id, v.Body, err)
		}
		if _, err := e.s.VRead(ctx, tenantA, "Patient", id, 1); !errors.Is(err, store.ErrIntegrity) {
			t.Errorf("VRead of tampered Patient/%s = %v; want ErrIntegrity", id, err)
		}
	}
	if vs, _, err := e.s.History(ctx, tenantA, store.HistoryQuery{Type: "Patient"}); !errors.Is(err, store.ErrIntegrity) || vs != nil {
		t.Errorf("History over tampered rows = %d versions, %v; want ErrIntegrity", len(vs), err)
	}
	// Another tenant's copy of a genuine row does not open either.
	mustInsert(t, e.b.Backend, tenantB, store.Row{Type: "Patient", ID: "b", Version: 1, LastUpdated: t0, KeyID: keyID, Body: bodyB})
	if v, err := e.s.Read(ctx, tenantB, "Patient", "b"); err == nil || v.Body != nil {
		t.Errorf("Read of a row copied across tenants = %q, %v; want an error", v.Body, err)
	}
}

func testStoreTenantIsolation(t *testing.T, e *env) {
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("x", "of tenant a")})
	if _, err := e.s.Read(ctx, tenantB, "Patient", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant B Read of A's resource = %v, want ErrNotFound", err)
	}
	res := e.write(t, tenantB, store.Op{Kind: store.OpUpdate, Doc: patient("x", "of tenant b")})
	if !res[0].Created || res[0].Version.VersionID != 1 {
		t.Errorf("tenant B update of the same id = %+v, want its own v1", res[0])
	}
	a, err := e.s.Read(ctx, tenantA, "Patient", "x")
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, a, "name", []any{map[string]any{"text": "of tenant a"}})
	b, err := e.s.Read(ctx, tenantB, "Patient", "x")
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, b, "name", []any{map[string]any{"text": "of tenant b"}})
	if e.kr.KeyID(tenantA, "x") == e.kr.KeyID(tenantB, "x") {
		t.Error("tenants share a data key")
	}
}

func testPatientDataKeys(t *testing.T, e *env) {
	ctx := context.Background()
	res := e.write(t, tenantA,
		store.Op{Kind: store.OpCreate, Doc: patient("", "new patient")},
		store.Op{Kind: store.OpCreate, Doc: observation("o1", "p9", "x")},
		store.Op{Kind: store.OpCreate, Doc: NewDoc("Organization", "org", map[string]any{"name": "Clinic"})},
	)
	newID := res[0].Version.ID
	for _, c := range []struct{ typ, id, patient string }{
		{"Patient", newID, newID},
		{"Observation", "o1", "p9"},
		{"Organization", "org", ""},
	} {
		want := e.kr.KeyID(tenantA, c.patient)
		row, err := e.b.Current(ctx, tenantA, c.typ, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" || row.KeyID != want {
			t.Errorf("%s/%s sealed with key %q, want the key of patient %q (%q)", c.typ, c.id, row.KeyID, c.patient, want)
		}
	}
}

func testConcurrentIfMatch(t *testing.T, e *env) {
	// Optimistic concurrency: 20 writers each read, then update with
	// If-Match, retrying on conflict. No update is lost.
	ctx := context.Background()
	e.write(t, tenantA, store.Op{Kind: store.OpCreate, Doc: patient("hot", "0")})
	const writers = 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range 1000 {
				cur, err := e.s.Read(ctx, tenantA, "Patient", "hot")
				if err != nil {
					t.Errorf("writer %d: Read: %v", w, err)
					return
				}
				_, err = e.s.Write(ctx, tenantA, []store.Op{{Kind: store.OpUpdate, Doc: patient("hot", fmt.Sprint(w)), IfMatch: cur.VersionID}})
				if err == nil {
					return
				}
				if !errors.Is(err, store.ErrVersionConflict) {
					t.Errorf("writer %d: Write: %v", w, err)
					return
				}
			}
			t.Errorf("writer %d never won", w)
		})
	}
	wg.Wait()
	v, err := e.s.Read(ctx, tenantA, "Patient", "hot")
	if err != nil || v.VersionID != writers+1 {
		t.Errorf("Read = v%d, %v; want v%d", v.VersionID, err, writers+1)
	}
}
