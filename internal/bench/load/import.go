package load

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"

	"github.com/wardhealth/ward/internal/synth"
)

// importer posts transaction Bundles of bundleEntries entries, made of
// synth's per-patient Bundles joined and trimmed.
type importer struct {
	pool    [][]byte // pre-generated Bundles; each is posted again and again (the server assigns new ids)
	entries int64    // entries per Bundle
}

const bundleEntries = 100

func (s *importer) prepare(ctx context.Context, r *runner) error {
	g, err := synth.New(r.o.Seed, synth.DefaultOptions())
	if err != nil {
		return err
	}
	n := min(max(r.o.Clients, 8), 32)
	next := 0
	for range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, used, err := joinBundles(g, next, bundleEntries)
		if err != nil {
			return err
		}
		next += used
		s.pool = append(s.pool, b)
	}
	s.entries = bundleEntries
	return nil
}

// joinBundles makes one transaction Bundle of exactly size entries from
// the Bundles of patients from, from+1, …; the last patient's Bundle is
// cut short (its later entries refer only to earlier ones, never the
// other way). It returns the Bundle and how many patients it used.
func joinBundles(g *synth.Generator, from, size int) ([]byte, int, error) {
	var entries []json.RawMessage
	i := from
	for len(entries) < size {
		var b struct {
			Entry []json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal(g.Patient(i).AppendBundle(nil), &b); err != nil {
			return nil, 0, err
		}
		entries = append(entries, b.Entry...)
		i++
	}
	out, err := json.Marshal(struct {
		ResourceType string            `json:"resourceType"`
		Type         string            `json:"type"`
		Entry        []json.RawMessage `json:"entry"`
	}{"Bundle", "transaction", entries[:size]})
	return out, i - from, err
}

func (s *importer) iter(ctx context.Context, r *runner, _ int, rng *rand.Rand) error {
	res, err := r.do(ctx, "transaction", http.MethodPost, "/fhir/R4/", s.pool[rng.IntN(len(s.pool))])
	if err != nil {
		return err
	}
	if res.ok() {
		r.accepted.Add(s.entries)
	}
	return nil
}
