package storetest

import (
	"encoding/json"
	"strings"
	"time"
)

// Doc is a minimal store.Document over a JSON object, standing in for
// *fhir.Resource so the suite does not depend on the fhir package.
// PatientIDs: a Patient's own id, else the Patient named by "subject" or
// "patient" ({"reference": "Patient/<id>"}).
type Doc struct {
	m map[string]any
}

// NewDoc returns a resource of type typ with id (may be "") and fields.
func NewDoc(typ, id string, fields map[string]any) *Doc {
	m := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		m[k] = v
	}
	m["resourceType"] = typ
	if id != "" {
		m["id"] = id
	}
	return &Doc{m: m}
}

// ParseDoc parses resource JSON, such as a store.Version's Body.
func ParseDoc(b []byte) (*Doc, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &Doc{m: m}, nil
}

// Get returns a top-level field.
func (d *Doc) Get(key string) any { return d.m[key] }

// Meta returns meta.versionId and meta.lastUpdated ("" if absent).
func (d *Doc) Meta() (versionID, lastUpdated string) {
	meta, _ := d.m["meta"].(map[string]any)
	versionID, _ = meta["versionId"].(string)
	lastUpdated, _ = meta["lastUpdated"].(string)
	return versionID, lastUpdated
}

// Type implements store.Document.
func (d *Doc) Type() string { s, _ := d.m["resourceType"].(string); return s }

// ID implements store.Document.
func (d *Doc) ID() string { s, _ := d.m["id"].(string); return s }

// SetID implements store.Document.
func (d *Doc) SetID(id string) { d.m["id"] = id }

// SetMeta implements store.Document.
func (d *Doc) SetMeta(versionID string, lastUpdated time.Time) {
	meta, _ := d.m["meta"].(map[string]any)
	if meta == nil {
		meta = make(map[string]any)
		d.m["meta"] = meta
	}
	meta["versionId"] = versionID
	meta["lastUpdated"] = lastUpdated.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Marshal implements store.Document.
func (d *Doc) Marshal() ([]byte, error) { return json.Marshal(d.m) }

// PatientIDs implements store.Document.
func (d *Doc) PatientIDs() []string {
	if d.Type() == "Patient" {
		if id := d.ID(); id != "" {
			return []string{id}
		}
		return nil
	}
	for _, k := range []string{"subject", "patient"} {
		ref, _ := d.m[k].(map[string]any)
		s, _ := ref["reference"].(string)
		if id, ok := strings.CutPrefix(s, "Patient/"); ok && id != "" {
			return []string{id}
		}
	}
	return nil
}
