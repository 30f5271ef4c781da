package alert_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/alert"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ward.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// feed runs events through a detector and returns the alerts raised.
func feed(t *testing.T, d *alert.Detector, evs []audit.Event) []alert.Alert {
	t.Helper()
	var out []alert.Alert
	for i, e := range evs {
		as, err := d.Observe(context.Background(), uint64(i), e, true)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, as...)
	}
	return out
}

func rules(as []alert.Alert) string {
	var s []string
	for _, a := range as {
		s = append(s, a.Rule)
	}
	return strings.Join(s, ",")
}

func read(actor, kind, patient string, at time.Time) audit.Event {
	return audit.Event{Time: at, Tenant: "t1", ActorID: actor, ActorKind: kind, Action: "R", Subtype: "read",
		EntityType: "Observation", EntityID: "o-" + patient, PatientID: patient, Outcome: 200, SourceIP: "10.0.0.4",
		RequestID: fmt.Sprintf("r-%s-%d", patient, at.UnixNano())}
}

func TestPatientVolume(t *testing.T) {
	cfg := alert.Config{MaxPatients: 50}
	var evs []audit.Event
	for i := range 50 {
		evs = append(evs, read("c1", "client", fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Minute)))
		evs = append(evs, read("c1", "client", fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Minute+time.Second))) // rereads don't count
	}
	if as := feed(t, alert.NewDetector(cfg, nil, nil), evs); len(as) != 0 {
		t.Fatalf("50 patients in an hour raised %s", rules(as))
	}
	// The 51st within the hour raises one alert; more do not raise again.
	more := append(evs, read("c1", "client", "p50", t0.Add(55*time.Minute)), read("c1", "client", "p51", t0.Add(56*time.Minute)))
	as := feed(t, alert.NewDetector(cfg, nil, nil), more)
	if rules(as) != alert.RulePatientVolume {
		t.Fatalf("51 patients in an hour: %q", rules(as))
	}
	a := as[0]
	if a.Actor != "c1" || a.Tenant != "t1" || a.Severity != alert.SeverityHigh || a.First != 0 || a.Last != 100 || !strings.Contains(a.Summary, "51 distinct patients") {
		t.Fatalf("alert %+v", a)
	}
	// The same 51 spread over more than an hour raise nothing.
	var slow []audit.Event
	for i := range 51 {
		slow = append(slow, read("c1", "client", fmt.Sprint("p", i), t0.Add(time.Duration(i)*2*time.Minute)))
	}
	if as := feed(t, alert.NewDetector(cfg, nil, nil), slow); len(as) != 0 {
		t.Fatalf("51 patients over 100 minutes raised %s", rules(as))
	}
	// Refused reads are not reads of a record.
	var refused []audit.Event
	for i := range 60 {
		e := read("c2", "client", fmt.Sprint("p", i), t0)
		e.Outcome = 404
		refused = append(refused, e)
	}
	if as := feed(t, alert.NewDetector(cfg, nil, nil), refused); len(as) != 0 {
		t.Fatalf("failed reads raised %s", rules(as))
	}
}

func TestRepeatedDenials(t *testing.T) {
	denied := func(actor string, at time.Time) audit.Event {
		return audit.Event{Time: at, Tenant: "t1", ActorID: actor, Action: "R", Subtype: "read", Outcome: 403, SourceIP: "10.0.0.9"}
	}
	var evs []audit.Event
	for i := range 4 {
		evs = append(evs, denied("c1", t0.Add(time.Duration(i)*time.Minute)))
	}
	if as := feed(t, alert.NewDetector(alert.Config{}, nil, nil), evs); len(as) != 0 {
		t.Fatalf("4 denials raised %s", rules(as))
	}
	evs = append(evs, denied("c1", t0.Add(9*time.Minute)), denied("c1", t0.Add(9*time.Minute+time.Second)))
	as := feed(t, alert.NewDetector(alert.Config{}, nil, nil), evs)
	if rules(as) != alert.RuleDenials || !strings.Contains(as[0].Summary, "5 refused requests") {
		t.Fatalf("5 denials in 10 minutes: %+v", as)
	}
	// Failed token requests carry no actor: counted by address.
	var anon []audit.Event
	for i := range 5 {
		anon = append(anon, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Action: "E", Subtype: "token", Outcome: 401, SourceIP: "203.0.113.7"})
	}
	as = feed(t, alert.NewDetector(alert.Config{}, nil, nil), anon)
	if rules(as) != alert.RuleDenials || !strings.Contains(as[0].Summary, "address 203.0.113.7") {
		t.Fatalf("unauthenticated denials: %+v", as)
	}
}

func TestBreakGlassAndExport(t *testing.T) {
	evs := []audit.Event{
		{Time: t0, Tenant: "t1", ActorID: "u1", ActorKind: "user", Action: "E", Subtype: "break-glass", Outcome: 200, RequestID: "a"},
		{Time: t0, Tenant: "t1", ActorID: "c1", ActorKind: "client", Action: "E", Subtype: "export", Outcome: 202, RequestID: "b"},
		{Time: t0, Tenant: "t1", ActorID: "c1", ActorKind: "client", Action: "E", Subtype: "export", Outcome: 403, RequestID: "c"},
	}
	// One request reading 1,000 resources is a bulk export too.
	for i := range 1000 {
		evs = append(evs, audit.Event{Time: t0, Tenant: "t1", ActorID: "c1", Action: "R", Subtype: "search-type", EntityType: "Observation",
			EntityID: fmt.Sprint(i), Outcome: 200, RequestID: "big"})
	}
	for i := range 999 {
		evs = append(evs, audit.Event{Time: t0, Tenant: "t1", ActorID: "c1", Action: "R", Subtype: "search-type", EntityType: "Observation",
			EntityID: fmt.Sprint(i), Outcome: 200, RequestID: "smaller"})
	}
	as := feed(t, alert.NewDetector(alert.Config{}, nil, nil), evs)
	if got := rules(as); got != "break-glass,bulk-export,bulk-export" {
		t.Fatalf("got %q", got)
	}
	if as[2].First != 3 || as[2].Last != 1002 {
		t.Fatalf("bulk read alert spans %d..%d, want 3..1002", as[2].First, as[2].Last)
	}
}

func TestOffHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	h, err := alert.ParseHours("07:00-19:00", berlin)
	if err != nil {
		t.Fatal(err)
	}
	night := time.Date(2026, 11, 23, 2, 30, 0, 0, berlin)
	day := time.Date(2026, 11, 23, 9, 0, 0, 0, berlin)
	evs := []audit.Event{
		read("u1", "user", "p1", day),
		read("u1", "user", "p1", night),
		read("u1", "user", "p2", night.Add(time.Minute)), // same night: one alert
		read("c1", "client", "p1", night),                // integrations are exempt
	}
	as := feed(t, alert.NewDetector(alert.Config{Hours: h}, nil, nil), evs)
	if rules(as) != alert.RuleOffHours || as[0].Actor != "u1" || !strings.Contains(as[0].Summary, "2026-11-23") {
		t.Fatalf("off-hours: %+v", as)
	}
	as = append(as, feed(t, alert.NewDetector(alert.Config{Hours: h}, nil, nil), evs)...)
	if as[0].Key != as[1].Key {
		t.Fatal("the same night's alert has two keys")
	}
	for _, bad := range []string{"7-19", "25:00-19:00", "07:00-07:00", "07:60-08:00"} {
		if _, err := alert.ParseHours(bad, time.UTC); err == nil {
			t.Errorf("ParseHours accepted %q", bad)
		}
	}
}

func TestNewNetwork(t *testing.T) {
	db := openDB(t)
	token := func(ip string, at time.Time) audit.Event {
		return audit.Event{Time: at, Tenant: "t1", ActorID: "c1", ActorKind: "client", Action: "E", Subtype: "token", Outcome: 200, SourceIP: ip}
	}
	evs := []audit.Event{
		token("10.0.0.5", t0),                         // first network: a baseline, not an alert
		token("10.0.0.9", t0.Add(time.Hour)),          // same /24
		token("192.0.2.1", t0.Add(2*time.Hour)),       // new
		token("192.0.2.77", t0.Add(3*time.Hour)),      // same /24 as the last
		token("2001:db8:1:2::1", t0.Add(4*time.Hour)), // new (IPv6 /48)
		token("2001:db8:1:3::1", t0.Add(5*time.Hour)), // same /48
	}
	d := alert.NewDetector(alert.Config{}, db, nil)
	as := feed(t, d, evs)
	if rules(as) != "new-network,new-network" || !strings.Contains(as[0].Summary, "192.0.2.0/24") || !strings.Contains(as[1].Summary, "2001:db8:1::/48") {
		t.Fatalf("new networks: %+v", as)
	}
	// Replaying the same events (a restart) gives the same answers.
	again := feed(t, alert.NewDetector(alert.Config{}, db, nil), evs)
	if rules(again) != rules(as) || again[0].Key != as[0].Key {
		t.Fatalf("replay: %+v", again)
	}
}

type surnames map[string]string

func (s surnames) Actor(_ context.Context, _, id string) (string, error) { return s["actor:"+id], nil }
func (s surnames) Patient(_ context.Context, _, id string) (string, error) {
	return s["patient:"+id], nil
}

func TestSameSurname(t *testing.T) {
	names := surnames{"actor:u1": "Jones", "patient:p1": "JONES ", "patient:p2": "Smith"}
	evs := []audit.Event{read("u1", "user", "p1", t0), read("u1", "user", "p2", t0), read("u1", "user", "p1", t0.Add(time.Minute))}
	as := feed(t, alert.NewDetector(alert.Config{}, nil, names), evs)
	if len(as) != 1 || as[0].Rule != alert.RuleSameSurname {
		t.Fatalf("same surname: %+v", as)
	}
	if strings.Contains(as[0].Summary, "Jones") || strings.Contains(as[0].Summary, "p1") {
		t.Fatalf("the summary names the patient: %q", as[0].Summary)
	}
}
