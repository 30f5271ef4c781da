// Package synth generates deterministic, realistic and entirely
// synthetic FHIR R4 patient data for benchmarks and tests: Patients with
// names, addresses, telecom, identifiers and birth dates across all ages
// (over 89 included), and their Encounters, Conditions, Observations,
// MedicationRequests and clinical notes (DocumentReference).
//
// Everything is a function of the seed, the Options and the patient
// index: Patient(i) needs neither patients 0..i-1 nor any state, so
// ranges can be generated in parallel or skipped to, and the writers
// (WriteBundles, WriteNDJSON) produce the same bytes on any machine and
// at any GOMAXPROCS. Names, places and codes come from small tables
// compiled into the package; nothing describes a real person.
// docs/decisions/0007-synthetic-data.md records the design and figures.
package synth

import (
	"errors"
	"fmt"
	"time"
)

// Options sets how much is generated per patient. Counts are exact for
// every patient, so totals are the count times the number of patients.
type Options struct {
	Encounters         int // Encounters per patient
	Conditions         int // Conditions per patient
	Observations       int // Observations per patient
	MedicationRequests int // MedicationRequests per patient
	Notes              int // DocumentReferences (clinical notes) per patient

	// AsOf is the date the data describes: ages are counted to it and
	// every encounter lies in the ten years before it. Only its UTC date
	// counts; the zero value means 2025-01-01.
	AsOf time.Time
}

// defaultAsOf is the reference date when Options.AsOf is zero.
func defaultAsOf() time.Time { return time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC) }

// MaxPerPatient bounds each count in Options.
const MaxPerPatient = 1000

// DefaultOptions returns 3 encounters, 2 conditions, 10 observations,
// 2 medication requests and 1 note per patient (19 resources with the
// Patient), as of 2025-01-01.
func DefaultOptions() Options {
	return Options{Encounters: 3, Conditions: 2, Observations: 10, MedicationRequests: 2, Notes: 1, AsOf: defaultAsOf()}
}

// ErrOptions is wrapped by New for invalid options.
var ErrOptions = errors.New("synth: invalid options")

// Generator generates patients for one seed and set of options. It holds
// no mutable state: all methods may be called concurrently.
type Generator struct {
	seed uint64 // mixed seed
	opts Options
	asOf time.Time // opts.AsOf, as a UTC date
	// offsets of the identifier permutations (see patient.go)
	mrnOff, ssnOff, dlOff int
}

// New returns a generator for seed and opts.
func New(seed int64, opts Options) (*Generator, error) {
	for _, c := range []struct {
		name string
		n    int
	}{
		{"Encounters", opts.Encounters}, {"Conditions", opts.Conditions}, {"Observations", opts.Observations},
		{"MedicationRequests", opts.MedicationRequests}, {"Notes", opts.Notes},
	} {
		if c.n < 0 || c.n > MaxPerPatient {
			return nil, fmt.Errorf("%w: %s must be between 0 and %d", ErrOptions, c.name, MaxPerPatient)
		}
	}
	asOf := opts.AsOf
	if asOf.IsZero() {
		asOf = defaultAsOf()
	}
	y, m, d := asOf.UTC().Date()
	if y < 1900 || y > 9000 {
		return nil, fmt.Errorf("%w: AsOf must be between the years 1900 and 9000", ErrOptions)
	}
	opts.AsOf = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	s := mix64(uint64(seed))
	return &Generator{
		seed:   s,
		opts:   opts,
		asOf:   opts.AsOf,
		mrnOff: int(mix64(s^0x6d726e) % mrnSpace),
		ssnOff: int(mix64(s^0x73736e) % ssnSpace),
		dlOff:  int(mix64(s^0x646c) % dlSpace),
	}, nil
}

// Options returns the options in effect (AsOf filled in).
func (g *Generator) Options() Options { return g.opts }

// ResourcesPerPatient is the number of resources each patient yields.
func (g *Generator) ResourcesPerPatient() int {
	o := g.opts
	return 1 + o.Encounters + o.Conditions + o.Observations + o.MedicationRequests + o.Notes
}

// ResourceTypes lists the generated resource types in the order each
// patient's resources come in (references point only backwards).
func ResourceTypes() []string { return append([]string(nil), typeNames[:]...) }

// Resource types, in output order.
const (
	tPatient = iota
	tEncounter
	tCondition
	tObservation
	tMedicationRequest
	tDocumentReference
	nTypes
)

var typeNames = [nTypes]string{"Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "DocumentReference"}

// Patient generates patient i and everything recorded about them. It
// panics if i is negative.
func (g *Generator) Patient(i int) *Record {
	if i < 0 {
		panic("synth: negative patient index")
	}
	return &Record{Index: i, r: g.record(i)}
}

// Record is one generated patient with their resources.
type Record struct {
	Index int // the patient index it was generated for
	r     *record
}

// PatientID is the id of the Patient resource (a UUID).
func (r *Record) PatientID() string { return r.r.pat.id.String() }

// Resource is one generated resource as JSON.
type Resource struct {
	Type string // resourceType
	ID   string // id, a UUID derived from the seed, patient index, type and position
	JSON []byte // compact JSON with id set and relative references (Patient/<id>)
}

// Resources returns the patient's resources in dependency order (the
// Patient first, then Encounters, Conditions, Observations,
// MedicationRequests and DocumentReferences), as the REST API or NDJSON
// bulk data carries them: with ids, referring to each other by
// Type/<id>.
func (r *Record) Resources() []Resource {
	rec := r.r
	out := make([]Resource, 0, rec.total())
	// One buffer for all: each JSON is a full slice expression of it, so
	// appending to one cannot overwrite the next.
	buf := make([]byte, 0, 1024*rec.total()+2048*len(rec.notes))
	for t := range nTypes {
		for k := range rec.count(t) {
			start := len(buf)
			buf = rec.appendResource(buf, t, k, styleREST)
			out = append(out, Resource{
				Type: typeNames[t],
				ID:   rec.id(t, k).String(),
				JSON: buf[start:len(buf):len(buf)],
			})
		}
	}
	return out
}

// AppendBundle appends the patient as a FHIR transaction Bundle: one
// POST entry per resource, without ids, each with a urn:uuid fullUrl
// that the other entries' references use.
func (r *Record) AppendBundle(dst []byte) []byte {
	rec := r.r
	dst = append(dst, `{"resourceType":"Bundle","type":"transaction","entry":[`...)
	first := true
	for t := range nTypes {
		for k := range rec.count(t) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, `{"fullUrl":"urn:uuid:`...)
			dst = rec.id(t, k).append(dst)
			dst = append(dst, `","resource":`...)
			dst = rec.appendResource(dst, t, k, styleBundle)
			dst = append(dst, `,"request":{"method":"POST","url":"`...)
			dst = append(dst, typeNames[t]...)
			dst = append(dst, `"}}`...)
		}
	}
	return append(dst, "]}"...)
}
