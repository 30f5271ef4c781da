package fhir

import "strings"

// PatientIDs lists the ids of patients whose compartment holds the
// resource: for a Patient its own id (if set) first, then the ids of the
// relative `Patient/<id>` references (any `/_history/n` suffix dropped)
// found on the paths the R4 Patient CompartmentDefinition links the type
// by, in definition order, without duplicates. Absolute URLs, contained
// (#id) and urn: references are ignored. A type outside the compartment
// yields nil.
func (r *Resource) PatientIDs() []string {
	if r == nil || r.n == nil {
		return nil
	}
	var ids []string
	if r.n.typ == tPatient {
		if id := r.ID(); id != "" {
			ids = append(ids, id)
		}
	}
	for _, path := range types[r.n.typ].patient {
		ids = collectPatients(ids, r.n, path)
	}
	return ids
}

// collectPatients follows the dotted element path from n and appends the
// patient ids of the References it ends on.
func collectPatients(ids []string, n *node, path string) []string {
	if n.kind == kArray {
		for i := range n.kids {
			ids = collectPatients(ids, &n.kids[i].node, path)
		}
		return ids
	}
	if n.kind != kObject {
		return ids
	}
	if path == "" {
		id, ok := patientID(n.getString("reference"))
		if ok && !contains(ids, id) {
			ids = append(ids, id)
		}
		return ids
	}
	step, rest, _ := strings.Cut(path, ".")
	if c := n.get(step); c != nil {
		ids = collectPatients(ids, c, rest)
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// patientID returns the id of a relative reference Patient/<id>, with an
// optional /_history/<version> suffix.
func patientID(ref string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, "Patient/")
	if !ok {
		return "", false
	}
	id, hist, hasHist := strings.Cut(rest, "/")
	if !validID(id) || id == "" {
		return "", false
	}
	if hasHist {
		v, ok := strings.CutPrefix(hist, "_history/")
		if !ok || v == "" || !validID(v) {
			return "", false
		}
	}
	return id, true
}

// RewriteReferences calls fn on every Reference.reference in the
// resource, contained resources included, and replaces the reference with
// the returned string when fn reports true. It does not descend into the
// resources of a Bundle's entries (Bundle.entry.resource): the caller
// handles those as resources of their own.
func (r *Resource) RewriteReferences(fn func(ref string) (string, bool)) {
	if r == nil || r.n == nil {
		return
	}
	rewrite(r.n, fn)
}

func rewrite(n *node, fn func(string) (string, bool)) {
	if n.kind != kObject && n.kind != kArray {
		return
	}
	switch n.typ {
	case tReference:
		if n.kind != kObject {
			break
		}
		for i := range n.kids {
			m := &n.kids[i]
			if m.name == "reference" && m.kind == kString {
				if s, ok := fn(m.text()); ok {
					m.setText(s)
				}
			}
		}
	case tBundleEntry:
		if n.kind != kObject {
			break
		}
		for i := range n.kids {
			if n.kids[i].name != "resource" {
				rewrite(&n.kids[i].node, fn)
			}
		}
		return
	}
	for i := range n.kids {
		rewrite(&n.kids[i].node, fn)
	}
}
