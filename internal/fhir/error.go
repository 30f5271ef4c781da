package fhir

import (
	"strconv"
	"strings"
)

// Error is a validation failure with one or more issues.
type Error struct {
	Issues []Issue
}

// Issue is one OperationOutcome.issue. Diagnostics never echo input values.
type Issue struct {
	Severity    string   // fatal | error | warning | information
	Code        string   // OperationOutcome issue-type code: structure, value, required, invalid, ...
	Diagnostics string   // what is wrong, without the offending value
	Expression  []string // FHIRPath-style location, e.g. "Patient.birthDate"
}

// Error summarises the first issue. Like the issues themselves it holds
// no input value, so it is safe to log.
func (e *Error) Error() string {
	if len(e.Issues) == 0 {
		return "invalid resource"
	}
	var b strings.Builder
	b.WriteString("invalid resource: ")
	first := e.Issues[0]
	b.WriteString(first.Diagnostics)
	if len(first.Expression) > 0 {
		b.WriteString(" at ")
		b.WriteString(first.Expression[0])
	}
	if n := len(e.Issues); n > 1 {
		b.WriteString(" (and ")
		b.WriteString(strconv.Itoa(n - 1))
		b.WriteString(" more)")
	}
	return b.String()
}

// OperationOutcome issue-type codes used by the parser.
const (
	codeStructure = "structure"  // not valid JSON, or not the shape the definitions allow
	codeValue     = "value"      // a primitive value that does not match its type
	codeRequired  = "required"   // a required element (or resourceType) is missing
	codeInvalid   = "invalid"    // an unknown resourceType
	codeInvariant = "invariant"  // a structural constraint (ele-1, ext-1, dom-2)
	codeTooCostly = "too-costly" // nesting too deep or too many issues
)

// Limits on untrusted input.
const (
	maxDepth  = 100 // JSON nesting of objects and arrays
	maxIssues = 100 // issues reported before parsing stops
)
