package report

import (
	"io"
	"strconv"
	"strings"
)

// writeText writes the report for people: a header, one line per event,
// and the totals.
func writeText(w io.Writer, r report) error {
	ew := &errWriter{w: w}
	ew.printf("Audit report: %s\n", printable(r.Subject))
	ew.printf("Tenant:     %s\n", printable(r.Tenant))
	ew.printf("Period:     %s\n", r.Period)
	ew.printf("Generated:  %s\n", r.Generated)
	ew.printf("Events:     %d\n\n", len(r.Rows))
	for _, rw := range r.Rows {
		ew.printf("%s\n", textLine(rw))
	}
	if len(r.Rows) == 0 {
		ew.printf("(no events)\n")
	}
	ew.printf("\nBy action:  %s\n", joinCounts(r.ByAction))
	ew.printf("By outcome: %s\n", joinCounts(r.ByOutcome))
	ew.printf("Denied: %d  Failed: %d\n", r.Denied, r.Failed)
	return ew.err
}

// textLine is one event, such as
// "2026-11-23 10:02:11Z  A. Jones (physician)  read  Observation/123  patient P-456  from 10.0.0.4 via console".
func textLine(rw row) string {
	e := rw.Event
	parts := []string{rw.Time.Format(timeLayout)}
	actor := rw.Actor
	if rw.Role != "" {
		actor += " (" + rw.Role + ")"
	}
	parts = append(parts, actor, rw.Verb)
	if rw.Entity != "" {
		parts = append(parts, rw.Entity)
	}
	if e.PatientID != "" {
		parts = append(parts, "patient "+e.PatientID)
	}
	var src []string
	if e.SourceIP != "" {
		src = append(src, "from "+e.SourceIP)
	}
	if e.EntryPoint != "" {
		src = append(src, "via "+e.EntryPoint)
	}
	if len(src) > 0 {
		parts = append(parts, strings.Join(src, " "))
	}
	if e.Purpose != "" {
		parts = append(parts, "purpose "+e.Purpose)
	}
	return printable(strings.Join(parts, "  "))
}

func joinCounts(cs []count) string {
	if len(cs) == 0 {
		return "none"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.Name + " " + strconv.Itoa(c.N)
	}
	return strings.Join(s, ", ")
}
