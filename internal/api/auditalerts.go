package api

import (
	"context"
	"strconv"
	"time"

	"github.com/wardhealth/ward/internal/audit/alert"
)

// AlertList lists stored audit alerts; *sqlite.DB implements it.
type AlertList interface {
	// Alerts lists the alerts of the tenant and of the whole deployment
	// with id > after, oldest first, at most limit, optionally of one
	// rule and within [from, to) (zero times: unbounded).
	Alerts(ctx context.Context, tenant, rule string, from, to time.Time, after int64, limit int) ([]alert.Alert, error)
}

type alertJSON struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Tenant     string    `json:"tenant,omitempty"`
	Rule       string    `json:"rule"`
	Severity   string    `json:"severity"`
	Actor      string    `json:"actor,omitempty"`
	Summary    string    `json:"summary"`
	FirstEvent uint64    `json:"first_event"`
	LastEvent  uint64    `json:"last_event"`
}

// auditAlerts is GET /audit/alerts: the alerts raised for the caller's
// tenant and for the whole deployment, oldest first, filtered by rule
// and time range [from, to), paged with _count and _cursor (an alert
// id). For the auditor role only; itself audited.
func (s *Server) auditAlerts(c *call) (*reply, error) {
	l, err := c.auditListing("rule")
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	rule := q.Get("rule")
	if rule != "" && !knownRules[rule] {
		return nil, bad("unknown rule", "rule")
	}
	as, err := s.d.Alerts.Alerts(c.r.Context(), c.p.Tenant, rule, l.from, l.to, int64(l.cursor), l.count+1)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if len(as) > l.count {
		as = as[:l.count]
		nq := q
		nq.Set("_cursor", strconv.FormatInt(as[l.count-1].ID, 10))
		out["next"] = s.d.BaseURL + c.r.URL.Path + "?" + nq.Encode()
	}
	list := make([]alertJSON, len(as))
	for i, a := range as {
		list[i] = alertJSON{a.ID, a.Time, a.Tenant, a.Rule, a.Severity, a.Actor, a.Summary, a.First, a.Last}
	}
	out["alerts"] = list
	return jsonReply(out)
}

var knownRules = map[string]bool{
	alert.RulePatientVolume: true, alert.RuleOffHours: true, alert.RuleDenials: true, alert.RuleBreakGlass: true,
	alert.RuleBulkExport: true, alert.RuleNewNetwork: true, alert.RuleSameSurname: true, alert.RuleVerifyFailed: true,
}
