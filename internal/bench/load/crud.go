package load

import (
	"context"
	"math/rand/v2"
	"net/http"

	"github.com/wardhealth/ward/internal/synth"
)

// crud creates, reads, updates and deletes a Patient, an Encounter and an
// Observation about them each iteration: twelve requests.
type crud struct {
	pool []crudRecord // pre-generated so generation stays out of the measurement
}

// crudRecord is one synthetic patient's resources, with synth's ids
// (replaced by the server's once created).
type crudRecord struct {
	ids    [3]string // Patient, Encounter, Observation
	bodies [3][]byte
}

var crudTypes = [3]string{"Patient", "Encounter", "Observation"}

// crudPool is how many patients crud cycles through.
const crudPool = 256

func (s *crud) prepare(_ context.Context, r *runner) error {
	g, err := synth.New(r.o.Seed, synth.Options{Encounters: 1, Observations: 1})
	if err != nil {
		return err
	}
	for i := range crudPool {
		var rec crudRecord
		for _, res := range g.Patient(i).Resources() {
			for t, typ := range crudTypes {
				if res.Type == typ && rec.bodies[t] == nil {
					rec.ids[t], rec.bodies[t] = res.ID, res.JSON
				}
			}
		}
		s.pool = append(s.pool, rec)
	}
	return nil
}

func (s *crud) iter(ctx context.Context, r *runner, _ int, rng *rand.Rand) error {
	rec := s.pool[rng.IntN(len(s.pool))]
	var ids [3]string // the server's, "" where the create failed
	for t, typ := range crudTypes {
		// References to earlier resources take the ids the server gave them.
		body := relabel(rec.bodies[t], rec.ids[:t], ids[:t])
		res, err := r.do(ctx, "create", http.MethodPost, "/fhir/R4/"+typ, body)
		if err != nil {
			return err
		}
		if res.ok() {
			_, ids[t] = parseLocation(res.header.Get("Location"))
		}
	}
	for t, typ := range crudTypes {
		if ids[t] == "" {
			continue
		}
		if _, err := r.do(ctx, "read", http.MethodGet, "/fhir/R4/"+typ+"/"+ids[t], nil); err != nil {
			return err
		}
	}
	for t, typ := range crudTypes {
		if ids[t] == "" {
			continue
		}
		body := changed(relabel(rec.bodies[t], rec.ids[:t+1], ids[:t+1]))
		if _, err := r.do(ctx, "update", http.MethodPut, "/fhir/R4/"+typ+"/"+ids[t], body); err != nil {
			return err
		}
	}
	for t := len(crudTypes) - 1; t >= 0; t-- { // what refers to the Patient first
		if ids[t] == "" {
			continue
		}
		if _, err := r.do(ctx, "delete", http.MethodDelete, "/fhir/R4/"+crudTypes[t]+"/"+ids[t], nil); err != nil {
			return err
		}
	}
	return nil
}
