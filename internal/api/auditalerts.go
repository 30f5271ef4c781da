package api

import (
	"context"
	"strconv"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
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
	if err := c.params("rule", "from", "to", "_count", "_cursor"); err != nil {
		return nil, err
	}
	if err := c.authorize(access.ReadAudit, ""); err != nil {
		return nil, err
	}
	c.event(audit.ActionRead, c.subtype, "", "", 0)
	q := c.r.URL.Query()
	count, err := auditCount(q.Get("_count"))
	if err != nil {
		return nil, err
	}
	var after int64
	if v := q.Get("_cursor"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return nil, bad("invalid _cursor", "_cursor")
		}
	}
	lo, hi, err := auditPeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		return nil, err
	}
	rule := q.Get("rule")
	if rule != "" && !knownRules[rule] {
		return nil, bad("unknown rule", "rule")
	}
	as, err := s.d.Alerts.Alerts(c.r.Context(), c.p.Tenant, rule, lo, hi, after, count+1)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if len(as) > count {
		as = as[:count]
		nq := q
		nq.Set("_cursor", strconv.FormatInt(as[count-1].ID, 10))
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
