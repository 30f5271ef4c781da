package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

func build(dir string) (*schema, error) {
	typeSDs, err := readSDs(filepath.Join(dir, "profiles-types.json"))
	if err != nil {
		return nil, err
	}
	resSDs, err := readSDs(filepath.Join(dir, "profiles-resources.json.gz"))
	if err != nil {
		return nil, err
	}
	s := &schema{byName: map[string]*genType{}}
	add := func(t *genType) error {
		if s.byName[t.name] != nil {
			return fmt.Errorf("duplicate type %s", t.name)
		}
		s.byName[t.name] = t
		s.types = append(s.types, t)
		return nil
	}
	var structural []structureDefinition
	for _, sd := range append(typeSDs, resSDs...) {
		if sd.Derivation == "constraint" {
			continue // profiles (SimpleQuantity, MoneyQuantity) are not JSON types
		}
		switch sd.Kind {
		case "primitive-type":
			t := &genType{name: sd.Type, kind: kindPrimitive}
			for _, el := range sd.Snapshot.Element {
				if el.Path == sd.Type+".value" && len(el.Type) == 1 {
					for _, x := range el.Type[0].Extension {
						if x.URL == extRegex {
							t.regex = x.ValueString
						}
					}
				}
			}
			if err := add(t); err != nil {
				return nil, err
			}
		case "complex-type", "resource":
			structural = append(structural, sd)
		default:
			return nil, fmt.Errorf("%s: unexpected kind %q", sd.ID, sd.Kind)
		}
	}
	if err := add(&genType{name: "Resource", kind: kindAnyResource}); err != nil {
		return nil, err
	}
	for _, sd := range structural {
		if sd.Kind == "resource" && sd.Abstract {
			continue // Resource and DomainResource have no instances
		}
		if err := s.addStructure(sd, add); err != nil {
			return nil, fmt.Errorf("%s: %w", sd.ID, err)
		}
	}
	// Every referenced type must exist.
	for _, t := range s.types {
		for _, e := range t.elems {
			if s.byName[e.typeName] == nil {
				return nil, fmt.Errorf("%s.%s: unknown type %s", t.name, e.name, e.typeName)
			}
		}
	}
	if err := s.compartment(dir); err != nil {
		return nil, err
	}
	s.number()
	return s, nil
}

// addStructure adds the type defined by sd and one backbone type per
// nested BackboneElement/Element.
func (s *schema) addStructure(sd structureDefinition, add func(*genType) error) error {
	els := sd.Snapshot.Element
	if len(els) == 0 || els[0].Path != sd.Type {
		return fmt.Errorf("snapshot does not start at %s", sd.Type)
	}
	kind := kindComplex
	if sd.Kind == "resource" {
		kind = kindResource
	}
	structs := map[string]*genType{sd.Type: {name: sd.Type, kind: kind}}
	order := []string{sd.Type}
	for _, el := range els[1:] {
		parentPath, last := splitLast(el.Path)
		parent := structs[parentPath]
		if parent == nil {
			return fmt.Errorf("%s: parent not a structure", el.Path)
		}
		if el.Max == "0" {
			continue
		}
		array := el.Max != "1"
		required := el.Min >= 1
		if el.ContentReference != "" {
			ref := strings.TrimPrefix(el.ContentReference, "#")
			parent.elems = append(parent.elems, genElem{name: last, typeName: ref, array: array, required: required})
			continue
		}
		if len(el.Type) == 0 {
			return fmt.Errorf("%s: no type", el.Path)
		}
		if base, ok := strings.CutSuffix(last, "[x]"); ok {
			for _, ty := range el.Type {
				tn := ty.Code
				if strings.HasPrefix(tn, systemType) {
					return fmt.Errorf("%s: system type in choice", el.Path)
				}
				parent.elems = append(parent.elems, genElem{
					name: base + strings.ToUpper(tn[:1]) + tn[1:], typeName: tn,
					array: array, required: required, choice: base,
				})
			}
			continue
		}
		if len(el.Type) != 1 {
			return fmt.Errorf("%s: %d types on a non-choice element", el.Path, len(el.Type))
		}
		ty := el.Type[0]
		e := genElem{name: last, typeName: ty.Code, array: array, required: required}
		switch {
		case strings.HasPrefix(ty.Code, systemType):
			// Element.id, Extension.url and Resource.id: JSON properties
			// without the `_name` extension form.
			e.attr = true
			e.typeName = ""
			for _, x := range ty.Extension {
				if x.URL == extFHIRType {
					e.typeName = x.ValueURL
				}
			}
			if el.Path == sd.Type+".id" && kind == kindResource {
				// The R4 snapshot says System.String/"string", but the
				// specification (Resource page, JSON schema) types the
				// logical id as `id`.
				e.typeName = "id"
			}
			if e.typeName == "" {
				return fmt.Errorf("%s: system type without fhir-type", el.Path)
			}
		case ty.Code == "xhtml":
			e.attr = true // xhtml.extension has max 0: no `_div`
		case ty.Code == "BackboneElement" || ty.Code == "Element":
			e.typeName = el.Path
			structs[el.Path] = &genType{name: el.Path, kind: kindBackbone}
			order = append(order, el.Path)
		}
		parent.elems = append(parent.elems, e)
	}
	for _, p := range order {
		if err := add(structs[p]); err != nil {
			return err
		}
	}
	return nil
}

func splitLast(path string) (string, string) {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return "", path
	}
	return path[:i], path[i+1:]
}

// number assigns the type ids: 0 is invalid, then primitives, complex
// types, the abstract Resource, resources and backbone elements, each
// group sorted by name.
func (s *schema) number() {
	sort.SliceStable(s.types, func(i, j int) bool {
		a, b := s.types[i], s.types[j]
		if ka, kb := groupOf(a.kind), groupOf(b.kind); ka != kb {
			return ka < kb
		}
		return a.name < b.name
	})
	for i, t := range s.types {
		t.id = i + 1
		sort.SliceStable(t.elems, func(i, j int) bool { return t.elems[i].name < t.elems[j].name })
	}
}

func groupOf(kind int) int {
	switch kind {
	case kindPrimitive:
		return 0
	case kindComplex:
		return 1
	case kindAnyResource:
		return 2
	case kindResource:
		return 3
	}
	return 4
}
