package report

import (
	"encoding/csv"
	"io"
	"strconv"
)

// csvHeader names the CSV columns, one per event field.
var csvHeader = []string{"index", "time", "tenant", "actor_id", "actor_name", "role", "session", "action", "subtype",
	"entity_type", "entity_id", "version", "patient", "purpose", "outcome", "ip", "user_agent", "entry_point", "request_id"}

// csvTime is RFC 3339 to the millisecond, the ledger's precision.
const csvTime = "2006-01-02T15:04:05.000Z07:00"

// writeCSV writes one RFC 4180 record per event after a header row.
func writeCSV(w io.Writer, r report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, rw := range r.Rows {
		e := rw.Event
		version := ""
		if e.Version != 0 {
			version = strconv.FormatInt(e.Version, 10)
		}
		outcome := ""
		if e.Outcome != 0 {
			outcome = strconv.Itoa(e.Outcome)
		}
		rec := []string{strconv.FormatUint(rw.Index, 10), rw.Time.Format(csvTime), e.Tenant, e.ActorID, rw.ActorName, e.Role,
			e.SessionID, e.Action, e.Subtype, e.EntityType, e.EntityID, version, e.PatientID, e.Purpose, outcome,
			e.SourceIP, e.UserAgent, e.EntryPoint, e.RequestID}
		for i := range rec {
			rec[i] = cell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses a value a spreadsheet would run as a formula (CSV
// injection): one starting with = + - @ tab or CR gets a leading quote.
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
