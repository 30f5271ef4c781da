package fhir

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// Benchmark inputs: a ~2 KB Observation and a ~3.7 KB Patient from the R4
// examples, and the largest Synthea transaction Bundle for throughput.
var benchFiles = []struct{ name, path string }{
	{"Observation", "fhir-r4-examples/Observation-example.json"},
	{"Patient", "fhir-r4-examples/Patient-example.json"},
	{"SyntheaBundle", "synthea-r4/Fletcher_Hyatt_fe0562b5-f517-4951-8366-32fdab088930.json"},
}

func benchData(b *testing.B, path string) []byte {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, path))
	if err != nil {
		b.Skipf("test data absent: %v", err)
	}
	return data
}

// BenchmarkParse measures Parse: decoding and full validation.
func BenchmarkParse(b *testing.B) {
	for _, f := range benchFiles {
		b.Run(f.name, func(b *testing.B) {
			data := benchData(b, f.path)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMarshal measures Marshal of a parsed resource.
func BenchmarkMarshal(b *testing.B) {
	for _, f := range benchFiles {
		b.Run(f.name, func(b *testing.B) {
			data := benchData(b, f.path)
			r, err := Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaselineMap is the reference point: encoding/json into
// map[string]any and back, which checks no FHIR rule at all.
func BenchmarkBaselineMap(b *testing.B) {
	for _, f := range benchFiles {
		data := benchData(b, f.path)
		b.Run("Unmarshal/"+f.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var m map[string]any
				if err := json.Unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Marshal/"+f.name, func(b *testing.B) {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaselineJSONText measures only reading every token with
// go-json-experiment's jsontext.Decoder (which rejects duplicate names and
// invalid UTF-8): the floor of a validator built on its token stream.
func BenchmarkBaselineJSONText(b *testing.B) {
	for _, f := range benchFiles {
		b.Run(f.name, func(b *testing.B) {
			data := benchData(b, f.path)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			r := bytes.NewReader(data)
			d := jsontext.NewDecoder(r)
			for b.Loop() {
				r.Reset(data)
				d.Reset(r)
				for {
					tok, err := d.ReadToken()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if tok.Kind() == '"' {
						_ = tok.String()
					}
				}
			}
		})
	}
}
