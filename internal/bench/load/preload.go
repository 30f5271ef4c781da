package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardhealth/ward/internal/synth"
)

// preloadObservations is how many Observations each preloaded patient has.
const preloadObservations = 10

// dataset is what search and mixed load before measuring: the server's
// ids of the patients and observations, and the Values the queries
// draw from.
type dataset struct {
	patients []loaded
	obsIDs   []string // server ids of all the observations
	vals     Values
}

// loaded is one preloaded patient.
type loaded struct {
	id      string   // the server's id
	patient []byte   // the Patient body, with the server's id
	obs     [][]byte // its Observation bodies, with the server's ids
	obsIDs  []string // the server's ids of its observations
}

// Values are real Values of the loaded data that the queries draw from.
type Values struct {
	Families    []string    // three-letter prefixes of family names
	Identifiers []string    // MRNs, system|value
	Codes       [][2]string // a patient id and the LOINC code of one of their observations
	Months      []string    // YYYY-MM (UTC) of observations
	Patients    []string    // ids of patients
}

// preload posts r.o.Patients synthetic patients with their observations
// as transaction Bundles (several patients each, at most bundleEntries
// entries) from a few concurrent posters, and collects the server's ids.
func preload(ctx context.Context, r *runner) (*dataset, error) {
	g, err := synth.New(r.o.Seed, synth.Options{Observations: preloadObservations})
	if err != nil {
		return nil, err
	}
	per := bundleEntries / g.ResourcesPerPatient()
	n := r.o.Patients
	ds := &dataset{patients: make([]loaded, n)}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	starts := make(chan int)
	var wg sync.WaitGroup
	for range min(r.o.Clients, 4) {
		wg.Go(func() {
			for lo := range starts {
				if err := preloadBundle(ctx, r, g, ds, lo, min(lo+per, n)); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for lo := 0; lo < n; lo += per {
		select {
		case starts <- lo:
		case <-ctx.Done():
			break feed
		}
	}
	close(starts)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	for _, l := range ds.patients {
		ds.obsIDs = append(ds.obsIDs, l.obsIDs...)
	}
	if ds.vals, err = collectValues(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// preloadBundle posts patients lo..hi-1 in one Bundle and records their
// server ids and bodies in ds.patients[lo:hi] (each index written by one
// poster only).
func preloadBundle(ctx context.Context, r *runner, g *synth.Generator, ds *dataset, lo, hi int) error {
	var entries []json.RawMessage
	recs := make([]*synth.Record, hi-lo)
	for i := lo; i < hi; i++ {
		recs[i-lo] = g.Patient(i)
		var b struct {
			Entry []json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal(recs[i-lo].AppendBundle(nil), &b); err != nil {
			return err
		}
		entries = append(entries, b.Entry...)
	}
	body, err := json.Marshal(struct {
		ResourceType string            `json:"resourceType"`
		Type         string            `json:"type"`
		Entry        []json.RawMessage `json:"entry"`
	}{"Bundle", "transaction", entries})
	if err != nil {
		return err
	}
	res, err := r.do(ctx, "preload", http.MethodPost, "/fhir/R4/", body)
	if err != nil {
		return err
	}
	var out struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil {
		return fmt.Errorf("preload: transaction response: %w", err)
	}
	if len(out.Entry) != len(entries) {
		return fmt.Errorf("preload: transaction response has %d entries, want %d", len(out.Entry), len(entries))
	}
	k := 0
	for i := lo; i < hi; i++ {
		synthRes := recs[i-lo].Resources()
		from := make([]string, len(synthRes))
		to := make([]string, len(synthRes))
		for j, sr := range synthRes {
			typ, id := parseLocation(out.Entry[k+j].Response.Location)
			if typ != sr.Type || id == "" {
				return fmt.Errorf("preload: entry %d: location %q, want a %s", k+j, out.Entry[k+j].Response.Location, sr.Type)
			}
			from[j], to[j] = sr.ID, id
		}
		l := loaded{id: to[0], patient: relabel(synthRes[0].JSON, from[:1], to[:1]), obsIDs: to[1:]}
		for j, sr := range synthRes[1:] {
			l.obs = append(l.obs, relabel(sr.JSON, []string{from[0], from[j+1]}, []string{to[0], to[j+1]}))
		}
		ds.patients[i] = l
		k += len(synthRes)
	}
	return nil
}

// collectValues takes the query Values from the loaded patients, as
// ward bench search does from its dataset.
func collectValues(ds *dataset) (Values, error) {
	var v Values
	months := map[string]bool{}
	for _, l := range ds.patients {
		var p struct {
			Identifier []struct{ System, Value string }
			Name       []struct{ Family string }
		}
		if err := json.Unmarshal(l.patient, &p); err != nil {
			return v, err
		}
		if len(p.Name) > 0 && p.Name[0].Family != "" {
			f := []rune(p.Name[0].Family)
			v.Families = append(v.Families, string(f[:min(3, len(f))]))
		}
		for _, id := range p.Identifier {
			if strings.HasSuffix(id.System, "/mrn") {
				v.Identifiers = append(v.Identifiers, id.System+"|"+id.Value)
			}
		}
		v.Patients = append(v.Patients, l.id)
		for _, b := range l.obs {
			var o struct {
				Code struct {
					Coding []struct{ System, Code string }
				}
				EffectiveDateTime string
			}
			if err := json.Unmarshal(b, &o); err != nil {
				return v, err
			}
			if len(o.Code.Coding) > 0 && o.Code.Coding[0].System == "http://loinc.org" {
				v.Codes = append(v.Codes, [2]string{l.id, o.Code.Coding[0].Code})
			}
			if t, err := time.Parse(time.RFC3339, o.EffectiveDateTime); err == nil {
				months[t.UTC().Format("2006-01")] = true
			}
		}
	}
	v.Months = slices.Sorted(maps.Keys(months))
	if len(v.Families) == 0 || len(v.Identifiers) == 0 || len(v.Codes) == 0 || len(v.Months) == 0 {
		return v, errors.New("the generated data lacks Values for some queries")
	}
	return v, nil
}
