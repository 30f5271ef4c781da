package search

import (
	"os"
	"path/filepath"
	"testing"

	gofhir "github.com/gofhir/fhirpath"

	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search/internal/fhirpath"
)

// The inputs of the fhir package's benchmarks (0001): a 2 KB Observation,
// a 3.7 KB Patient and the largest Synthea Bundle.
var benchFiles = map[string]string{
	"Observation": "fhir-r4-examples/Observation-example.json",
	"Patient":     "fhir-r4-examples/Patient-example.json",
}

const benchBundle = "synthea-r4/Fletcher_Hyatt_fe0562b5-f517-4951-8366-32fdab088930.json"

func benchResource(b *testing.B, file string) (*fhir.Resource, []byte) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, file))
	if err != nil {
		b.Skipf("test data absent: %v", err)
	}
	r, err := fhir.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	out, err := r.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return r, out
}

// BenchmarkExtract is the write-time cost of extraction from a parsed
// resource (the tree Parse built; nothing is re-read).
func BenchmarkExtract(b *testing.B) {
	for _, name := range []string{"Observation", "Patient"} {
		b.Run(name, func(b *testing.B) {
			r, _ := benchResource(b, benchFiles[name])
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Extract(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("PatientAppend", func(b *testing.B) {
		r, _ := benchResource(b, benchFiles["Patient"])
		var vs []Value
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if vs, err = AppendExtract(vs[:0], r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SyntheaBundleEntries", func(b *testing.B) {
		bundle := syntheaEntries(b)
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range bundle {
				if _, err := Extract(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bundle)), "ns/resource")
	})
}

func syntheaEntries(b *testing.B) []*fhir.Resource {
	r, _ := benchResource(b, benchBundle)
	bundle, err := r.Bundle()
	if err != nil {
		b.Fatal(err)
	}
	var out []*fhir.Resource
	for _, e := range bundle.Entries {
		if e.Resource != nil {
			out = append(out, e.Resource)
		}
	}
	return out
}

// BenchmarkOracle evaluates the same parameters with gofhir/fhirpath
// (compiled once), for comparison: the figure per resource, and per
// evaluation as ns/eval.
func BenchmarkOracle(b *testing.B) {
	for _, name := range []string{"Observation", "Patient"} {
		b.Run(name, func(b *testing.B) {
			r, data := benchResource(b, benchFiles[name])
			var exprs []*gofhir.Expression
			for _, p := range Params(r.Type()) {
				exprs = append(exprs, gofhir.MustCompile(p.Expression))
			}
			opt := gofhir.WithResolver(typeResolver{r.Root()})
			b.ReportAllocs()
			for b.Loop() {
				for _, e := range exprs {
					if _, err := e.EvaluateWithOptions(data, opt); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(exprs)), "ns/eval")
		})
		b.Run(name+"Uncompiled", func(b *testing.B) {
			r, data := benchResource(b, benchFiles[name])
			ps := Params(r.Type())
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range ps {
					if _, err := gofhir.Evaluate(data, p.Expression); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/eval")
		})
	}
}

// BenchmarkEvaluate is the compiled expressions alone (no value
// conversion), per resource and per evaluation.
func BenchmarkEvaluate(b *testing.B) {
	for _, name := range []string{"Observation", "Patient"} {
		b.Run(name, func(b *testing.B) {
			r, _ := benchResource(b, benchFiles[name])
			ps := Params(r.Type())
			var ev fhirpath.Evaluator
			var items []fhirpath.Item
			b.ReportAllocs()
			for b.Loop() {
				ev.Reset(r.Root())
				for _, p := range ps {
					items = ev.Eval(programs[p.prog], items[:0])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/eval")
		})
	}
}

// BenchmarkReread is the other way to reach the values: Marshal the
// resource and read the JSON again with a minimal reader of our own that
// builds a tree without validating or unescaping anything. It is a lower
// bound for that design (the tree still has to be walked afterwards).
func BenchmarkReread(b *testing.B) {
	for _, name := range []string{"Observation", "Patient"} {
		b.Run(name, func(b *testing.B) {
			r, _ := benchResource(b, benchFiles[name])
			b.ReportAllocs()
			for b.Loop() {
				data, err := r.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				var rd jsonReader
				if _, ok := rd.read(data); !ok {
					b.Fatal("reread failed")
				}
			}
		})
	}
}

// jsonNode and jsonReader are the minimal re-reading tree for
// BenchmarkReread.
type jsonNode struct {
	name string
	val  string // primitive literal, quotes included
	kids []jsonNode
}

type jsonReader struct {
	buf []byte
	pos int
}

func (r *jsonReader) read(b []byte) (jsonNode, bool) {
	r.buf, r.pos = b, 0
	return r.value()
}

func (r *jsonReader) value() (jsonNode, bool) {
	if r.pos >= len(r.buf) {
		return jsonNode{}, false
	}
	switch c := r.buf[r.pos]; c {
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		r.pos++
		var n jsonNode
		for r.pos < len(r.buf) && r.buf[r.pos] != end {
			var kid jsonNode
			if c == '{' {
				s, ok := r.str()
				if !ok || r.pos >= len(r.buf) || r.buf[r.pos] != ':' {
					return n, false
				}
				r.pos++
				kid, ok = r.value()
				if !ok {
					return n, false
				}
				kid.name = s
			} else {
				var ok bool
				if kid, ok = r.value(); !ok {
					return n, false
				}
			}
			n.kids = append(n.kids, kid)
			if r.pos < len(r.buf) && r.buf[r.pos] == ',' {
				r.pos++
			}
		}
		r.pos++
		return n, true
	case '"':
		start := r.pos
		_, ok := r.str()
		return jsonNode{val: string(r.buf[start:r.pos])}, ok
	default:
		start := r.pos
		for r.pos < len(r.buf) && r.buf[r.pos] != ',' && r.buf[r.pos] != '}' && r.buf[r.pos] != ']' {
			r.pos++
		}
		return jsonNode{val: string(r.buf[start:r.pos])}, true
	}
}

func (r *jsonReader) str() (string, bool) {
	if r.pos >= len(r.buf) || r.buf[r.pos] != '"' {
		return "", false
	}
	start := r.pos + 1
	for i := start; i < len(r.buf); i++ {
		switch r.buf[i] {
		case '\\':
			i++
		case '"':
			r.pos = i + 1
			return string(r.buf[start:i]), true
		}
	}
	return "", false
}
