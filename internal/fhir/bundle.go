package fhir

import "errors"

// ErrNotBundle is returned by (*Resource).Bundle for other resource types.
var ErrNotBundle = errors.New("fhir: resource is not a Bundle")

// Bundle returns the entries of a Bundle resource. Each Entry.Resource
// shares its content with the Bundle: changes made through it (SetID,
// SetMeta, RewriteReferences) show in both, and it marshals on its own.
func (r *Resource) Bundle() (*Bundle, error) {
	if r == nil || r.n == nil || r.n.typ != tBundle {
		return nil, ErrNotBundle
	}
	b := &Bundle{Type: r.n.getString("type")}
	entries := r.n.get("entry")
	if entries == nil || entries.kind != kArray {
		return b, nil
	}
	b.Entries = make([]Entry, 0, len(entries.kids))
	for i := range entries.kids {
		e := &entries.kids[i].node
		ent := Entry{FullURL: e.getString("fullUrl")}
		if res := e.get("resource"); res != nil && res.kind == kObject {
			ent.Resource = &Resource{n: res}
		}
		if req := e.get("request"); req != nil && req.kind == kObject {
			ent.Request = &Request{
				Method:          req.getString("method"),
				URL:             req.getString("url"),
				IfMatch:         req.getString("ifMatch"),
				IfNoneMatch:     req.getString("ifNoneMatch"),
				IfNoneExist:     req.getString("ifNoneExist"),
				IfModifiedSince: req.getString("ifModifiedSince"),
			}
		}
		b.Entries = append(b.Entries, ent)
	}
	return b, nil
}

// Bundle is the part of a Bundle resource that the REST layer acts on.
type Bundle struct {
	Type    string
	Entries []Entry
}

// Entry is one Bundle.entry.
type Entry struct {
	FullURL  string
	Resource *Resource // nil if absent
	Request  *Request  // nil if absent
}

// Request is Bundle.entry.request.
type Request struct {
	Method, URL, IfMatch, IfNoneMatch, IfNoneExist, IfModifiedSince string
}
