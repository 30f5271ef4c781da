package alert

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/audit"
)

// Networks remembers the networks each actor signed in from, durably.
type Networks interface {
	// Remember records that the actor signed in from network at the
	// event with that ledger index, and reports whether that event is
	// the first from the network for an actor already known on another
	// one. Replaying the same event gives the same answer.
	Remember(ctx context.Context, tenant, actor, network string, index uint64, at time.Time) (isNew bool, err error)
}

// Surnames looks up surnames for the same-surname rule; "" means unknown
// (service clients have none).
type Surnames interface {
	Actor(ctx context.Context, tenant, actor string) (string, error)
	Patient(ctx context.Context, tenant, patient string) (string, error)
}

// Detector applies the rules to audit events in ledger order. It is not
// safe for concurrent use.
type Detector struct {
	cfg      Config
	networks Networks
	surnames Surnames

	volume  map[string]*patientWindow // by tenant and actor
	denials map[string]*eventWindow   // by tenant and actor (or address)
	req     requestRun                // the current request's reads
	raised  map[string]time.Time      // keys raised lately (the store dedups for good)
	seen    int                       // events observed, for pruning idle state
}

// NewDetector returns a Detector with cfg (zero values take defaults).
// networks and surnames may be nil: those rules are then off.
func NewDetector(cfg Config, networks Networks, surnames Surnames) *Detector {
	return &Detector{
		cfg:      cfg.withDefaults(),
		networks: networks,
		surnames: surnames,
		volume:   map[string]*patientWindow{},
		denials:  map[string]*eventWindow{},
		raised:   map[string]time.Time{},
	}
}

// Observe applies the rules to the event at index and returns the alerts
// it raises. With raise false (a restarted Watcher replaying recent
// events) it only rebuilds its state and returns none.
func (d *Detector) Observe(ctx context.Context, index uint64, e audit.Event, raise bool) ([]Alert, error) {
	if e.Subtype == SubtypeAlert {
		return nil, nil // ward's own record of an alert
	}
	var out []Alert
	add := func(a Alert) {
		if _, dup := d.raised[a.Key]; raise && !dup {
			d.raised[a.Key] = e.Time
			a.Time, a.Tenant, a.Last = e.Time, e.Tenant, index
			out = append(out, a)
		}
	}
	actor := e.ActorID
	failed := e.Outcome >= 400
	denied := e.Outcome == 401 || e.Outcome == 403

	// Many distinct patients read by one actor within the window.
	if e.Action == audit.ActionRead && e.PatientID != "" && !failed && actor != "" {
		k := e.Tenant + "\x00" + actor
		w := d.volume[k]
		if w == nil {
			w = &patientWindow{counts: map[string]int{}}
			d.volume[k] = w
		}
		if first, n, ok := w.add(e.Time, e.PatientID, index, d.cfg.PatientWindow, d.cfg.MaxPatients); ok {
			add(Alert{Key: key(RulePatientVolume, e.Tenant, actor, fmt.Sprint(index)), Rule: RulePatientVolume, Severity: SeverityHigh, Actor: actor, First: first,
				Summary: fmt.Sprintf("%s %s read the records of %d distinct patients within %s (limit %d)", kindOf(e), actor, n, d.cfg.PatientWindow, d.cfg.MaxPatients)})
		}
	}

	// Refused requests, by actor or, unauthenticated, by address.
	if denied {
		who := actor
		if who == "" {
			who = "address " + e.SourceIP
		}
		k := e.Tenant + "\x00" + who
		w := d.denials[k]
		if w == nil {
			w = &eventWindow{}
			d.denials[k] = w
		}
		if first, n, ok := w.add(e.Time, index, d.cfg.DenialWindow, d.cfg.Denials); ok {
			add(Alert{Key: key(RuleDenials, e.Tenant, who, fmt.Sprint(index)), Rule: RuleDenials, Severity: SeverityMedium, Actor: actor, First: first,
				Summary: fmt.Sprintf("%d refused requests (401/403) from %s within %s", n, describe(e, who), d.cfg.DenialWindow)})
		}
	}

	// Break-glass.
	if e.Subtype == SubtypeBreakGlass {
		add(Alert{Key: key(RuleBreakGlass, e.Tenant, fmt.Sprint(index)), Rule: RuleBreakGlass, Severity: SeverityHigh, Actor: actor, First: index,
			Summary: fmt.Sprintf("%s %s started emergency (break-glass) access", kindOf(e), actor)})
	}

	// Bulk export: an export operation, or one request reading many
	// resources. A request's events are appended together, so they are
	// contiguous in the ledger.
	if exportSubtypes[e.Subtype] && !failed {
		add(Alert{Key: key(RuleBulkExport, e.Tenant, fmt.Sprint(index)), Rule: RuleBulkExport, Severity: SeverityMedium, Actor: actor, First: index,
			Summary: fmt.Sprintf("%s %s ran an export (%s)", kindOf(e), actor, e.Subtype)})
	}
	if e.RequestID != d.req.id || e.Tenant != d.req.tenant {
		d.req = requestRun{id: e.RequestID, tenant: e.Tenant, first: index}
	}
	if e.Action == audit.ActionRead && e.EntityID != "" && !failed && e.RequestID != "" {
		d.req.reads++
		if d.req.reads == d.cfg.BulkReads {
			add(Alert{Key: key(RuleBulkExport, e.Tenant, "request", e.RequestID), Rule: RuleBulkExport, Severity: SeverityMedium, Actor: actor, First: d.req.first,
				Summary: fmt.Sprintf("%s %s read %d or more resources in one request", kindOf(e), actor, d.cfg.BulkReads)})
		}
	}

	// People reading patient records outside working hours.
	if e.PatientID != "" && isPerson(e) && !d.cfg.Hours.inside(e.Time) {
		day := e.Time.In(d.cfg.Hours.zone()).Format(time.DateOnly)
		add(Alert{Key: key(RuleOffHours, e.Tenant, actor, day), Rule: RuleOffHours, Severity: SeverityMedium, Actor: actor, First: index,
			Summary: fmt.Sprintf("%s %s accessed patient records outside working hours on %s", kindOf(e), actor, day)})
	}

	// A sign-in (or a client's token) from a network new for the actor.
	if signInSubtypes[e.Subtype] && !failed && actor != "" && d.networks != nil {
		if network, ok := networkOf(e.SourceIP); ok {
			isNew, err := d.networks.Remember(ctx, e.Tenant, actor, network, index, e.Time)
			if err != nil {
				return nil, fmt.Errorf("alert: remember network: %w", err)
			}
			if isNew {
				add(Alert{Key: key(RuleNewNetwork, e.Tenant, actor, network), Rule: RuleNewNetwork, Severity: SeverityMedium, Actor: actor, First: index,
					Summary: fmt.Sprintf("%s %s signed in from a network not seen before for it (%s)", kindOf(e), actor, network)})
			}
		}
	}

	// A person reading the record of a patient with the same surname.
	if raise && e.Action == audit.ActionRead && e.PatientID != "" && !failed && isPerson(e) && d.surnames != nil {
		same, err := d.sameSurname(ctx, e)
		if err != nil {
			return nil, err
		}
		if same {
			add(Alert{Key: key(RuleSameSurname, e.Tenant, actor, e.PatientID), Rule: RuleSameSurname, Severity: SeverityMedium, Actor: actor, First: index,
				Summary: fmt.Sprintf("%s %s accessed the record of a patient with the same surname (audit event %d)", kindOf(e), actor, index)})
		}
	}

	d.seen++
	if d.seen%4096 == 0 {
		d.forget(e.Time)
	}
	return out, nil
}

func (d *Detector) sameSurname(ctx context.Context, e audit.Event) (bool, error) {
	a, err := d.surnames.Actor(ctx, e.Tenant, e.ActorID)
	if err != nil || a == "" {
		return false, err
	}
	p, err := d.surnames.Patient(ctx, e.Tenant, e.PatientID)
	if err != nil || p == "" {
		return false, err
	}
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(p)), nil
}

// forget drops the state of actors idle for longer than every window.
func (d *Detector) forget(now time.Time) {
	cut := now.Add(-d.cfg.window())
	for k, w := range d.volume {
		if w.last().Before(cut) {
			delete(d.volume, k)
		}
	}
	for k, w := range d.denials {
		if w.last().Before(cut) {
			delete(d.denials, k)
		}
	}
	for k, t := range d.raised {
		if t.Before(now.Add(-48 * time.Hour)) {
			delete(d.raised, k)
		}
	}
}

// Subtypes the rules look for; the issues that add these actions record
// them with these subtypes.
const (
	SubtypeAlert      = "alert"
	SubtypeBreakGlass = "break-glass"
)

var exportSubtypes = map[string]bool{"export": true, "bulk-export": true, "deid-export": true}

var signInSubtypes = map[string]bool{"token": true, "login": true, "sso-callback": true}

func isPerson(e audit.Event) bool { return e.ActorKind == "user" }

func kindOf(e audit.Event) string {
	if e.ActorKind == "" {
		return "actor"
	}
	return e.ActorKind
}

func describe(e audit.Event, who string) string {
	if e.ActorID == "" {
		return who
	}
	return kindOf(e) + " " + who
}

func key(parts ...string) string { return strings.Join(parts, "|") }

// networkOf is the address's network: /24 for IPv4, /48 for IPv6.
func networkOf(ip string) (string, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "", false
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return "", false
	}
	return p.String(), true
}

// requestRun counts the reads of the request whose events are being
// observed.
type requestRun struct {
	id, tenant string
	first      uint64
	reads      int
}

// window holds an actor's recent events in time order and raises once
// per run above a limit.
type window struct {
	q       []entry
	alerted bool // raised for the current run above the limit
}

type entry struct {
	t       time.Time
	index   uint64
	patient string
}

// push appends e and returns the entries older than span before it,
// which it drops.
func (w *window) push(e entry, span time.Duration) (dropped []entry) {
	w.q = append(w.q, e)
	cut := e.t.Add(-span)
	i := 0
	for i < len(w.q) && !w.q[i].t.After(cut) {
		i++
	}
	dropped, w.q = w.q[:i], w.q[i:]
	return dropped
}

// crossed reports whether the window is over its limit for the first
// time in this run.
func (w *window) crossed(over bool) bool {
	if !over {
		w.alerted = false
		return false
	}
	if w.alerted {
		return false
	}
	w.alerted = true
	return true
}

func (w *window) last() time.Time {
	if len(w.q) == 0 {
		return time.Time{}
	}
	return w.q[len(w.q)-1].t
}

// patientWindow counts the distinct patients of one actor's reads.
type patientWindow struct {
	window
	counts map[string]int
}

// add records a read and reports, once per run above the limit, that the
// distinct patients within the span exceed limit.
func (w *patientWindow) add(t time.Time, patient string, index uint64, span time.Duration, limit int) (first uint64, n int, raise bool) {
	w.counts[patient]++
	for _, e := range w.push(entry{t, index, patient}, span) {
		if w.counts[e.patient]--; w.counts[e.patient] == 0 {
			delete(w.counts, e.patient)
		}
	}
	n = len(w.counts)
	return w.q[0].index, n, w.crossed(n > limit)
}

// eventWindow counts events, such as refused requests.
type eventWindow struct{ window }

// add records an event and reports, once per run at or above the limit,
// how many there are within the span.
func (w *eventWindow) add(t time.Time, index uint64, span time.Duration, limit int) (first uint64, n int, raise bool) {
	w.push(entry{t: t, index: index}, span)
	n = len(w.q)
	return w.q[0].index, n, w.crossed(n >= limit)
}
