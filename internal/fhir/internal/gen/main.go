// Command gen generates the fhir package's schema tables (schema_gen.go)
// and the primitive regex table used by its tests (regex_gen_test.go)
// from the official FHIR R4 definitions. Run it with `go generate
// ./internal/fhir`; the binary then needs no data file at run time.
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"strings"
)

func main() {
	in := flag.String("in", "../../../shared/data/fhir-r4-core", "directory holding the R4 core definitions")
	out := flag.String("out", "schema_gen.go", "generated schema file")
	testOut := flag.String("testout", "regex_gen_test.go", "generated test file with the primitive regexes")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")

	sch, err := build(*in)
	if err != nil {
		log.Fatal(err)
	}
	src, err := format.Source(sch.emit())
	if err != nil {
		log.Fatalf("format schema: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
	tsrc, err := format.Source(sch.emitRegexTest())
	if err != nil {
		log.Fatalf("format regex test: %v", err)
	}
	if err := os.WriteFile(*testOut, tsrc, 0o644); err != nil {
		log.Fatal(err)
	}
}

// Input shapes (only the fields the generator reads).

type bundle struct {
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type structureDefinition struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	Kind         string `json:"kind"`
	Abstract     bool   `json:"abstract"`
	Derivation   string `json:"derivation"`
	Snapshot     struct {
		Element []elementDefinition `json:"element"`
	} `json:"snapshot"`
}

type elementDefinition struct {
	Path             string `json:"path"`
	Min              int    `json:"min"`
	Max              string `json:"max"`
	ContentReference string `json:"contentReference"`
	Type             []struct {
		Code      string `json:"code"`
		Extension []struct {
			URL         string `json:"url"`
			ValueURL    string `json:"valueUrl"`
			ValueString string `json:"valueString"`
		} `json:"extension"`
	} `json:"type"`
}

type searchParameter struct {
	Code       string   `json:"code"`
	Base       []string `json:"base"`
	Type       string   `json:"type"`
	Expression string   `json:"expression"`
}

type compartmentDefinition struct {
	Code     string `json:"code"`
	Resource []struct {
		Code  string   `json:"code"`
		Param []string `json:"param"`
	} `json:"resource"`
}

const (
	extFHIRType = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
	extRegex    = "http://hl7.org/fhir/StructureDefinition/regex"
	systemType  = "http://hl7.org/fhirpath/System."
)

// Kinds, mirrored by the constants in the fhir package (schema.go).
const (
	kindPrimitive   = 1
	kindComplex     = 2
	kindResource    = 3
	kindBackbone    = 4
	kindAnyResource = 5
)

var kindNames = map[int]string{
	kindPrimitive:   "kindPrimitive",
	kindComplex:     "kindComplex",
	kindResource:    "kindResource",
	kindBackbone:    "kindBackbone",
	kindAnyResource: "kindAnyResource",
}

type genElem struct {
	name     string // JSON name
	typeName string // name of the element's type in the type table
	array    bool
	required bool
	attr     bool   // primitive without a `_name` form (System.* types, xhtml)
	choice   string // choice base name ("value") or ""
}

type genType struct {
	name    string
	kind    int
	elems   []genElem
	regex   string   // primitives
	patient []string // patient compartment paths (resources)
	id      int
}

type schema struct {
	types    []*genType
	byName   map[string]*genType
	unmapped []string
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func readSDs(path string) ([]structureDefinition, error) {
	var b bundle
	if err := readJSON(path, &b); err != nil {
		return nil, err
	}
	var out []structureDefinition
	for _, e := range b.Entry {
		var sd structureDefinition
		if err := json.Unmarshal(e.Resource, &sd); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if sd.ResourceType != "StructureDefinition" {
			continue
		}
		out = append(out, sd)
	}
	return out, nil
}
