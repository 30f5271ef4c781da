package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// dataDir is the shared test data, cloned beside the repository.
const dataDir = "../../../shared/data"

// dataFiles lists the JSON files of a data folder, skipping the test when
// the folder is absent.
func dataFiles(t testing.TB, folder string) []string {
	t.Helper()
	dir := filepath.Join(dataDir, folder)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("test data folder %s is absent: %v", dir, err)
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".json") && filepath.Base(path) != "package.json" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameJSON compares two JSON texts as values, numbers by their literal text.
func sameJSON(a, b []byte) (bool, error) {
	decode := func(data []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	va, err := decode(a)
	if err != nil {
		return false, err
	}
	vb, err := decode(b)
	if err != nil {
		return false, err
	}
	return reflect.DeepEqual(va, vb), nil
}

// roundTrip parses, marshals and compares one file. It returns "" on
// success, else why it failed.
func roundTrip(data []byte) string {
	r, err := Parse(data)
	if err != nil {
		var b strings.Builder
		b.WriteString("parse: ")
		if e, ok := err.(*Error); ok {
			for i, is := range e.Issues {
				if i == 5 {
					b.WriteString("; …")
					break
				}
				if i > 0 {
					b.WriteString("; ")
				}
				b.WriteString(is.Code + " " + is.Diagnostics + " @ " + strings.Join(is.Expression, ","))
			}
		} else {
			b.WriteString(err.Error())
		}
		return b.String()
	}
	out, err := r.Marshal()
	if err != nil {
		return "marshal: " + err.Error()
	}
	same, err := sameJSON(data, out)
	if err != nil {
		return "compare: " + err.Error()
	}
	if !same {
		return "output differs from input"
	}
	if bytes.Contains(out, []byte("\n")) {
		return "output is not compact"
	}
	return ""
}

// knownInvalid lists example files that are invalid against the R4 base
// definitions, with the first issue Parse must report for them. Each is
// justified in docs/decisions/0001-fhir-parsing.md.
var knownInvalid = map[string]struct{ code, expr string }{
	// Nested display items lack linkId, which R4 requires (1..1).
	"Questionnaire-qs1.json": {"required", "Questionnaire.item[0].item[0].linkId"},
}

func testRoundTrip(t *testing.T, folder string) {
	files := dataFiles(t, folder)
	pass, total := 0, 0
	var failures, exceptions []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(`"resourceType"`)) {
			continue // not a resource (licences, manifests)
		}
		total++
		name := filepath.Base(f)
		if want, ok := knownInvalid[name]; ok {
			_, err := Parse(data)
			var e *Error
			if errors.As(err, &e) && e.Issues[0].Code == want.code && strings.Join(e.Issues[0].Expression, "") == want.expr {
				exceptions = append(exceptions, name)
				continue
			}
			failures = append(failures, name+": not rejected as documented: "+fmt.Sprint(err))
			continue
		}
		if why := roundTrip(data); why != "" {
			failures = append(failures, name+": "+why)
			continue
		}
		pass++
	}
	t.Logf("round trip: %d/%d %s (documented exceptions, rejected as expected: %q)", pass, total, folder, exceptions)
	for _, f := range failures {
		t.Error(f)
	}
}

func TestRoundTripExamples(t *testing.T)  { testRoundTrip(t, "fhir-r4-examples") }
func TestRoundTripSynthea(t *testing.T)   { testRoundTrip(t, "synthea-r4") }
func TestRoundTripUSCore(t *testing.T)    { testRoundTrip(t, "us-core") }
func TestRoundTripMSSamples(t *testing.T) { testRoundTrip(t, "ms-anonymizer-samples") }
