// Package fhir parses and validates FHIR R4 JSON. It does no I/O.
//
// Parse decodes and validates a resource in one pass against tables
// generated from the official R4 StructureDefinitions (schema_gen.go, see
// internal/gen), and keeps it as an ordered tree so that Marshal writes
// back exactly what was read: key order, decimal literals, unicode and
// primitive extensions. docs/decisions/0001-fhir-parsing.md records why.
package fhir

import (
	"errors"
	"time"
)

// CONTRACT: the store and api packages use Parse (parse.go), the Resource
// methods (this file, compartment.go, bundle.go), Bundle, Entry and
// Request (bundle.go), Error and Issue (error.go), and IsResourceType and
// ResourceTypes (schema.go); their signatures and documented behaviour
// must be kept.

// Resource is a parsed, validated FHIR R4 resource. Its read methods may
// run concurrently; SetID, SetMeta and RewriteReferences must not run
// concurrently with anything else on the same resource (or, for a Bundle
// entry, on the Bundle that holds it).
type Resource struct {
	n    *node // the resource object; may be shared with an enclosing Bundle
	root node  // holds the tree of a parsed resource (n points here)
	size int   // input length: a capacity hint for Marshal
}

// Type is the resourceType.
func (r *Resource) Type() string {
	if r == nil || r.n == nil {
		return ""
	}
	return types[r.n.typ].name
}

// ID is the id, "" if absent.
func (r *Resource) ID() string {
	if r == nil || r.n == nil {
		return ""
	}
	return r.n.getString("id")
}

// SetID sets the id, inserting it after resourceType when absent. An
// empty id removes it. The caller supplies a valid id
// ([A-Za-z0-9\-\.]{1,64}); it is not checked here.
func (r *Resource) SetID(id string) {
	if r == nil || r.n == nil {
		return
	}
	n := r.n
	i := n.index("id")
	switch {
	case id == "" && i >= 0:
		n.remove(i)
	case id == "":
	case i >= 0:
		n.kids[i].node = node{kind: kString, typ: tId, str: id}
	default:
		n.insert(afterResourceType(n), member{name: "id", node: node{kind: kString, typ: tId, str: id}})
	}
}

func afterResourceType(n *node) int {
	if len(n.kids) > 0 && n.kids[0].name == "resourceType" {
		return 1
	}
	return 0
}

// lastUpdatedLayout is how SetMeta writes meta.lastUpdated (an instant).
const lastUpdatedLayout = "2006-01-02T15:04:05.000Z"

// SetMeta sets meta.versionId and meta.lastUpdated (keeping other meta).
// lastUpdated is written in UTC with milliseconds. An empty versionID
// removes meta.versionId. A new meta goes after id (or resourceType).
func (r *Resource) SetMeta(versionID string, lastUpdated time.Time) {
	if r == nil || r.n == nil {
		return
	}
	n := r.n
	mi := n.index("meta")
	if mi < 0 {
		at := n.index("id") + 1
		if at == 0 {
			at = afterResourceType(n)
		}
		n.insert(at, member{name: "meta", node: node{kind: kObject, typ: tMeta}})
		mi = at
	}
	meta := &n.kids[mi].node
	// A fresh slice: the old one may be shared with an arena.
	kids := make([]member, 0, len(meta.kids)+2)
	kids = append(kids, meta.kids...)
	meta.kids = kids
	lu := node{kind: kString, typ: tInstant, str: lastUpdated.UTC().Format(lastUpdatedLayout)}
	vi := meta.index("versionId")
	switch {
	case versionID == "" && vi >= 0:
		meta.remove(vi)
	case versionID == "":
	case vi >= 0:
		meta.kids[vi].node = node{kind: kString, typ: tId, str: versionID}
	default:
		// Meta's elements in definition order: id, extension, versionId, ...
		at := 0
		for at < len(meta.kids) && (meta.kids[at].name == "id" || meta.kids[at].name == "extension") {
			at++
		}
		meta.insert(at, member{name: "versionId", node: node{kind: kString, typ: tId, str: versionID}})
	}
	if li := meta.index("lastUpdated"); li >= 0 {
		meta.kids[li].node = lu
		return
	}
	at := 0
	for at < len(meta.kids) && isMetaHead(meta.kids[at].name) {
		at++
	}
	meta.insert(at, member{name: "lastUpdated", node: lu})
}

// isMetaHead reports whether a Meta member comes before lastUpdated.
func isMetaHead(name string) bool {
	return name == "id" || name == "extension" || name == "versionId" || name == "_versionId"
}

// Marshal returns compact JSON.
func (r *Resource) Marshal() ([]byte, error) {
	if r == nil || r.n == nil {
		return nil, errors.New("fhir: marshal of an empty Resource")
	}
	return appendNode(make([]byte, 0, max(r.size, 1024)), r.n), nil
}
