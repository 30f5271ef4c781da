package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/wardhealth/ward/internal/bench/load"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/synth"

	_ "modernc.org/sqlite" // the driver measureStorage reads dbstat through
)

// `ward bench search` (issue 4): load synthetic Patients and Observations
// through the store as the server does, measure the blind index against
// the encrypted bodies, and time searches in-process.

const benchSearchSynopsis = "ward bench search --data DIR [--patients N] [--observations N] [--seed S] [--duration D] [--clients N] [--reuse] [--json]"

const (
	benchTenant  = "default"
	benchMarker  = "bench-dataset.json" // in the data dir, written once a load completes
	benchBatch   = 500                  // ops per Store.Write
	benchChunk   = 64                   // patients a load worker takes at a time
	benchSampled = 1000                 // patients the query values are drawn from
	benchTarget  = 25 * time.Millisecond
	benchCount   = "20" // _count of every query
)

// benchDataset is what a load writes; a function of the flags alone.
type benchDataset struct {
	Patients     int   `json:"patients"`
	Observations int   `json:"observations"`             // loaded: at most PerPatient per patient
	PerPatient   int   `json:"observations_per_patient"` // generated per patient
	Seed         int64 `json:"seed"`
}

func newBenchDataset(patients, observations int, seed int64) benchDataset {
	per := min((observations+patients-1)/patients, synth.MaxPerPatient)
	return benchDataset{Patients: patients, Observations: min(observations, per*patients), PerPatient: per, Seed: seed}
}

// obsOf is how many of patient i's observations are loaded: all of them
// until the total is reached.
func (d benchDataset) obsOf(i int) int {
	return min(d.PerPatient, max(0, d.Observations-i*d.PerPatient))
}

// withObs is the number of patients with observations loaded (the first ones).
func (d benchDataset) withObs() int { return (d.Observations + d.PerPatient - 1) / d.PerPatient }

// benchLoad reports a load.
type benchLoad struct {
	Reused    bool    `json:"reused"` // loaded by an earlier run (the figures are that run's)
	Resources int     `json:"resources"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"resources_per_second"`
}

type benchMarkerFile struct {
	Dataset benchDataset `json:"dataset"`
	Load    benchLoad    `json:"load"`
}

// benchStorage compares the blind index with the encrypted bodies.
type benchStorage struct {
	Method        string           `json:"method"`
	BodyBytes     int64            `json:"encrypted_body_bytes"`  // sum(length(body)) FROM resources
	ResourceBytes int64            `json:"resources_table_bytes"` // resources pages, with its indexes
	IndexBytes    int64            `json:"index_bytes"`           // current and search_tokens pages, with indexes
	TokenBytes    int64            `json:"current_token_list_bytes"`
	TokenRows     int64            `json:"search_token_rows"`
	Objects       map[string]int64 `json:"objects"` // page bytes per table and index
	Ratio         float64          `json:"index_to_body_ratio"`
}

// benchResult is one query's figures.
type benchResult struct {
	Name      string  `json:"name"`
	Query     string  `json:"query"`
	Requests  int     `json:"requests"`
	PerSecond float64 `json:"requests_per_second"`
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
	Matches   float64 `json:"mean_matches"`
	Included  float64 `json:"mean_included"`
	Empty     int     `json:"empty_pages"` // requests that matched nothing
}

type benchReport struct {
	CPUs     int           `json:"cpus"`
	Clients  int           `json:"clients"`
	Duration string        `json:"duration_per_query"`
	Dataset  benchDataset  `json:"dataset"`
	Load     benchLoad     `json:"load"`
	Storage  benchStorage  `json:"storage"`
	Queries  []benchResult `json:"queries"`
}

func benchSearchCmd(args []string, env Env) error {
	fs := newFlags("bench search", benchSearchSynopsis+"\n\n"+
		"Loads deterministic synthetic Patients and their Observations into a fresh data directory\n"+
		"through the store (encryption and blind index as the server does), reports the load rate\n"+
		"and the index size against the encrypted bodies, then runs each benchmark query\n"+
		"in-process (search.Parse + the search engine) with --clients concurrent clients for\n"+
		"--duration, drawing parameter values from the loaded data, and reports req/s and\n"+
		"p50/p95/p99 latency.", env)
	data := fs.String("data", "", "data directory: absent or empty, or a loaded one with --reuse (required)")
	patients := fs.Int("patients", 100_000, "patients to load")
	observations := fs.Int("observations", 1_000_000, "observations to load, spread over the patients")
	seed := fs.Int64("seed", 1, "seed of the generator and of the query values")
	duration := fs.Duration("duration", 10*time.Second, "how long each query runs")
	clients := fs.Int("clients", 2, "concurrent clients per query")
	reuse := fs.Bool("reuse", false, "query the dataset --data holds (same options) instead of loading")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *data == "" || *patients < 1 || *observations < 1 || *duration <= 0 || *clients < 1 {
		fmt.Fprintln(env.Stderr, "--data is required; --patients, --observations, --duration and --clients must be positive")
		fs.Usage()
		return errUsage
	}
	ds := newBenchDataset(*patients, *observations, *seed)
	if ds.Observations < *observations {
		fmt.Fprintf(env.Stderr, "synth makes at most %d observations per patient: loading %d observations, not %d\n",
			synth.MaxPerPatient, ds.Observations, *observations)
	}
	prev, err := benchPrevious(*data, ds, *reuse)
	if err != nil {
		return err
	}
	ctx, stop := env.Signals(context.Background())
	defer stop()

	// The app's wiring: a development config puts the local KMS key file
	// in the data dir (PrepareDev creates it).
	cfg := config.Config{Env: config.Development, DataDir: *data}
	if err := cfg.Finish(); err != nil {
		return err
	}
	if _, err := app.PrepareDev(cfg, time.Now()); err != nil {
		return err
	}
	keyFile, err := cfg.LocalKeyFile()
	if err != nil {
		return err
	}
	kek, err := localkms.Open(keyFile)
	if err != nil {
		return err
	}
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	kr := keyring.New(kek, db, keyring.Options{})
	st := store.New(db, kr, store.Options{Index: index.NewIndexer(kr)})
	parts := benchParts{dataDir: cfg.DataDir, dbPath: cfg.DatabasePath(), kr: kr, st: st, eng: index.NewEngine(st, kr, nil)}
	rep := benchReport{CPUs: runtime.GOMAXPROCS(0), Clients: *clients, Duration: duration.String(), Dataset: ds}
	err = runBenchSearch(ctx, env, parts, rep, prev, *duration, *asJSON)
	return errors.Join(err, db.Close())
}

// benchParts are the parts of ward the benchmark drives.
type benchParts struct {
	dataDir, dbPath string
	kr              *keyring.Keyring
	st              *store.Store
	eng             *index.Engine
}

// runBenchSearch loads the dataset unless prev reports an earlier load,
// measures storage, runs the queries and prints rep.
func runBenchSearch(ctx context.Context, env Env, p benchParts, rep benchReport, prev *benchLoad, d time.Duration, asJSON bool) error {
	ds := rep.Dataset
	g, err := synth.New(ds.Seed, synth.Options{Observations: ds.PerPatient})
	if err != nil {
		return err
	}
	if prev != nil {
		rep.Load = *prev
	} else {
		if rep.Load, err = loadBench(ctx, g, p.st, p.kr, ds, env.Stderr); err != nil {
			return err
		}
		m, _ := json.Marshal(benchMarkerFile{Dataset: ds, Load: rep.Load})
		if err := os.WriteFile(filepath.Join(p.dataDir, benchMarker), m, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintln(env.Stderr, "measuring storage (dbstat)…")
	if rep.Storage, err = measureStorage(ctx, p.dbPath); err != nil {
		return err
	}
	vals, err := sampleValues(g, ds)
	if err != nil {
		return err
	}
	for i, q := range load.Queries() {
		fmt.Fprintf(env.Stderr, "running %s for %s…\n", q.Name, d)
		r, err := runQuery(ctx, p.eng, q, &vals, rep.Clients, d, uint64(ds.Seed)+uint64(i))
		if err != nil {
			return err
		}
		rep.Queries = append(rep.Queries, r)
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printBenchReport(env.Stdout, rep)
}

// benchPrevious returns the load recorded in dir when --reuse may skip
// loading, nil when dir is fresh, or an error when dir can be neither.
func benchPrevious(dir string, ds benchDataset, reuse bool) (*benchLoad, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !reuse {
		return nil, fmt.Errorf("%s is not empty: give a fresh data directory, or --reuse to query the dataset it holds", dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, benchMarker))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s holds no complete benchmark dataset (no %s): give a fresh data directory", dir, benchMarker)
	}
	if err != nil {
		return nil, err
	}
	var m benchMarkerFile
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", benchMarker, err)
	}
	if m.Dataset != ds {
		return nil, fmt.Errorf("%s holds %d patients, %d observations, seed %d: run with those options or a fresh data directory",
			dir, m.Dataset.Patients, m.Dataset.Observations, m.Dataset.Seed)
	}
	m.Load.Reused = true
	return &m.Load, nil
}

// loadBench writes the dataset: workers (twice the cores, so parsing and
// tokenising go on while others wait for a commit) generate patients,
// parse every resource and write batches of benchBatch ops.
func loadBench(ctx context.Context, g *synth.Generator, st *store.Store, kr *keyring.Keyring, ds benchDataset, progress io.Writer) (benchLoad, error) {
	total := ds.Patients + ds.Observations
	fmt.Fprintf(progress, "loading %d patients and %d observations…\n", ds.Patients, ds.Observations)
	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var done atomic.Int64
	chunks := make(chan int)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			if err := loadWorker(ctx, g, st, kr, ds, chunks, &done); err != nil {
				cancel(err)
			}
		})
	}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	report := func() {
		n, s := done.Load(), time.Since(start).Seconds()
		fmt.Fprintf(progress, "loaded %d/%d resources in %.0fs (%.0f/s)\n", n, total, s, float64(n)/s)
	}
feed:
	for lo := 0; lo < ds.Patients; {
		select {
		case chunks <- lo:
			lo += benchChunk
		case <-tick.C:
			report()
		case <-ctx.Done():
			break feed
		}
	}
	close(chunks)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return benchLoad{}, err
	}
	report()
	el := time.Since(start).Seconds()
	return benchLoad{Resources: total, Seconds: el, PerSecond: float64(total) / el}, nil
}

func loadWorker(ctx context.Context, g *synth.Generator, st *store.Store, kr *keyring.Keyring, ds benchDataset, chunks <-chan int, done *atomic.Int64) error {
	ops := make([]store.Op, 0, benchBatch+ds.PerPatient+1)
	var patients []string
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		if err := createDataKeys(ctx, kr, patients); err != nil {
			return err
		}
		if _, err := st.Write(ctx, benchTenant, ops); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		done.Add(int64(len(ops)))
		ops, patients = ops[:0], patients[:0]
		return nil
	}
	for lo := range chunks {
		for i := lo; i < min(lo+benchChunk, ds.Patients); i++ {
			rec := g.Patient(i)
			// The Patient, then its observations (the only types generated).
			for _, r := range rec.Resources()[:1+ds.obsOf(i)] {
				doc, err := fhir.Parse(r.JSON)
				if err != nil {
					return fmt.Errorf("load: generated %s/%s does not parse: %w", r.Type, r.ID, err)
				}
				ops = append(ops, store.Op{Kind: store.OpCreate, Doc: doc})
			}
			patients = append(patients, rec.PatientID())
			if len(ops) >= benchBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// createDataKeys creates the patients' data keys concurrently. Store.Write
// would create a batch's new keys one after another, each waiting for a
// commit of its own; created together, the writer group-commits them.
func createDataKeys(ctx context.Context, kr *keyring.Keyring, patients []string) error {
	errs := make([]error, len(patients))
	var wg sync.WaitGroup
	for i, p := range patients {
		wg.Go(func() { _, errs[i] = kr.DataKey(ctx, benchTenant, p) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// measureStorage reads page sizes from SQLite's dbstat table on its own
// read-only connection.
func measureStorage(ctx context.Context, path string) (benchStorage, error) {
	s := benchStorage{Method: "dbstat page sizes; bodies by sum(length(body))", Objects: map[string]int64{}}
	db, err := sql.Open("sqlite", path+"?_query_only=1")
	if err != nil {
		return s, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name, sum(pgsize) FROM dbstat GROUP BY name`)
	if err != nil {
		return s, fmt.Errorf("storage: dbstat: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return s, err
		}
		s.Objects[name] = n
		switch {
		case name == "resources" || strings.HasPrefix(name, "resources_"):
			s.ResourceBytes += n
		case name == "current" || strings.HasPrefix(name, "current_") || name == "search_tokens":
			s.IndexBytes += n
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	err = db.QueryRowContext(ctx, `SELECT coalesce(sum(length(body)), 0) FROM resources`).Scan(&s.BodyBytes)
	if err == nil {
		err = db.QueryRowContext(ctx, `SELECT coalesce(sum(length(tokens)), 0) FROM current_tokens`).Scan(&s.TokenBytes)
	}
	if err == nil {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM search_tokens`).Scan(&s.TokenRows)
	}
	if err != nil {
		return s, fmt.Errorf("storage: %w", err)
	}
	if s.BodyBytes > 0 {
		s.Ratio = float64(s.IndexBytes) / float64(s.BodyBytes)
	}
	return s, nil
}

// sampleValues regenerates up to benchSampled patients spread over those
// with observations (generation is deterministic, so --reuse needs no
// state) and collects their values.
func sampleValues(g *synth.Generator, ds benchDataset) (load.Values, error) {
	var v load.Values
	months := map[string]bool{}
	n := min(ds.withObs(), benchSampled)
	for j := range n {
		i := j * ds.withObs() / n
		rec := g.Patient(i)
		res := rec.Resources()[:1+ds.obsOf(i)]
		var p struct {
			Identifier []struct{ System, Value string }
			Name       []struct{ Family string }
		}
		if err := json.Unmarshal(res[0].JSON, &p); err != nil {
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
		v.Patients = append(v.Patients, rec.PatientID())
		for _, r := range res[1:] {
			var o struct {
				Code struct {
					Coding []struct{ System, Code string }
				}
				EffectiveDateTime string
			}
			if err := json.Unmarshal(r.JSON, &o); err != nil {
				return v, err
			}
			if len(o.Code.Coding) > 0 && o.Code.Coding[0].System == "http://loinc.org" {
				v.Codes = append(v.Codes, [2]string{rec.PatientID(), o.Code.Coding[0].Code})
			}
			if t, err := time.Parse(time.RFC3339, o.EffectiveDateTime); err == nil {
				months[t.UTC().Format("2006-01")] = true
			}
		}
	}
	v.Months = slices.Sorted(maps.Keys(months))
	if len(v.Families) == 0 || len(v.Identifiers) == 0 || len(v.Codes) == 0 || len(v.Months) == 0 {
		return v, errors.New("the generated data lacks values for some benchmark queries")
	}
	return v, nil
}

// benchSample is one request's latency and page.
type benchSample struct {
	d                 time.Duration
	matches, included int
}

// runQuery runs q from clients goroutines for d after an unmeasured
// warm-up of a tenth of d (at most a second).
func runQuery(ctx context.Context, eng *index.Engine, q load.Query, v *load.Values, clients int, d time.Duration, seed uint64) (benchResult, error) {
	if _, _, err := hammer(ctx, eng, q, v, clients, min(d/10, time.Second), seed^0x5741524d); err != nil {
		return benchResult{}, err
	}
	samples, elapsed, err := hammer(ctx, eng, q, v, clients, d, seed)
	if err != nil {
		return benchResult{}, err
	}
	r := benchResult{Name: q.Name, Query: q.Query, Requests: len(samples)}
	if len(samples) == 0 {
		return r, nil
	}
	ds := make([]time.Duration, len(samples))
	var matches, included int
	for i, s := range samples {
		ds[i] = s.d
		matches += s.matches
		included += s.included
		if s.matches == 0 {
			r.Empty++
		}
	}
	slices.Sort(ds)
	ms := func(p float64) float64 {
		i := min(max(int(p*float64(len(ds))+0.999999)-1, 0), len(ds)-1) // nearest rank
		return float64(ds[i].Microseconds()) / 1000
	}
	r.PerSecond = float64(len(samples)) / elapsed.Seconds()
	r.P50, r.P95, r.P99 = ms(0.50), ms(0.95), ms(0.99)
	r.Matches = float64(matches) / float64(len(samples))
	r.Included = float64(included) / float64(len(samples))
	return r, nil
}

// hammer runs q from clients goroutines until d has passed; each request
// (search.Parse and Engine.Search) draws its own values.
func hammer(ctx context.Context, eng *index.Engine, q load.Query, v *load.Values, clients int, d time.Duration, seed uint64) ([]benchSample, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	per := make([][]benchSample, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				params := q.Params(v, rng)
				t0 := time.Now()
				sq, err := search.Parse(q.Type, params, false)
				var res index.Result
				if err == nil {
					res, err = eng.Search(ctx, benchTenant, sq, nil, index.Position{})
				}
				if err != nil {
					cancel(fmt.Errorf("%s?%s: %w", q.Type, params.Encode(), err))
					return
				}
				per[c] = append(per[c], benchSample{time.Since(t0), len(res.Matches), len(res.Included)})
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	return slices.Concat(per...), elapsed, nil
}

func printBenchReport(w io.Writer, r benchReport) error {
	ds, ld, s := r.Dataset, r.Load, r.Storage
	fmt.Fprintf(w, "dataset  %d patients, %d observations (up to %d per patient), seed %d; %d CPUs\n",
		ds.Patients, ds.Observations, ds.PerPatient, ds.Seed, r.CPUs)
	how := "loaded by this run"
	if ld.Reused {
		how = "loaded by an earlier run; --reuse"
	}
	fmt.Fprintf(w, "load     %d resources in %s: %.0f resources/s (%s)\n",
		ld.Resources, time.Duration(ld.Seconds*float64(time.Second)).Round(100*time.Millisecond).String(), ld.PerSecond, how)
	fmt.Fprintf(w, "storage  encrypted bodies %s; index %s (search_tokens %s in %d rows, current with its indexes %s); resources table with its indexes %s\n",
		mb(s.BodyBytes), mb(s.IndexBytes), mb(s.Objects["search_tokens"]), s.TokenRows,
		mb(s.IndexBytes-s.Objects["search_tokens"]), mb(s.ResourceBytes))
	verdict := "within"
	if s.Ratio >= 3 {
		verdict = "over"
	}
	fmt.Fprintf(w, "ratio    index / encrypted bodies = %.2f× (%s the 3× target); measured by %s\n\n", s.Ratio, verdict, s.Method)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "query\trequests\t   req/s\t p50 ms\t p95 ms\t p99 ms\tmatches/page\tincluded/page")
	var missed []string
	for _, q := range r.Queries {
		fmt.Fprintf(tw, "%s\t%8d\t%8.1f\t%7.2f\t%7.2f\t%7.2f\t%12.1f\t%13.1f\n", q.Name, q.Requests, q.PerSecond, q.P50, q.P95, q.P99, q.Matches, q.Included)
		if q.P95 >= float64(benchTarget.Milliseconds()) {
			missed = append(missed, q.Name)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d clients, %s per query after a warm-up; p95 target %s: ", r.Clients, r.Duration, benchTarget)
	if len(missed) == 0 {
		fmt.Fprintln(w, "met by every query")
	} else {
		fmt.Fprintln(w, "missed by", strings.Join(missed, ", "))
	}
	for _, q := range r.Queries {
		fmt.Fprintf(w, "  %-20s %s\n", q.Name, q.Query)
	}
	return nil
}

// mb formats a byte count in megabytes.
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
