package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// compartment computes, per resource type, the element paths whose
// references link a resource to the Patient compartment.
func (s *schema) compartment(dir string) error {
	var cd compartmentDefinition
	if err := readJSON(filepath.Join(dir, "CompartmentDefinition-patient.json"), &cd); err != nil {
		return err
	}
	if cd.Code != "Patient" {
		return fmt.Errorf("compartment definition is for %q", cd.Code)
	}
	var sps bundle
	if err := readJSON(filepath.Join(dir, "search-parameters.json"), &sps); err != nil {
		return err
	}
	params := map[string]searchParameter{} // base + "." + code
	for _, e := range sps.Entry {
		var sp searchParameter
		if err := json.Unmarshal(e.Resource, &sp); err != nil {
			return err
		}
		for _, b := range sp.Base {
			params[b+"."+sp.Code] = sp
		}
	}
	for _, r := range cd.Resource {
		t := s.byName[r.Code]
		if t == nil || t.kind != kindResource {
			return fmt.Errorf("compartment: unknown resource %s", r.Code)
		}
		for _, code := range r.Param {
			if code == "{def}" {
				continue // the Patient itself: handled at run time
			}
			sp, ok := params[r.Code+"."+code]
			if !ok || sp.Expression == "" {
				s.unmapped = append(s.unmapped, r.Code+" "+code+": no search parameter expression")
				continue
			}
			if sp.Type != "reference" {
				s.unmapped = append(s.unmapped, r.Code+" "+code+": not a reference parameter")
				continue
			}
			for _, part := range strings.Split(sp.Expression, "|") {
				path, ok := s.mapExpression(t, strings.TrimSpace(part))
				if !ok {
					if strings.HasPrefix(strings.Trim(strings.TrimSpace(part), "("), r.Code+".") {
						s.unmapped = append(s.unmapped, r.Code+" "+code+": "+strings.TrimSpace(part))
					}
					continue // a union branch for another base type
				}
				if !slices.Contains(t.patient, path) {
					t.patient = append(t.patient, path)
				}
			}
		}
	}
	return nil
}

// mapExpression turns one union branch of a search parameter expression
// into a dotted element path of JSON names from the resource root, when
// the branch applies to resource t and ends on a Reference. It
// understands `.where(resolve() is X)` (dropped: only Patient references
// are collected at run time), `X as T`, `.as(T)` and `.ofType(T)` casts
// on choice elements, and surrounding parentheses.
func (s *schema) mapExpression(t *genType, expr string) (string, bool) {
	expr = strings.TrimSpace(expr)
	for strings.HasPrefix(expr, "(") && strings.HasSuffix(expr, ")") {
		expr = strings.TrimSpace(expr[1 : len(expr)-1])
	}
	cast := ""
	if i := strings.Index(expr, " as "); i > 0 {
		cast = strings.TrimSpace(expr[i+4:])
		expr = strings.TrimSpace(expr[:i])
	}
	if !strings.HasPrefix(expr, t.name+".") {
		return "", false
	}
	rest := expr[len(t.name)+1:]
	// Split on dots outside parentheses.
	var steps []string
	depth, start := 0, 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '.':
			if depth == 0 {
				steps = append(steps, rest[start:i])
				start = i + 1
			}
		}
	}
	steps = append(steps, rest[start:])
	var names []string
	cur := t
	for i := 0; i < len(steps); i++ {
		st := steps[i]
		switch {
		case strings.HasPrefix(st, "where(resolve() is "):
			continue
		case strings.HasPrefix(st, "where("):
			return "", false
		case strings.HasPrefix(st, "as(") || strings.HasPrefix(st, "ofType("):
			if len(names) == 0 {
				return "", false
			}
			ty := st[strings.IndexByte(st, '(')+1 : len(st)-1]
			last := names[len(names)-1]
			names[len(names)-1] = last + ty
			// Re-resolve the typed name against the parent structure.
			continue
		}
		if strings.ContainsAny(st, "()") {
			return "", false
		}
		names = append(names, st)
	}
	if cast != "" {
		if len(names) == 0 {
			return "", false
		}
		names[len(names)-1] += cast
	}
	// Resolve every step against the schema.
	for i, n := range names {
		var found *genElem
		for j := range cur.elems {
			if cur.elems[j].name == n {
				found = &cur.elems[j]
				break
			}
		}
		if found == nil {
			return "", false
		}
		next := s.byName[found.typeName]
		if next == nil {
			return "", false
		}
		if i == len(names)-1 && found.typeName != "Reference" {
			return "", false
		}
		cur = next
	}
	return strings.Join(names, "."), true
}
