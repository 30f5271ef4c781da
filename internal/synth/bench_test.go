package synth

import (
	"context"
	"io"
	"testing"
	"time"
)

// The figures in docs/decisions/0007-synthetic-data.md come from
//
//	go test -run XXX -bench . -benchmem ./internal/synth/
//
// resources/s counts generated resources (a Bundle is not counted);
// MB/s is output bytes. Patient runs on one goroutine (the per-core
// figure); the writers use GOMAXPROCS workers.

// BenchmarkPatient measures generating one patient and writing it as a
// transaction Bundle, on one core.
func BenchmarkPatient(b *testing.B) {
	g := newGen(b, 1, DefaultOptions())
	var buf []byte
	var bytes, resources int
	i := 0
	start := time.Now()
	for b.Loop() {
		rec := g.Patient(i)
		buf = rec.AppendBundle(buf[:0])
		bytes += len(buf)
		resources += rec.r.total()
		i++
	}
	b.SetBytes(int64(bytes / max(i, 1)))
	b.ReportMetric(float64(resources)/time.Since(start).Seconds(), "resources/s")
}

// BenchmarkPatientResources measures generating one patient as
// separate resources (Record.Resources, the REST and NDJSON form).
func BenchmarkPatientResources(b *testing.B) {
	g := newGen(b, 1, DefaultOptions())
	var bytes, resources int
	i := 0
	start := time.Now()
	for b.Loop() {
		for _, r := range g.Patient(i).Resources() {
			bytes += len(r.JSON)
			resources++
		}
		i++
	}
	b.SetBytes(int64(bytes / max(i, 1)))
	b.ReportMetric(float64(resources)/time.Since(start).Seconds(), "resources/s")
}

const benchPatients = 1000

func benchWrite(b *testing.B, write func(g *Generator, from, to int) (Stats, error)) {
	g := newGen(b, 1, DefaultOptions())
	var st Stats
	from := 0
	start := time.Now()
	for b.Loop() {
		s, err := write(g, from, from+benchPatients)
		if err != nil {
			b.Fatal(err)
		}
		st.Bytes += s.Bytes
		st.Resources += s.Resources
		st.Patients += s.Patients
		from += benchPatients
	}
	b.SetBytes(st.Bytes / int64(max(st.Patients/benchPatients, 1)))
	b.ReportMetric(float64(st.Resources)/time.Since(start).Seconds(), "resources/s")
}

// BenchmarkWriteBundles measures WriteBundles of 1,000 patients.
func BenchmarkWriteBundles(b *testing.B) {
	benchWrite(b, func(g *Generator, from, to int) (Stats, error) {
		return g.WriteBundles(context.Background(), io.Discard, from, to)
	})
}

// BenchmarkWriteNDJSON measures WriteNDJSON of 1,000 patients, all
// types.
func BenchmarkWriteNDJSON(b *testing.B) {
	out := map[string]io.Writer{}
	for _, typ := range ResourceTypes() {
		out[typ] = io.Discard
	}
	benchWrite(b, func(g *Generator, from, to int) (Stats, error) {
		return g.WriteNDJSON(context.Background(), out, from, to)
	})
}
