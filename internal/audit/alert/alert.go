// Package alert watches the audit trail for signs of misuse and raises
// alerts: a user reading many patients' records, access outside working
// hours, repeated denials, break-glass, bulk export, a sign-in from a new
// network, a user reading the record of a patient with the same surname,
// and a failed ledger verification. Alerts carry ids and counts, never
// PHI, so they can be sent through any notification channel.
//
// Detector applies the rules to events in ledger order; Watcher feeds it
// the ledger's new events, keeps what it raised and notifies.
package alert

import (
	"fmt"
	"time"
)

// Rule names.
const (
	RulePatientVolume = "patient-volume"
	RuleOffHours      = "off-hours"
	RuleDenials       = "repeated-denials"
	RuleBreakGlass    = "break-glass"
	RuleBulkExport    = "bulk-export"
	RuleNewNetwork    = "new-network"
	RuleSameSurname   = "same-surname"
	RuleVerifyFailed  = "verification-failed"
)

// Severities.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
)

// Alert is one raised alert. Summary is for people and holds no PHI:
// ids, counts and the rule, never names, patient ids or values.
type Alert struct {
	ID       int64  // assigned when stored
	Key      string // one alert per key: replaying events raises nothing twice
	Time     time.Time
	Tenant   string // "" for the whole deployment (verification)
	Rule     string
	Severity string
	Actor    string // the actor id the alert is about, if any
	Summary  string
	// First and Last are the ledger indexes of the events that raised it.
	First, Last uint64
}

// Hours is a daily window of working hours in a time zone; Start == End
// means no window (the rule is off).
type Hours struct {
	Start, End time.Duration // since midnight; End < Start wraps past midnight
	Location   *time.Location
}

// ParseHours reads "HH:MM-HH:MM" in loc; "" is no window.
func ParseHours(s string, loc *time.Location) (Hours, error) {
	if s == "" {
		return Hours{Location: loc}, nil
	}
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return Hours{}, fmt.Errorf("working hours %q: want HH:MM-HH:MM", s)
	}
	h := Hours{
		Start:    time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute,
		End:      time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute,
		Location: loc,
	}
	if h.Start > 24*time.Hour || h.End > 24*time.Hour || h.Start == h.End {
		return Hours{}, fmt.Errorf("working hours %q: want HH:MM-HH:MM, start before or after end", s)
	}
	return h, nil
}

// zone is the window's time zone, UTC when unset.
func (h Hours) zone() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

// inside reports whether t falls in the window (always, with no window).
func (h Hours) inside(t time.Time) bool {
	if h.Start == h.End {
		return true
	}
	lt := t.In(h.zone())
	d := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second
	if h.Start < h.End {
		return d >= h.Start && d < h.End
	}
	return d >= h.Start || d < h.End
}

// Config sets the rules' thresholds. Zero values take the defaults.
type Config struct {
	// MaxPatients is how many distinct patients one actor may read within
	// PatientWindow before an alert (default 50 per hour).
	MaxPatients   int
	PatientWindow time.Duration
	// Denials is how many refused requests (401, 403) one actor, or one
	// address without an actor, may have within DenialWindow (default 5
	// in 10 minutes).
	Denials      int
	DenialWindow time.Duration
	// BulkReads is how many resources one request may read before it
	// counts as a bulk export (default 1,000); export operations always
	// do.
	BulkReads int
	// Hours are working hours; people's access to patient records outside
	// them raises an alert (default: no window, the rule is off). Service
	// clients are exempt: integrations run at night.
	Hours Hours
}

// withDefaults fills zero values.
func (c Config) withDefaults() Config {
	if c.MaxPatients <= 0 {
		c.MaxPatients = 50
	}
	if c.PatientWindow <= 0 {
		c.PatientWindow = time.Hour
	}
	if c.Denials <= 0 {
		c.Denials = 5
	}
	if c.DenialWindow <= 0 {
		c.DenialWindow = 10 * time.Minute
	}
	if c.BulkReads <= 0 {
		c.BulkReads = 1000
	}
	return c
}

// window is the longest look-back any rule needs: how far a restarted
// Watcher replays to rebuild the Detector's state.
func (c Config) window() time.Duration {
	return max(c.PatientWindow, c.DenialWindow)
}
