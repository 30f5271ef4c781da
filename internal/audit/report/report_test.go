package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// names is a Names fake: tenant → actor id → name.
type names map[string]map[string]string

func (n names) ActorName(tenant, id string) (string, bool) {
	s, ok := n[tenant][id]
	return s, ok
}

var at = time.Date(2026, 11, 23, 10, 2, 11, 123e6, time.UTC)

var staff = names{"default": {"u-1": "A. Jones", "c-1": "lab feed"}, "other": {"u-2": "B. Smith"}}

// example is the event of the example line.
var example = audit.Event{Time: at, Tenant: "default", ActorID: "u-1", ActorKind: "user", Role: "physician", SessionID: "s-1",
	Action: audit.ActionRead, Subtype: "read", EntityType: "Observation", EntityID: "123", PatientID: "P-456",
	Outcome: 200, SourceIP: "10.0.0.4", UserAgent: "Mozilla/5.0", EntryPoint: "console", RequestID: "r-1"}

func TestTextLine(t *testing.T) {
	with := func(f func(*audit.Event)) audit.Event {
		e := example
		f(&e)
		return e
	}
	cases := []struct {
		name  string
		e     audit.Event
		names Names
		want  string
	}{
		{"the issue's example", example, staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  read  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"no resolver: the id", example, nil,
			"2026-11-23 10:02:11Z  u-1 (physician)  read  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"a name from another tenant is not used", with(func(e *audit.Event) { e.ActorID = "u-2" }), staff,
			"2026-11-23 10:02:11Z  u-2 (physician)  read  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"vread with version and purpose", with(func(e *audit.Event) { e.Subtype, e.Version, e.Purpose = "vread", 2, "TREAT" }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  vread  Observation/123/_history/2  patient P-456  from 10.0.0.4 via console  purpose TREAT"},
		{"search", with(func(e *audit.Event) { e.Subtype, e.EntityID, e.PatientID, e.EntryPoint = "search-type", "", "", "api" }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  search  Observation  from 10.0.0.4 via api"},
		{"history", with(func(e *audit.Event) { e.Subtype = "history-instance" }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  history  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"forbidden", with(func(e *audit.Event) { e.Outcome = 403 }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  DENIED read  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"failed update", with(func(e *audit.Event) { e.Action, e.Subtype, e.Outcome = audit.ActionUpdate, "update", 409 }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  FAILED update (409)  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"create in a transaction", with(func(e *audit.Event) { e.Action, e.Subtype, e.Outcome = audit.ActionCreate, "transaction", 201 }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  create in transaction  Observation/123  patient P-456  from 10.0.0.4 via console"},
		{"unauthenticated", audit.Event{Time: at, Tenant: "default", Action: audit.ActionExecute, Subtype: "authenticate", Outcome: 401, SourceIP: "10.0.0.9", EntryPoint: "api"}, staff,
			"2026-11-23 10:02:11Z  unauthenticated  DENIED sign-in  from 10.0.0.9 via api"},
		{"a service client by name", audit.Event{Time: at, Tenant: "default", ActorID: "c-1", ActorKind: "client", Role: "service", Action: audit.ActionExecute, Subtype: "token", Outcome: 200, SourceIP: "10.0.0.5", EntryPoint: "api"}, staff,
			"2026-11-23 10:02:11Z  lab feed (service)  token  from 10.0.0.5 via api"},
		{"an operator", audit.Event{Time: at, Tenant: "default", ActorID: "os:alice", ActorKind: "operator", Action: audit.ActionExecute, Subtype: "client-create", EntityType: "Client", EntityID: "c-1", Outcome: 201, EntryPoint: "cli"}, staff,
			"2026-11-23 10:02:11Z  os:alice (operator)  client create  Client/c-1  via cli"},
		{"control characters cannot forge a line", with(func(e *audit.Event) { e.EntityID = "1\n2026-01-01 00:00:00Z  forged\x1b[2J" }), staff,
			"2026-11-23 10:02:11Z  A. Jones (physician)  read  Observation/1?2026-01-01 00:00:00Z  forged?[2J  patient P-456  from 10.0.0.4 via console"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, []Entry{{7, c.e}}, c.names, Options{Filter: Filter{Tenant: "default"}, Generated: at}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(b.String(), "\n")
			if len(lines) < 7 || lines[6] != c.want {
				t.Errorf("event line:\n got %q\nwant %q\nreport:\n%s", lines[6], c.want, b.String())
			}
		})
	}
}

func TestTimeZone(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, []Entry{{0, example}}, staff, Options{Location: time.FixedZone("CET", 3600), Filter: Filter{Tenant: "default", PatientID: "P-456"}, Generated: at})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\n2026-11-23 11:02:11+01:00  A. Jones") {
		t.Errorf("time not shown in the zone:\n%s", b.String())
	}
}

// fixture is a small mixed report, rendered to the golden files.
func fixture() ([]Entry, Options) {
	es := []Entry{
		{3, example},
		{4, audit.Event{Time: at.Add(time.Minute), Tenant: "default", ActorID: "c-1", ActorKind: "client", Role: "service", Action: audit.ActionUpdate,
			Subtype: "update", EntityType: "Observation", EntityID: "123", Version: 2, PatientID: "P-456", Outcome: 200, SourceIP: "10.0.0.5",
			UserAgent: "=HYPERLINK(\"http://x\")", EntryPoint: "api", RequestID: "r-2", Purpose: "TREAT"}},
		{9, audit.Event{Time: at.Add(2 * time.Minute), Tenant: "default", ActorID: "u-3", ActorKind: "user", Role: "nurse", Action: audit.ActionRead,
			Subtype: "read", EntityType: "Patient", EntityID: "P-456", PatientID: "P-456", Outcome: 403, SourceIP: "10.0.0.6",
			UserAgent: "<script>alert(1)</script>", EntryPoint: "portal", RequestID: "-r3"}},
		{12, audit.Event{Time: at.Add(3 * time.Minute), Tenant: "default", ActorID: "c-1", ActorKind: "client", Role: "service", Action: audit.ActionDelete,
			Subtype: "delete", EntityType: "Observation", EntityID: "123", PatientID: "P-456", Outcome: 412, SourceIP: "10.0.0.5", EntryPoint: "api", RequestID: "@r4"}},
	}
	return es, Options{Filter: Filter{Tenant: "default", PatientID: "P-456", From: at.Add(-24 * time.Hour), To: at.Add(24 * time.Hour)}, Generated: at.Add(48 * time.Hour)}
}

func render(t *testing.T, f Format) string {
	t.Helper()
	es, o := fixture()
	o.Format = f
	var b bytes.Buffer
	if err := Write(&b, es, staff, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden compares each format's rendering of the fixture with
// testdata/report.*; go test -update rewrites them.
func TestGolden(t *testing.T) {
	for _, f := range []Format{Text, CSV, HTML} {
		got := render(t, f)
		file := filepath.Join("testdata", "report."+string(f))
		if *update {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (go test -update to accept):\n%s", f, file, got)
		}
	}
}

func TestTextHeaderAndTotals(t *testing.T) {
	got := render(t, Text)
	for _, want := range []string{
		"Audit report: patient P-456\n",
		"Tenant:     default\n",
		"Period:     2026-11-22 10:02:11Z to 2026-11-24 10:02:11Z (excluded)\n",
		"Generated:  2026-11-25 10:02:11Z\n",
		"Events:     4\n",
		"By action:  read 2, update 1, delete 1\n",
		"By outcome: 200 2, 403 1, 412 1\n",
		"Denied: 1  Failed: 1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("text report lacks %q:\n%s", want, got)
		}
	}
	var b bytes.Buffer
	if err := Write(&b, nil, nil, Options{Filter: Filter{Tenant: "default", UserID: "u-1"}, Generated: at}); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, "Audit report: user u-1\n") || !strings.Contains(s, "(no events)") || !strings.Contains(s, "the start of the log to now") {
		t.Errorf("empty user report:\n%s", s)
	}
	b.Reset()
	Write(&b, nil, staff, Options{Filter: Filter{Tenant: "default", UserID: "u-1"}, Generated: at})
	if !strings.Contains(b.String(), "Audit report: user u-1 (A. Jones)\n") {
		t.Errorf("user report does not name the user:\n%s", b.String())
	}
}

func TestCSV(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(render(t, CSV))).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records, want a header and 4 events", len(recs))
	}
	if strings.Join(recs[0], ",") != "index,time,tenant,actor_id,actor_name,role,session,action,subtype,entity_type,entity_id,version,patient,purpose,outcome,ip,user_agent,entry_point,request_id" {
		t.Errorf("header %q", recs[0])
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	first := recs[1]
	for h, want := range map[string]string{"index": "3", "time": "2026-11-23T10:02:11.123Z", "tenant": "default", "actor_id": "u-1",
		"actor_name": "A. Jones", "role": "physician", "session": "s-1", "action": "R", "subtype": "read", "entity_type": "Observation",
		"entity_id": "123", "version": "", "patient": "P-456", "outcome": "200", "ip": "10.0.0.4", "user_agent": "Mozilla/5.0",
		"entry_point": "console", "request_id": "r-1"} {
		if first[col[h]] != want {
			t.Errorf("%s = %q, want %q", h, first[col[h]], want)
		}
	}
	if got := recs[2][col["version"]]; got != "2" {
		t.Errorf("version %q", got)
	}
	// Formula injection is defused: the cells begin with a quote.
	for _, c := range []struct {
		rec       int
		col, want string
	}{
		{2, "user_agent", `'=HYPERLINK("http://x")`},
		{3, "request_id", "'-r3"},
		{4, "request_id", "'@r4"},
	} {
		if got := recs[c.rec][col[c.col]]; got != c.want {
			t.Errorf("record %d %s = %q, want %q", c.rec, c.col, got, c.want)
		}
	}
	for _, s := range []string{"=1+2", "+1", "-1", "@x", "\tx", "\rx"} {
		if got := cell(s); got != "'"+s {
			t.Errorf("cell(%q) = %q", s, got)
		}
	}
	for _, s := range []string{"", "a=1", "10.0.0.4", "os:alice"} {
		if got := cell(s); got != s {
			t.Errorf("cell(%q) = %q", s, got)
		}
	}
}

func TestHTML(t *testing.T) {
	got := render(t, HTML)
	if strings.Contains(got, "<script") || !strings.Contains(got, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("user agent not escaped:\n%s", got)
	}
	if !strings.HasPrefix(got, "<!DOCTYPE html>\n<html") {
		t.Error("not a complete page")
	}
	for _, banned := range []string{"src=", "href=", "http://", "https://", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(got, "&#34;http://x&#34;", ""), banned) {
			t.Errorf("page refers to an external resource (%q)", banned)
		}
	}
	// Well-formed: the markup parses as strict XML with balanced elements.
	d := xml.NewDecoder(strings.NewReader(got))
	d.Strict = true
	var stack []string
	rows, cls := 0, map[string]int{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, got)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			if tok.Name.Local == "script" || tok.Name.Local == "iframe" || tok.Name.Local == "link" || tok.Name.Local == "img" {
				t.Errorf("page has a <%s> element", tok.Name.Local)
			}
			if tok.Name.Local == "tr" && strings.Join(stack[:len(stack)-1], "/") == "html/body/table/tbody" {
				rows++
				for _, a := range tok.Attr {
					if a.Name.Local == "class" {
						cls[a.Value]++
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed elements %v", stack)
	}
	// 4 event rows in the first table, 4 totals rows in the second.
	if rows != 8 || cls["denied"] != 1 || cls["failed"] != 1 {
		t.Errorf("%d body rows (want 8), classes %v", rows, cls)
	}
}

func TestFilter(t *testing.T) {
	f := Filter{Tenant: "default", PatientID: "P-456", From: at, To: at.Add(time.Hour)}
	with := func(fn func(*audit.Event)) audit.Event {
		e := example
		fn(&e)
		return e
	}
	cases := []struct {
		name string
		f    Filter
		e    audit.Event
		want bool
	}{
		{"match", f, example, true},
		{"at From", f, with(func(e *audit.Event) { e.Time = at }), true},
		{"before From", f, with(func(e *audit.Event) { e.Time = at.Add(-time.Millisecond) }), false},
		{"at To", f, with(func(e *audit.Event) { e.Time = at.Add(time.Hour) }), false},
		{"other tenant", f, with(func(e *audit.Event) { e.Tenant = "other" }), false},
		{"other patient", f, with(func(e *audit.Event) { e.PatientID = "P-1" }), false},
		{"no patient", f, with(func(e *audit.Event) { e.PatientID = "" }), false},
		{"user", Filter{Tenant: "default", UserID: "u-1"}, example, true},
		{"other user", Filter{Tenant: "default", UserID: "u-2"}, example, false},
		{"open period", Filter{Tenant: "default", UserID: "u-1"}, with(func(e *audit.Event) { e.Time = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) }), true},
	}
	for _, c := range cases {
		if got := c.f.Match(c.e); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "csv", "html"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	for _, s := range []string{"", "pdf", "HTML", "json"} {
		if _, err := ParseFormat(s); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseFormat(%q) accepted", s)
		}
	}
	if err := Write(io.Discard, nil, nil, Options{Format: "pdf"}); !errors.Is(err, ErrFormat) {
		t.Errorf("Write with format pdf: %v", err)
	}
}
