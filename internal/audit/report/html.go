package report

import (
	"html/template"
	"io"
)

// page is a complete, standalone HTML page: inline style only, no
// scripts, no external resources (the policy forbids any). html/template
// escapes every value. The markup is also well-formed XML.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"time":   func(rw row) string { return rw.Time.Format(timeLayout) },
	"p":      printable,
	"counts": joinCounts,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/>
<meta name="referrer" content="no-referrer"/>
<title>Audit report: {{p .Subject}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.denied td { background: #fde2e2; }
tr.failed td { background: #fff3cd; }
dt { font-weight: bold; float: left; clear: left; width: 7em; }
dd { margin-left: 8em; }
</style>
</head>
<body>
<h1>Audit report: {{p .Subject}}</h1>
<dl>
<dt>Tenant</dt><dd>{{p .Tenant}}</dd>
<dt>Period</dt><dd>{{.Period}}</dd>
<dt>Generated</dt><dd>{{.Generated}}</dd>
<dt>Events</dt><dd>{{len .Rows}}</dd>
</dl>
<table>
<thead>
<tr><th>Index</th><th>Time</th><th>Actor</th><th>Role</th><th>Action</th><th>Entity</th><th>Patient</th><th>Purpose</th><th>Outcome</th><th>From</th><th>Via</th><th>User agent</th><th>Session</th><th>Request</th></tr>
</thead>
<tbody>
{{- range .Rows}}
<tr{{with .Class}} class="{{.}}"{{end}}><td>{{.Index}}</td><td>{{time .}}</td><td>{{p .Actor}}</td><td>{{p .Role}}</td><td>{{p .Verb}}</td><td>{{p .Entity}}</td><td>{{p .Event.PatientID}}</td><td>{{p .Event.Purpose}}</td><td>{{with .Event.Outcome}}{{.}}{{end}}</td><td>{{p .Event.SourceIP}}</td><td>{{p .Event.EntryPoint}}</td><td>{{p .Event.UserAgent}}</td><td>{{p .Event.SessionID}}</td><td>{{p .Event.RequestID}}</td></tr>
{{- else}}
<tr><td colspan="14">No events.</td></tr>
{{- end}}
</tbody>
</table>
<h2>Totals</h2>
<table>
<tbody>
<tr><th>By action</th><td>{{counts .ByAction}}</td></tr>
<tr><th>By outcome</th><td>{{counts .ByOutcome}}</td></tr>
<tr><th>Denied</th><td>{{.Denied}}</td></tr>
<tr><th>Failed</th><td>{{.Failed}}</td></tr>
</tbody>
</table>
</body>
</html>
`))

func writeHTML(w io.Writer, r report) error {
	return page.Execute(w, r)
}
