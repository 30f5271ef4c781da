package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/audit/report"
	"github.com/wardhealth/ward/internal/config"
)

const auditReportSynopsis = "ward audit report (--patient ID | --user ID) [--tenant T] [--from TIME] [--to TIME] [--format text|csv|html] [--out FILE]\n\n" +
	"Reports who did what to a patient's records, or what one user or client did, in [--from, --to)\n" +
	"(RFC 3339; default: all time until now): one line per event, with totals. Clients are shown by\n" +
	"name, patients by id only. Producing the report is itself recorded in the audit ledger."

// reportRequest is a parsed `ward audit report`.
type reportRequest struct {
	filter report.Filter
	format report.Format
	loc    *time.Location
	out    string // file to create; "" for stdout
	params string // the flag names given, for the report's own audit event
}

// auditReportCmd is `ward audit report`.
func auditReportCmd(args []string, env Env) error {
	var c common
	fs := newFlags("audit report", auditReportSynopsis, env)
	c.register(fs, false)
	patient := fs.String("patient", "", "report the events about this patient id")
	userID := fs.String("user", "", "report the events by this actor id (client id, user id or os:<user>)")
	tenant := fs.String("tenant", "default", "tenant")
	from := fs.String("from", "", "first time included (RFC 3339; default: the start of the log)")
	to := fs.String("to", "", "first time excluded (RFC 3339; default: now)")
	format := fs.String("format", "text", "text, csv or html")
	tz := fs.String("tz", "UTC", "time zone of the times shown (IANA name, e.g. Europe/Berlin)")
	out := fs.String("out", "", "file to write (created 0600; must not exist; default: stdout)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	now := time.Now()
	req, err := reportFlags(*patient, *userID, *tenant, *from, *to, *format, *tz, now)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		fs.Usage()
		return errUsage
	}
	req.out = *out
	var names []string
	fs.Visit(func(f *flag.Flag) { names = append(names, f.Name) })
	slices.Sort(names)
	req.params = strings.Join(names, "&")
	cfg, err := c.loadData(env)
	if err != nil {
		return err
	}
	return auditReport(cfg, req, now, env)
}

// reportFlags checks the flags of `ward audit report`; an error is a
// usage error.
func reportFlags(patient, userID, tenant, from, to, format, tz string, now time.Time) (reportRequest, error) {
	var req reportRequest
	if (patient == "") == (userID == "") {
		return req, errors.New("give exactly one of --patient and --user")
	}
	if tenant == "" {
		return req, errors.New("--tenant must not be empty")
	}
	req.filter = report.Filter{Tenant: tenant, PatientID: patient, UserID: userID}
	var err error
	if req.filter.From, err = timeFlag("from", from, time.Time{}); err != nil {
		return req, err
	}
	if req.filter.To, err = timeFlag("to", to, now); err != nil {
		return req, err
	}
	if !req.filter.From.IsZero() && !req.filter.From.Before(req.filter.To) {
		return req, errors.New("--from must be before --to")
	}
	if req.format, err = report.ParseFormat(format); err != nil {
		return req, errors.New("--format must be text, csv or html")
	}
	if req.loc, err = time.LoadLocation(tz); err != nil {
		return req, fmt.Errorf("--tz: unknown time zone %q", tz)
	}
	return req, nil
}

// auditReport writes the report of the stored events req selects. The
// report's own audit event is recorded before any of it is written
// (fail-closed): an unrecorded report is not produced.
func auditReport(cfg config.Config, req reportRequest, now time.Time, env Env) (err error) {
	w := env.Stdout
	if req.out != "" {
		f, ferr := os.OpenFile(req.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr != nil {
			return fmt.Errorf("report file: %w", ferr)
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(req.out)
			}
		}()
		w = f
	}
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	// The whole report is held in memory for its totals; one patient's or
	// one user's events are a small part of the ledger.
	var entries []report.Entry
	err = ledger.Trail{R: db}.Events(ctx, 0, func(index uint64, e audit.Event) error {
		if req.filter.Match(e) {
			entries = append(entries, report.Entry{Index: index, Event: e})
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The operator running ward reads the data directory, client names
	// included (ward client list): they may see the names.
	clients, err := db.Clients(ctx, req.filter.Tenant)
	if err != nil {
		return err
	}
	names := clientNames{tenant: req.filter.Tenant, names: map[string]string{}}
	for _, c := range clients {
		names.names[c.ID] = c.Name
	}
	if err := app.RecordOperator(ctx, db, []audit.Event{reportEvent(req, names, now)}); err != nil {
		return fmt.Errorf("the report's audit event was not recorded, so no report was written: %w", err)
	}
	bw := bufio.NewWriter(w)
	err = report.Write(bw, entries, names, report.Options{Format: req.format, Location: req.loc, Filter: req.filter, Generated: now})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if req.out != "" {
		fmt.Fprintf(env.Stderr, "wrote %s: %d events\n", req.out, len(entries))
	}
	return nil
}

// reportEvent is the audit event of producing a report: the actor is the
// operating-system user running ward, as for the client commands. A
// patient's report names the patient, so it shows in their next report;
// a user's report names the user as its entity.
func reportEvent(req reportRequest, names clientNames, now time.Time) audit.Event {
	e := app.OperatorEvent(req.filter.Tenant, audit.ActionRead, "audit-report", "", "", http.StatusOK)
	e.Time, e.PatientID, e.Query = now.UTC(), req.filter.PatientID, req.params
	if id := req.filter.UserID; id != "" {
		e.EntityType, e.EntityID = "Actor", id
		if _, ok := names.names[id]; ok {
			e.EntityType = "Client"
		}
	}
	return e
}

// clientNames resolves the service clients of one tenant to their names.
type clientNames struct {
	tenant string
	names  map[string]string
}

// ActorName implements report.Names.
func (n clientNames) ActorName(tenant, id string) (string, bool) {
	if tenant != n.tenant {
		return "", false
	}
	s, ok := n.names[id]
	return s, ok
}
