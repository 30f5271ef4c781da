// Package report renders audit events as an access report for one
// patient or one user (`ward audit report`), as text, CSV or HTML. It is
// pure: events in, bytes out to an io.Writer.
//
// A report adds no PHI: patients appear by id only. Actors appear by the
// display name a Names resolver gives (staff and client names, not PHI),
// else by their id; the caller passes a resolver only for a reader
// allowed to see those names, and nil otherwise.
package report

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wardhealth/ward/internal/audit"
)

// Entry is one event with its index in the ledger.
type Entry struct {
	Index uint64
	Event audit.Event
}

// Names resolves an actor id to a display name. ok is false when no name
// is known; the report then shows the id.
type Names interface {
	ActorName(tenant, actorID string) (name string, ok bool)
}

// Format is a report's output format.
type Format string

// The formats Write produces.
const (
	Text Format = "text"
	CSV  Format = "csv"
	HTML Format = "html"
)

// ErrFormat means a format name is not one of text, csv, html.
var ErrFormat = errors.New("report: format must be text, csv or html")

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Text, CSV, HTML:
		return f, nil
	}
	return "", ErrFormat
}

// Filter selects the events of a report; the header describes it.
type Filter struct {
	Tenant    string
	PatientID string // events about this patient, or
	UserID    string // events by this actor
	// From and To bound the period [From, To); a zero time leaves that
	// end open.
	From, To time.Time
}

// Match reports whether e belongs in the report.
func (f Filter) Match(e audit.Event) bool {
	return e.Tenant == f.Tenant &&
		(f.PatientID == "" || e.PatientID == f.PatientID) &&
		(f.UserID == "" || e.ActorID == f.UserID) &&
		(f.From.IsZero() || !e.Time.Before(f.From)) &&
		(f.To.IsZero() || e.Time.Before(f.To))
}

// Options say how to write a report.
type Options struct {
	Format    Format         // default Text
	Location  *time.Location // time zone of the times shown; default UTC
	Filter    Filter         // what the report covers, for its header
	Generated time.Time      // when the report was made, for its header
}

// Write writes the report of entries, which should be those Filter
// matched, in ledger order. names may be nil: actors are then shown by id.
func Write(w io.Writer, entries []Entry, names Names, o Options) error {
	if o.Format == "" {
		o.Format = Text
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	r := build(entries, names, o)
	switch o.Format {
	case Text:
		return writeText(w, r)
	case CSV:
		return writeCSV(w, r)
	case HTML:
		return writeHTML(w, r)
	}
	return ErrFormat
}

// report is what every format renders: the header, one row per event,
// and the totals.
type report struct {
	Subject   string // "patient P-456" or "user c-1 (A. Jones)"
	Tenant    string
	Period    string
	Generated string
	Rows      []row
	ByAction  []count
	ByOutcome []count
	Denied    int
	Failed    int
}

type count struct {
	Name string
	N    int
}

// row is one event, with both the raw fields (CSV) and the readable ones
// (text, HTML).
type row struct {
	Entry
	Time      time.Time // in the report's time zone
	ActorName string    // the resolved name, "" when unknown
	Actor     string    // the name, else the id
	Role      string
	Verb      string // "read", "DENIED read", "FAILED update (409)"
	Entity    string // "Observation/123/_history/2"
	Class     string // "denied", "failed" or ""
}

// timeLayout shows a time to the second, with Z for UTC.
const timeLayout = "2006-01-02 15:04:05Z07:00"

func build(entries []Entry, names Names, o Options) report {
	f := o.Filter
	r := report{Tenant: f.Tenant, Generated: o.Generated.In(o.Location).Format(timeLayout)}
	switch {
	case f.PatientID != "":
		r.Subject = "patient " + f.PatientID
	case f.UserID != "":
		r.Subject = "user " + f.UserID
		if n, ok := resolve(names, f.Tenant, f.UserID); ok {
			r.Subject += " (" + n + ")"
		}
	default:
		r.Subject = "all actors and patients"
	}
	from, to := "the start of the log", "now"
	if !f.From.IsZero() {
		from = f.From.In(o.Location).Format(timeLayout)
	}
	if !f.To.IsZero() {
		to = f.To.In(o.Location).Format(timeLayout) + " (excluded)"
	}
	r.Period = from + " to " + to

	actions := map[string]int{}
	outcomes := map[int]int{}
	for _, en := range entries {
		e := en.Event
		rw := row{Entry: en, Time: e.Time.In(o.Location), Role: e.Role, Entity: entity(e)}
		if n, ok := resolve(names, e.Tenant, e.ActorID); ok {
			rw.ActorName = n
		}
		rw.Actor = rw.ActorName
		if rw.Actor == "" {
			rw.Actor = e.ActorID
		}
		if rw.Actor == "" {
			rw.Actor = "unauthenticated"
		}
		if rw.Role == "" && e.ActorKind == "operator" {
			rw.Role = "operator"
		}
		v := subtypeVerb(e)
		switch {
		case denied(e.Outcome):
			rw.Verb, rw.Class = "DENIED "+v, "denied"
			r.Denied++
		case e.Outcome >= 400:
			rw.Verb, rw.Class = "FAILED "+v+" ("+strconv.Itoa(e.Outcome)+")", "failed"
			r.Failed++
		default:
			rw.Verb = v
		}
		r.Rows = append(r.Rows, rw)
		actions[e.Action]++
		outcomes[e.Outcome]++
	}
	for _, a := range []string{audit.ActionCreate, audit.ActionRead, audit.ActionUpdate, audit.ActionDelete, audit.ActionExecute} {
		if n := actions[a]; n > 0 {
			r.ByAction = append(r.ByAction, count{actionVerb(a), n})
			delete(actions, a)
		}
	}
	for _, a := range slices.Sorted(maps.Keys(actions)) { // codes ward does not write today
		r.ByAction = append(r.ByAction, count{actionVerb(a), actions[a]})
	}
	for _, s := range slices.Sorted(maps.Keys(outcomes)) {
		name := strconv.Itoa(s)
		if s == 0 {
			name = "unknown"
		}
		r.ByOutcome = append(r.ByOutcome, count{name, outcomes[s]})
	}
	return r
}

func resolve(names Names, tenant, id string) (string, bool) {
	if names == nil || id == "" {
		return "", false
	}
	n, ok := names.ActorName(tenant, id)
	return n, ok && n != ""
}

// denied reports whether an outcome is a refusal to authenticate or to
// authorise.
func denied(status int) bool { return status == 401 || status == 403 }

// entity is "Type/id", with "/_history/v" for a version, or just the type
// (a search), or "".
func entity(e audit.Event) string {
	s := e.EntityType
	if e.EntityID != "" {
		s += "/" + e.EntityID
	}
	if e.Version != 0 && e.EntityID != "" {
		s += "/_history/" + strconv.FormatInt(e.Version, 10)
	}
	return s
}

// subtypeVerb names what the actor did, in words.
func subtypeVerb(e audit.Event) string {
	switch s := e.Subtype; s {
	case "":
		return actionVerb(e.Action)
	case "search-type", "search-system", "search-compartment":
		return "search"
	case "history-instance", "history-type", "history-system":
		return "history"
	case "authenticate":
		return "sign-in"
	case "transaction", "batch":
		return actionVerb(e.Action) + " in " + s
	default:
		return strings.ReplaceAll(s, "-", " ") // read, vread, token, client create, audit report, ...
	}
}

func actionVerb(a string) string {
	switch a {
	case audit.ActionCreate:
		return "create"
	case audit.ActionRead:
		return "read"
	case audit.ActionUpdate:
		return "update"
	case audit.ActionDelete:
		return "delete"
	case audit.ActionExecute:
		return "execute"
	case "":
		return "unknown action"
	}
	return "action " + a
}

// printable replaces control characters, so that a stored value cannot
// forge report lines or send terminal escapes.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// errWriter remembers the first write error, so that a format can write
// many pieces and check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) printf(format string, args ...any) {
	if ew.err == nil {
		_, ew.err = fmt.Fprintf(ew.w, format, args...)
	}
}
