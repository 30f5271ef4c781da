package load

import (
	"context"
	"math/rand/v2"
	"net/http"
)

// mixed is 80% reads and 20% writes over a preloaded dataset: 40% reads
// by id (a Patient or an Observation), 40% searches of issue 4, 10%
// Observation creates and 10% Patient updates.
type mixed struct {
	searcher
}

func (s *mixed) iter(ctx context.Context, r *runner, c int, rng *rand.Rand) error {
	ds := s.ds
	switch x := rng.IntN(10); {
	case x < 4:
		if rng.IntN(2) == 0 {
			_, err := r.do(ctx, "read", http.MethodGet, "/fhir/R4/Patient/"+pick(rng, ds.patients).id, nil)
			return err
		}
		_, err := r.do(ctx, "read", http.MethodGet, "/fhir/R4/Observation/"+pick(rng, ds.obsIDs), nil)
		return err
	case x < 8:
		return ds.search(ctx, r, s.qs, rng)
	case x < 9:
		return s.create(ctx, r, rng)
	default:
		// Client c updates only the patients i ≡ c (mod clients), so no
		// two clients write one record at once.
		n := len(ds.patients)
		if c >= n {
			return s.create(ctx, r, rng)
		}
		k := (n - 1 - c) / r.o.Clients // patients c, c+clients, … below n
		p := ds.patients[c+rng.IntN(k+1)*r.o.Clients]
		_, err := r.do(ctx, "update", http.MethodPut, "/fhir/R4/Patient/"+p.id, changed(p.patient))
		return err
	}
}

// create posts a copy of a preloaded observation (the server gives it a
// new id) about the same patient.
func (s *mixed) create(ctx context.Context, r *runner, rng *rand.Rand) error {
	p := pick(rng, s.ds.patients)
	_, err := r.do(ctx, "create", http.MethodPost, "/fhir/R4/Observation", pick(rng, p.obs))
	return err
}
