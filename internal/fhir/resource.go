// Package fhir parses and validates FHIR R4 JSON. It does no I/O.
package fhir

import (
	"errors"
	"time"
)

// CONTRACT: the exported names in this file are used by the store and api
// packages. Bodies are placeholders until the implementation lands; the
// signatures and documented behaviour must be kept.

// Resource is a parsed, validated FHIR R4 resource.
type Resource struct {
	_ struct{}
}

// Parse parses one resource from JSON and validates it against the R4
// base definitions (every resource type). Invalid input yields *Error.
func Parse(data []byte) (*Resource, error) { return nil, errors.New("unimplemented") }

// Type is the resourceType.
func (r *Resource) Type() string { return "" }

// ID is the id, "" if absent.
func (r *Resource) ID() string { return "" }

// SetID sets the id.
func (r *Resource) SetID(id string) {}

// SetMeta sets meta.versionId and meta.lastUpdated (keeping other meta).
func (r *Resource) SetMeta(versionID string, lastUpdated time.Time) {}

// Marshal returns compact JSON.
func (r *Resource) Marshal() ([]byte, error) { return nil, errors.New("unimplemented") }

// PatientIDs lists the ids of patients whose compartment holds the resource.
func (r *Resource) PatientIDs() []string { return nil }

// RewriteReferences calls fn on every Reference.reference in the resource.
func (r *Resource) RewriteReferences(fn func(ref string) (string, bool)) {}

// Bundle returns the entries of a Bundle resource.
func (r *Resource) Bundle() (*Bundle, error) { return nil, errors.New("unimplemented") }

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

// Error is a validation failure with one or more issues.
type Error struct {
	Issues []Issue
}

// Issue is one OperationOutcome.issue. Diagnostics never echo input values.
type Issue struct {
	Severity    string // fatal | error | warning | information
	Code        string // OperationOutcome issue-type code: structure, value, required, invalid, ...
	Diagnostics string
	Expression  []string // FHIRPath-style location, e.g. "Patient.birthDate"
}

func (e *Error) Error() string { return "invalid resource" }

// IsResourceType reports whether name is an R4 resource type.
func IsResourceType(name string) bool { return false }

// ResourceTypes lists every R4 resource type, sorted.
func ResourceTypes() []string { return nil }
