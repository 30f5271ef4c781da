package load

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Table renders the report as an aligned text table.
func (r Report) Table() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("target", r.Target)
	row("scenario", fmt.Sprintf("%s, %d clients, %s", r.Scenario, r.Clients, r.Duration.Round(time.Millisecond)))
	if r.Preload > 0 {
		row("preload", r.Preload.Round(time.Millisecond).String()+" (not measured)")
	}
	row("requests", fmt.Sprintf("%d (%d errors)", r.Requests, r.Errors))
	row("req/s", fmt.Sprintf("%.1f", r.ReqPerSec))
	if r.Scenario == "import" {
		row("resources/s", fmt.Sprintf("%.1f (%d resources in Bundles of %d)", r.ResourcesPerSec, r.Resources, bundleEntries))
	}
	row("latency", fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max)))
	var st []string
	for _, code := range slices.Sorted(maps.Keys(r.ByStatus)) {
		name := fmt.Sprint(code)
		if code == 0 {
			name = "transport"
		}
		st = append(st, fmt.Sprintf("%s: %d", name, r.ByStatus[code]))
	}
	row("by status", strings.Join(st, ", "))
	var ops []string
	for _, op := range slices.Sorted(maps.Keys(r.Ops)) {
		ops = append(ops, fmt.Sprintf("%s: %d", op, r.Ops[op]))
	}
	row("by operation", strings.Join(ops, ", "))
	if r.ServerRSSPeakMB > 0 {
		row("server CPU", fmt.Sprintf("%.2f s (%.2f cores)", r.ServerCPUSeconds, r.ServerCPUSeconds/r.Duration.Seconds()))
		row("server RSS", fmt.Sprintf("start %.1f MB, peak %.1f MB, end %.1f MB", r.ServerRSSStartMB, r.ServerRSSPeakMB, r.ServerRSSEndMB))
	}
	if r.FirstError != "" {
		row("first error", r.FirstError)
	}
	tw.Flush()
	return b.String()
}
