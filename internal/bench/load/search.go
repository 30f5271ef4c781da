package load

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

// Query is one search of issue 4; Params draws its parameters from the
// loaded data.
type Query struct {
	Name   string
	Query  string // the query, its varied values in braces
	Type   string
	Params func(v *Values, r *rand.Rand) url.Values
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// Queries are the searches of issue 4, which ward bench search times
// in-process and ward bench run sends over HTTP.
func Queries() []Query {
	page := func(kv ...string) url.Values {
		q := url.Values{"_count": {"20"}}
		for i := 0; i < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return q
	}
	nextMonth := func(m string) string {
		t, _ := time.Parse("2006-01", m)
		return t.AddDate(0, 1, 0).Format("2006-01")
	}
	return []Query{
		{"family-prefix", "Patient?family={3 letters}&_count=20", "Patient", func(v *Values, r *rand.Rand) url.Values {
			return page("family", pick(r, v.Families))
		}},
		{"identifier", "Patient?identifier={mrn system}|{mrn}&_count=20", "Patient", func(v *Values, r *rand.Rand) url.Values {
			return page("identifier", pick(r, v.Identifiers))
		}},
		{"obs-patient-code", "Observation?patient={id}&code=http://loinc.org|{code}&_count=20", "Observation", func(v *Values, r *rand.Rand) url.Values {
			c := pick(r, v.Codes)
			return page("patient", c[0], "code", "http://loinc.org|"+c[1])
		}},
		{"obs-date-range", "Observation?date=ge{YYYY-MM}-01&date=lt{YYYY-MM+1}-01&_count=20", "Observation", func(v *Values, r *rand.Rand) url.Values {
			m := pick(r, v.Months)
			return page("date", "ge"+m+"-01", "date", "lt"+nextMonth(m)+"-01")
		}},
		{"obs-date-month", "Observation?date={YYYY-MM}&_count=20", "Observation", func(v *Values, r *rand.Rand) url.Values {
			return page("date", pick(r, v.Months))
		}},
		{"obs-include-subject", "Observation?patient={id}&_include=Observation:subject&_count=20", "Observation", func(v *Values, r *rand.Rand) url.Values {
			return page("patient", pick(r, v.Patients), "_include", "Observation:subject")
		}},
	}
}

// search runs a random query of issue 4 each iteration over a preloaded
// dataset.
type searcher struct {
	ds *dataset
	qs []Query
}

func (s *searcher) prepare(ctx context.Context, r *runner) (err error) {
	s.qs = Queries()
	s.ds, err = preload(ctx, r)
	return err
}

func (s *searcher) iter(ctx context.Context, r *runner, _ int, rng *rand.Rand) error {
	return s.ds.search(ctx, r, s.qs, rng)
}

func (ds *dataset) search(ctx context.Context, r *runner, qs []Query, rng *rand.Rand) error {
	q := pick(rng, qs)
	_, err := r.do(ctx, "search-"+q.Name, http.MethodGet, "/fhir/R4/"+q.Type+"?"+q.Params(&ds.vals, rng).Encode(), nil)
	return err
}
