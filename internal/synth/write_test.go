package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
)

// TestNDJSON checks that each line parses, is of its file's type, and
// that every reference resolves in the data set.
func TestNDJSON(t *testing.T) {
	g := newGen(t, 5, DefaultOptions())
	const n = 150
	bufs := map[string]*bytes.Buffer{}
	out := map[string]io.Writer{}
	for _, typ := range ResourceTypes() {
		bufs[typ] = new(bytes.Buffer)
		out[typ] = bufs[typ]
	}
	st, err := g.WriteNDJSON(context.Background(), out, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ids := map[string]bool{}
	var refs []string
	for typ, buf := range bufs {
		total += int64(buf.Len())
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		for _, line := range lines {
			res, err := fhir.Parse([]byte(line))
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			if res.Type() != typ {
				t.Fatalf("%s in the %s file", res.Type(), typ)
			}
			ids[typ+"/"+res.ID()] = true
			refs = collectRefs(t, []byte(line), refs)
		}
		per := g.Patient(0).r.count(typeIndex(typ))
		if len(lines) != n*per {
			t.Errorf("%s: %d lines, want %d", typ, len(lines), n*per)
		}
	}
	if st.Bytes != total || st.Resources != n*g.ResourcesPerPatient() || st.Patients != n {
		t.Errorf("stats %+v, wrote %d bytes", st, total)
	}
	for _, ref := range refs {
		if !ids[ref] {
			t.Fatalf("reference %s does not resolve", ref)
		}
	}
	t.Logf("%d references resolve", len(refs))

	// Only the types asked for are written.
	var obs bytes.Buffer
	st, err = g.WriteNDJSON(context.Background(), map[string]io.Writer{"Observation": &obs}, 0, 3)
	if err != nil || st.Resources != 30 || bytes.Count(obs.Bytes(), []byte("\n")) != 30 {
		t.Errorf("Observation only: %+v, %v", st, err)
	}
	if _, err := g.WriteNDJSON(context.Background(), map[string]io.Writer{"Claim": io.Discard}, 0, 1); err == nil {
		t.Error("accepted a type it does not generate")
	}
}

// collectRefs appends every Reference.reference in a JSON document.
func collectRefs(t *testing.T, data []byte, refs []string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "reference" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return refs
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{Encounters: -1},
		{Observations: MaxPerPatient + 1},
		{AsOf: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := New(1, o); !errors.Is(err, ErrOptions) {
			t.Errorf("New(%+v): %v, want ErrOptions", o, err)
		}
	}
	g := newGen(t, 1, Options{})
	if rs := g.Patient(3).Resources(); len(rs) != 1 || rs[0].Type != "Patient" {
		t.Errorf("zero options: %d resources", len(rs))
	}
	if got := g.Options().AsOf; !got.Equal(defaultAsOf()) {
		t.Errorf("zero AsOf became %v", got)
	}
	if _, err := g.WriteBundles(context.Background(), io.Discard, 5, 4); !errors.Is(err, ErrRange) {
		t.Errorf("reversed range: %v", err)
	}
	if st, err := g.WriteBundles(context.Background(), io.Discard, 5, 5); err != nil || st != (Stats{}) {
		t.Errorf("empty range: %+v, %v", st, err)
	}
}

type failWriter struct{ left int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errDisk
	}
	w.left -= len(p)
	return len(p), nil
}

// TestWriteStops checks that a write error or a cancelled context ends
// a run with that error.
func TestWriteStops(t *testing.T) {
	g := newGen(t, 1, DefaultOptions())
	w := &failWriter{left: 1 << 20}
	st, err := g.WriteBundles(context.Background(), w, 0, 10_000)
	if !errors.Is(err, errDisk) {
		t.Fatalf("error %v, want %v", err, errDisk)
	}
	if st.Bytes != 1<<20 {
		t.Errorf("%d bytes counted, %d written", st.Bytes, 1<<20)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.WriteNDJSON(ctx, map[string]io.Writer{"Patient": io.Discard}, 0, 10_000); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cw := &cancelWriter{after: 3, cancel: cancel}
	if _, err := g.WriteBundles(ctx, cw, 0, 100_000); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled mid-run: %v", err)
	}
}

type cancelWriter struct {
	after  int
	cancel func()
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	if w.after--; w.after == 0 {
		w.cancel()
	}
	return len(p), nil
}
