// Command gen generates the search package's parameter registry
// (registry_gen.go) and the static result types its tests check
// (registry_types_gen_test.go) from the official FHIR R4 search
// parameter definitions. Run it with `go generate ./internal/fhir/search`;
// the binary then needs no data file at run time.
//
// Every definition of type string, token, reference, date, number,
// quantity or uri is split per base resource type (a union of one branch
// per type becomes one expression per type), type-checked against the R4
// schema and compiled by the fhirpath package. Definitions of other
// types, without an expression, or whose expression does not compile are
// listed as unsupported, with the reason.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search/internal/fhirpath"
)

func main() {
	in := flag.String("in", "../../../../shared/data/fhir-r4-core", "directory holding the R4 core definitions")
	out := flag.String("out", "registry_gen.go", "generated registry")
	testOut := flag.String("testout", "registry_types_gen_test.go", "generated test table of static result types")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")

	r, err := build(*in)
	if err != nil {
		log.Fatal(err)
	}
	for file, src := range map[string][]byte{*out: r.emit(), *testOut: r.emitTypes()} {
		f, err := format.Source(src)
		if err != nil {
			log.Fatalf("format %s: %v", file, err)
		}
		if err := os.WriteFile(file, f, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// searchParameter holds the fields of a SearchParameter the generator reads.
type searchParameter struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Code        string   `json:"code"`
	Base        []string `json:"base"`
	Type        string   `json:"type"`
	Expression  string   `json:"expression"`
	Target      []string `json:"target"`
	Comparator  []string `json:"comparator"`
	MultipleOr  *bool    `json:"multipleOr"`
	MultipleAnd *bool    `json:"multipleAnd"`
}

// param is one search parameter of one resource type.
type param struct {
	code, kind, url, expr string
	targets               []string
	noOr, noAnd           bool
	prog                  int
	types                 []string // static types of the selected values
}

// unsupported is a definition, or a definition for one base, left out.
type unsupported struct {
	code, kind, url, reason string
	base                    []string
}

type registry struct {
	targets     [][]string // distinct reference target lists
	progs       []fhirpath.Path
	progIndex   map[string]int
	common      []param            // base Resource: every resource type
	byType      map[string][]param // other parameters per resource type
	unsupported []unsupported
	branches    int // expressions split off multi-base unions
	// compartments maps a compartment type to its member resource types
	// and the parameters that place them in it (CompartmentDefinition).
	compartments map[string]map[string][]string
}

// supportedKinds are the search parameter types values are extracted for.
var supportedKinds = []string{"string", "token", "reference", "date", "number", "quantity", "uri"}

// orderedKinds take the comparison prefixes (eq ne gt lt ge le sa eb ap).
var orderedKinds = []string{"date", "number", "quantity"}

var allComparators = []string{"eq", "ne", "gt", "ge", "lt", "le", "sa", "eb", "ap"}

func build(dir string) (*registry, error) {
	data, err := os.ReadFile(filepath.Join(dir, "search-parameters.json"))
	if err != nil {
		return nil, err
	}
	var b struct {
		Entry []struct {
			Resource searchParameter `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("search-parameters.json: %w", err)
	}
	r := &registry{progIndex: map[string]int{}, byType: map[string][]param{}}
	all := fhir.ResourceTypes()
	for _, e := range b.Entry {
		sp := e.Resource
		if sp.Code == "" || len(sp.Base) == 0 {
			return nil, fmt.Errorf("%s: no code or base", sp.ID)
		}
		if !slices.Contains(supportedKinds, sp.Type) {
			r.skip(sp, sp.Type+" parameters are not supported")
			continue
		}
		if sp.Expression == "" {
			r.skip(sp, "no FHIRPath expression in the definition")
			continue
		}
		// The R4 definitions allow every comparator on ordered types and
		// none on others, and leave multipleOr/multipleAnd unset; the
		// search package relies on that (Param.Comparators).
		if want := slices.Contains(orderedKinds, sp.Type); want != (len(sp.Comparator) > 0) ||
			want && !sameSet(sp.Comparator, allComparators) {
			return nil, fmt.Errorf("%s: unexpected comparators %v", sp.ID, sp.Comparator)
		}
		if err := r.add(sp, all); err != nil {
			return nil, err
		}
	}
	for t := range r.byType {
		slices.SortFunc(r.byType[t], func(a, b param) int { return strings.Compare(a.code, b.code) })
		for i := 1; i < len(r.byType[t]); i++ {
			if r.byType[t][i].code == r.byType[t][i-1].code {
				return nil, fmt.Errorf("%s: parameter %s defined twice", t, r.byType[t][i].code)
			}
		}
	}
	slices.SortFunc(r.common, func(a, b param) int { return strings.Compare(a.code, b.code) })
	if r.compartments, err = readCompartments(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// add splits a definition per base type and compiles each expression.
func (r *registry) add(sp searchParameter, all []string) error {
	branches, err := fhirpath.Branches(sp.Expression)
	if err != nil {
		r.skip(sp, "expression does not parse: "+err.Error())
		return nil
	}
	mk := func(expr string, prog int, types []string) param {
		p := param{code: sp.Code, kind: sp.Type, url: sp.URL, expr: expr, prog: prog, types: types}
		p.targets = slices.Clone(sp.Target)
		slices.Sort(p.targets)
		p.noOr = sp.MultipleOr != nil && !*sp.MultipleOr
		p.noAnd = sp.MultipleAnd != nil && !*sp.MultipleAnd
		return p
	}
	if len(sp.Base) == 1 && (sp.Base[0] == "Resource" || sp.Base[0] == "DomainResource") {
		// Common parameters compile alike for every type: keep one.
		var first fhirpath.Path
		var types []string
		seen := false
		for _, t := range all {
			if sp.Base[0] == "DomainResource" && !fhirpath.IsType(t, "DomainResource") {
				continue
			}
			p, ts, err := fhirpath.Compile(sp.Expression, t)
			if err != nil {
				r.skip(sp, err.Error())
				return nil
			}
			if !seen {
				first, types, seen = p, ts, true
			} else if p.String() != first.String() || !slices.Equal(ts, types) {
				return fmt.Errorf("%s compiles differently for %s", sp.ID, t)
			}
		}
		r.common = append(r.common, mk(sp.Expression, r.program(first), types))
		return nil
	}
	if len(branches) > 1 && len(sp.Base) > 1 {
		r.branches++
	}
	for _, base := range sp.Base {
		if !fhir.IsResourceType(base) {
			return fmt.Errorf("%s: unknown base %s", sp.ID, base)
		}
		var texts []string
		for _, br := range branches {
			if br.Type == "" || br.Type == base || br.Type == "Resource" || br.Type == "DomainResource" {
				texts = append(texts, br.Text)
			}
		}
		if len(texts) == 0 {
			r.skipBase(sp, base, "no branch of the expression starts from "+base)
			continue
		}
		expr := strings.Join(texts, " | ")
		p, ts, err := fhirpath.Compile(expr, base)
		if err != nil {
			r.skipBase(sp, base, err.Error())
			continue
		}
		r.byType[base] = append(r.byType[base], mk(expr, r.program(p), ts))
	}
	return nil
}

// targetSet returns the 1-based index of a target list in targetSets.
func (r *registry) targetSet(t []string) int {
	for i, x := range r.targets {
		if slices.Equal(x, t) {
			return i + 1
		}
	}
	r.targets = append(r.targets, t)
	return len(r.targets)
}

// program returns the index of p in the shared program table.
func (r *registry) program(p fhirpath.Path) int {
	k := p.String()
	if i, ok := r.progIndex[k]; ok {
		return i
	}
	r.progs = append(r.progs, p)
	r.progIndex[k] = len(r.progs) - 1
	return len(r.progs) - 1
}

func (r *registry) skip(sp searchParameter, reason string) {
	r.unsupported = append(r.unsupported, unsupported{code: sp.Code, kind: sp.Type, url: sp.URL, reason: reason, base: sp.Base})
}

func (r *registry) skipBase(sp searchParameter, base, reason string) {
	r.unsupported = append(r.unsupported, unsupported{code: sp.Code, kind: sp.Type, url: sp.URL, reason: reason, base: []string{base}})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// kindConst names the search package's Kind constant for a type.
func kindConst(k string) string {
	switch k {
	case "uri":
		return "URI"
	}
	return strings.ToUpper(k[:1]) + k[1:]
}

// readCompartments reads the R4 CompartmentDefinitions.
func readCompartments(dir string) (map[string]map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "CompartmentDefinition-*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no CompartmentDefinition files in %s", dir)
	}
	out := map[string]map[string][]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cd struct {
			Code     string `json:"code"`
			Resource []struct {
				Code  string   `json:"code"`
				Param []string `json:"param"`
			} `json:"resource"`
		}
		if err := json.Unmarshal(data, &cd); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
		m := map[string][]string{}
		for _, res := range cd.Resource {
			if len(res.Param) > 0 {
				m[res.Code] = res.Param
			}
		}
		out[cd.Code] = m
	}
	return out, nil
}

// emitCompartments writes the compartment table.
func (r *registry) emitCompartments(b *bytes.Buffer) {
	b.WriteString("// compartments maps each R4 compartment type to its member resource types\n")
	b.WriteString("// and the search parameters that place them in it.\n")
	b.WriteString("var compartments = map[string]map[string][]string{\n")
	for _, c := range slices.Sorted(maps.Keys(r.compartments)) {
		fmt.Fprintf(b, "%q: {\n", c)
		for _, t := range slices.Sorted(maps.Keys(r.compartments[c])) {
			fmt.Fprintf(b, "%q: {", t)
			for i, p := range r.compartments[c][t] {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "%q", p)
			}
			b.WriteString("},\n")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
}

func (r *registry) emit() []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/gen from the FHIR R4 search parameter definitions; DO NOT EDIT.\n\n")
	b.WriteString("package search\n\nimport \"github.com/wardhealth/ward/internal/fhir/search/internal/fhirpath\"\n\n")
	fmt.Fprintf(&b, "// programs are the compiled expressions (%d), shared by parameters that compile alike.\n", len(r.progs))
	b.WriteString("var programs = [...]fhirpath.Path{\n")
	for i, p := range r.progs {
		fmt.Fprintf(&b, "/* %d */ ", i)
		writePath(&b, p)
		b.WriteString(",\n")
	}
	b.WriteString("}\n\n")
	types := make([]string, 0, len(r.byType))
	for t := range r.byType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		for _, p := range r.byType[t] {
			if len(p.targets) > 0 {
				r.targetSet(p.targets)
			}
		}
	}
	fmt.Fprintf(&b, "// targetSets are the distinct reference target lists (%d).\n", len(r.targets))
	b.WriteString("var targetSets = [...][]string{\n")
	for i, t := range r.targets {
		fmt.Fprintf(&b, "/* %d */ %s,\n", i, stringSlice(t))
	}
	b.WriteString("}\n\n")
	b.WriteString("// common are the parameters of every resource type (base Resource), sorted by code.\n")
	b.WriteString("var common = [...]Param{\n")
	for _, p := range r.common {
		r.writeParam(&b, p)
	}
	b.WriteString("}\n\n")
	n := 0
	for _, t := range types {
		n += len(r.byType[t])
	}
	fmt.Fprintf(&b, "// byType lists the other parameters (%d) of each resource type, sorted by type and code.\n", n)
	b.WriteString("var byType = [...]typeParams{\n")
	for _, t := range types {
		fmt.Fprintf(&b, "{%q, []Param{\n", t)
		for _, p := range r.byType[t] {
			r.writeParam(&b, p)
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n\n")
	fmt.Fprintf(&b, "// unsupported lists the definitions (or definitions for one base) left out (%d).\n", len(r.unsupported))
	b.WriteString("var unsupported = [...]Unsupported{\n")
	for _, u := range r.unsupported {
		fmt.Fprintf(&b, "{Code: %q, Type: %s, Base: %s, Definition: %q, Reason: %q},\n",
			u.code, kindConst(u.kind), stringSlice(u.base), u.url, u.reason)
	}
	b.WriteString("}\n\n")
	r.emitCompartments(&b)
	return b.Bytes()
}

func (r *registry) writeParam(b *bytes.Buffer, p param) {
	fmt.Fprintf(b, "{Code: %q, Type: %s, ", p.code, kindConst(p.kind))
	if len(p.targets) > 0 {
		fmt.Fprintf(b, "targets: %d, ", r.targetSet(p.targets))
	}
	if p.noOr {
		b.WriteString("noOr: true, ")
	}
	if p.noAnd {
		b.WriteString("noAnd: true, ")
	}
	fmt.Fprintf(b, "Expression: %q, Definition: %q, prog: %d},\n", p.expr, p.url, p.prog)
}

func stringSlice(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return "[]string{" + strings.Join(q, ", ") + "}"
}

// writePath writes a Path as a composite literal.
func writePath(b *bytes.Buffer, p fhirpath.Path) {
	b.WriteString("{")
	for i, s := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "{Op: fhirpath.%s", opConst(s.Op))
		if s.Name != "" {
			fmt.Fprintf(b, ", Name: %q", s.Name)
		}
		if len(s.Names) > 0 {
			fmt.Fprintf(b, ", Names: %s", stringSlice(s.Names))
		}
		if s.N != 0 {
			fmt.Fprintf(b, ", N: %d", s.N)
		}
		if len(s.Args) > 0 {
			b.WriteString(", Args: []fhirpath.Path{")
			for j, a := range s.Args {
				if j > 0 {
					b.WriteString(", ")
				}
				writePath(b, a)
			}
			b.WriteString("}")
		}
		b.WriteString("}")
	}
	b.WriteString("}")
}

func opConst(o fhirpath.Op) string {
	names := map[fhirpath.Op]string{
		fhirpath.Child: "Child", fhirpath.Index: "Index", fhirpath.Where: "Where", fhirpath.As: "As",
		fhirpath.Is: "Is", fhirpath.Exists: "Exists", fhirpath.Not: "Not", fhirpath.Resolve: "Resolve",
		fhirpath.Extension: "Extension", fhirpath.Union: "Union", fhirpath.And: "And", fhirpath.Or: "Or",
		fhirpath.Eq: "Eq", fhirpath.NotEq: "NotEq", fhirpath.Str: "Str", fhirpath.Bool: "Bool", fhirpath.Int: "Int",
	}
	n, ok := names[o]
	if !ok {
		panic("gen: unknown op " + o.String())
	}
	return n
}

// emitTypes writes the static types of the values each parameter selects,
// keyed "Type.code" ("Resource.code" for the common parameters), for the
// search package's test that every one of them can be extracted.
func (r *registry) emitTypes() []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/gen from the FHIR R4 search parameter definitions; DO NOT EDIT.\n\n")
	b.WriteString("package search\n\n")
	b.WriteString("// staticTypes are the types of the values each parameter's expression selects, by \"Type.code\".\n")
	b.WriteString("var staticTypes = map[string][]string{\n")
	for _, p := range r.common {
		fmt.Fprintf(&b, "%q: %s,\n", "Resource."+p.code, stringSlice(p.types))
	}
	types := make([]string, 0, len(r.byType))
	for t := range r.byType {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		for _, p := range r.byType[t] {
			fmt.Fprintf(&b, "%q: %s,\n", t+"."+p.code, stringSlice(p.types))
		}
	}
	b.WriteString("}\n")
	return b.Bytes()
}
