package api_test

import (
	"bytes"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
)

const patient = `{"resourceType":"Patient","name":[{"family":"Testfamily","given":["Ann"]}],"gender":"female","birthDate":"1980-02-03"}`

func TestPatientLifecycle(t *testing.T) {
	h := apitest.New(t)
	resp := h.Run(t, apitest.Scenario{
		Method: "POST", Path: "/fhir/R4/Patient", Body: patient,
		Status:     http.StatusCreated,
		WantHeader: map[string]string{"ETag": `W/"1"`, "Location": "*", "Last-Modified": "*", "Content-Type": "application/fhir+json; charset=utf-8"},
		Contains:   []string{`"versionId":"1"`, `"family":"Testfamily"`},
		Events:     []apitest.Event{{Action: "C", Subtype: "create", EntityType: "Patient", Outcome: 201}},
	})
	id, _ := resp.JSON(t)["id"].(string)
	if id == "" {
		t.Fatal("no id assigned")
	}
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/fhir/R4/Patient/"+id+"/_history/1") {
		t.Errorf("Location = %q", loc)
	}
	p := "/fhir/R4/Patient/" + id
	h.Run(t, apitest.Scenario{
		Method: "GET", Path: p, Status: 200,
		WantHeader: map[string]string{"ETag": `W/"1"`},
		Contains:   []string{`"id":"` + id + `"`, `"Testfamily"`},
		Events:     []apitest.Event{{Action: "R", Subtype: "read", EntityType: "Patient", Outcome: 200}},
	})
	updated := strings.Replace(patient, `{"resourceType":"Patient",`, `{"resourceType":"Patient","id":"`+id+`",`, 1)
	updated = strings.Replace(updated, "Ann", "Anna", 1)
	h.Run(t, apitest.Scenario{
		Method: "PUT", Path: p, Body: updated, Header: map[string]string{"If-Match": `W/"1"`},
		Status: 200, WantHeader: map[string]string{"ETag": `W/"2"`}, Contains: []string{`"Anna"`, `"versionId":"2"`},
		Events: []apitest.Event{{Action: "U", Subtype: "update", EntityType: "Patient", Outcome: 200}},
	})
	h.Run(t, apitest.Scenario{
		Name: "stale If-Match", Method: "PUT", Path: p, Body: updated, Header: map[string]string{"If-Match": `W/"1"`},
		Status: http.StatusPreconditionFailed, Contains: []string{`"code":"conflict"`},
		Events: []apitest.Event{{Action: "U", Subtype: "update", Outcome: 412}},
	})
	h.Run(t, apitest.Scenario{
		Method: "GET", Path: p + "/_history/1", Status: 200, Contains: []string{`"Ann"`}, Excludes: []string{`"Anna"`},
		Events: []apitest.Event{{Action: "R", Subtype: "vread", Outcome: 200}},
	})
	h.Run(t, apitest.Scenario{
		Method: "DELETE", Path: p, Status: http.StatusNoContent, WantHeader: map[string]string{"ETag": `W/"3"`},
		Events: []apitest.Event{{Action: "D", Subtype: "delete", EntityType: "Patient", Outcome: 204}},
	})
	h.Run(t, apitest.Scenario{
		Method: "GET", Path: p, Status: http.StatusGone, Contains: []string{`"code":"deleted"`}, Excludes: []string{"Testfamily"},
		Events: []apitest.Event{{Action: "R", Subtype: "read", Outcome: 410}},
	})
	resp = h.Run(t, apitest.Scenario{
		Method: "GET", Path: p + "/_history", Status: 200,
		Contains: []string{`"type":"history"`, `"method":"DELETE"`, `"method":"PUT"`, `"method":"POST"`},
		Events:   []apitest.Event{{Action: "R", Subtype: "history-instance", EntityType: "Patient", Count: 3}},
	})
	if n := len(resp.JSON(t)["entry"].([]any)); n != 3 {
		t.Errorf("history has %d entries, want 3", n)
	}
	h.Run(t, apitest.Scenario{
		Method: "GET", Path: "/fhir/R4/Patient/_history?_count=1", Status: 200, Contains: []string{`"relation":"next"`},
		Events: []apitest.Event{{Subtype: "history-type", Count: 1}},
	})
}

func TestAuthentication(t *testing.T) {
	h := apitest.New(t)
	h.Run(t, apitest.Scenario{
		Name: "no token", Method: "GET", Path: "/fhir/R4/Patient/x", NoToken: true,
		Status: 401, WantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="ward"`},
		Events: []apitest.Event{{Subtype: "authenticate", Outcome: 401}},
	})
	h.Run(t, apitest.Scenario{
		Name: "bad token", Method: "GET", Path: "/fhir/R4/Patient/x", Token: "ward_at_forged",
		Status: 401, WantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="ward", error="invalid_token"`},
		Events: []apitest.Event{{Subtype: "authenticate", Outcome: 401}},
	})
	h.Run(t, apitest.Scenario{
		Name: "metadata needs no token", Method: "GET", Path: "/fhir/R4/metadata", NoToken: true,
		Status: 200, Contains: []string{`"CapabilityStatement"`, `"fhirVersion":"4.0.1"`, `"type":"Observation"`, `"transaction"`,
			`"search-type"`, `{"name":"family","definition":"http://hl7.org/fhir/SearchParameter/individual-family","type":"string"}`,
			`"Observation:subject"`},
		Excludes: []string{`"name":"near"`, `"type":"composite"`},
	})
	h.Run(t, apitest.Scenario{Name: "healthz", Method: "GET", Path: "/healthz", NoToken: true, Status: 200})
	h.Run(t, apitest.Scenario{Name: "readyz", Method: "GET", Path: "/readyz", NoToken: true, Status: 200})

	if err := h.App.Auth.DisableClient(t.Context(), h.ClientID); err != nil {
		t.Fatal(err)
	}
	h.Run(t, apitest.Scenario{
		Name: "disabled client's token revoked", Method: "GET", Path: "/fhir/R4/Patient/x",
		Status: 401, Events: []apitest.Event{{Subtype: "authenticate", Outcome: 401}},
	})
}

func TestSecurityHeaders(t *testing.T) {
	h := apitest.New(t)
	for _, path := range []string{"/fhir/R4/Patient/nope", "/fhir/R4/metadata", "/nowhere", "/healthz"} {
		resp := h.Do("GET", path, nil, nil)
		for k, want := range map[string]string{
			"Cache-Control":             "no-store",
			"Pragma":                    "no-cache",
			"X-Content-Type-Options":    "nosniff",
			"Referrer-Policy":           "no-referrer",
			"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP = %q", path, csp)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	h := apitest.New(t)
	resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(patient), nil)
	id, _ := resp.JSON(t)["id"].(string)
	otherID, otherSecret := h.CreateClient("other", "service")
	other := h.IssueToken(otherID, otherSecret)
	h.DrainEvents()
	h.Run(t, apitest.Scenario{
		Method: "GET", Path: "/fhir/R4/Patient/" + id, Token: other,
		Status: 404, Excludes: []string{"Testfamily"},
		Events: []apitest.Event{{Subtype: "read", Outcome: 404}},
	})
	h.Run(t, apitest.Scenario{
		Method: "GET", Path: "/fhir/R4/_history", Token: other, Status: 200, Excludes: []string{id},
		Events: []apitest.Event{{Subtype: "history-system"}},
	})
}

func TestAuditFailClosed(t *testing.T) {
	h := apitest.New(t)
	resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(patient), nil)
	id, _ := resp.JSON(t)["id"].(string)
	if err := h.App.Audit.Close(); err != nil {
		t.Fatal(err)
	}
	resp = h.Do("GET", "/fhir/R4/Patient/"+id, nil, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d with the audit trail down, want 503", resp.StatusCode)
	}
	if bytes.Contains(resp.Body, []byte("Testfamily")) {
		t.Error("PHI returned although the access could not be recorded")
	}
}

func TestBadInput(t *testing.T) {
	h := apitest.New(t)
	resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(patient), nil)
	id, _ := resp.JSON(t)["id"].(string)
	p := "/fhir/R4/Patient/" + id
	before := h.Do("GET", p, nil, nil).Body
	long := strings.Repeat("a", 65)
	deep := strings.Repeat(`{"extension":[`, 60) + strings.Repeat(`]}`, 60)
	cases := []struct {
		name, method, path, body, ctype string
		status                          int
		contains                        []string
	}{
		{"malformed JSON", "PUT", p, `{"resourceType":"Patient",`, "", 400, []string{`"OperationOutcome"`}},
		{"invalid UTF-8", "PUT", p, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"\xff\"}", "", 400, nil},
		{"duplicate key", "PUT", p, `{"resourceType":"Patient","id":"` + id + `","gender":"male","gender":"female"}`, "", 400, nil},
		{"null value", "PUT", p, `{"resourceType":"Patient","id":"` + id + `","gender":null}`, "", 400, nil},
		{"unknown element", "PUT", p, `{"resourceType":"Patient","id":"` + id + `","colour":"blue"}`, "", 400, []string{"Patient.colour"}},
		{"invalid date", "PUT", p, `{"resourceType":"Patient","id":"` + id + `","birthDate":"1980-13-45"}`, "", 400, []string{"Patient.birthDate"}},
		{"wrong JSON type", "PUT", p, `{"resourceType":"Patient","id":"` + id + `","active":"yes"}`, "", 400, []string{"Patient.active"}},
		{"type mismatch", "PUT", p, `{"resourceType":"Observation","id":"` + id + `","status":"final","code":{"text":"x"}}`, "", 400, []string{"resourceType"}},
		{"id mismatch", "PUT", p, `{"resourceType":"Patient","id":"other"}`, "", 400, nil},
		{"missing id on update", "PUT", p, `{"resourceType":"Patient"}`, "", 400, nil},
		{"too deep", "PUT", p, `{"resourceType":"Patient","id":"` + id + `","name":[` + deep + `]}`, "", 400, nil},
		{"xml content type", "PUT", p, `<Patient/>`, "application/fhir+xml", 415, nil},
		{"no content type", "PUT", p, patient, "-", 415, nil},
		{"overlong id", "GET", "/fhir/R4/Patient/" + long, "", "", 400, nil},
		{"unknown type", "GET", "/fhir/R4/Patientx/1", "", "", 404, nil},
		{"unknown route", "GET", "/nope/nothing", "", "", 404, nil},
		{"bad If-Match", "PUT", p, patient, "", 400, nil},
		{"unknown parameter", "GET", p + "?foo=bar", "", "", 400, []string{"foo"}},
		{"bad version", "GET", p + "/_history/zero", "", "", 400, nil},
		{"xml accept", "GET", p + "?_format=xml", "", "", 406, nil},
		{"required element missing", "POST", "/fhir/R4/Observation", `{"resourceType":"Observation","code":{"text":"x"}}`, "", 400, []string{"Observation.status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := map[string]string{}
			switch c.ctype {
			case "-":
				hdr["Content-Type"] = ""
			case "":
			default:
				hdr["Content-Type"] = c.ctype
			}
			if c.name == "bad If-Match" {
				hdr["If-Match"] = "version one"
			}
			var body *strings.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			var resp *apitest.Response
			if body != nil {
				resp = h.Do(c.method, c.path, body, hdr)
			} else {
				resp = h.Do(c.method, c.path, nil, hdr)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; body %.400s", resp.StatusCode, c.status, resp.Body)
			}
			if !bytes.Contains(resp.Body, []byte(`"resourceType":"OperationOutcome"`)) {
				t.Errorf("no OperationOutcome: %.300s", resp.Body)
			}
			for _, s := range c.contains {
				if !bytes.Contains(resp.Body, []byte(s)) {
					t.Errorf("outcome lacks %q: %.400s", s, resp.Body)
				}
			}
			for _, s := range []string{"blue", "1980-13-45", "Testfamily"} {
				if bytes.Contains(resp.Body, []byte(s)) {
					t.Errorf("outcome echoes input value %q", s)
				}
			}
		})
	}
	t.Run("body over limit", func(t *testing.T) {
		big := `{"resourceType":"Patient","id":"` + id + `","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + strings.Repeat("x", 17<<20) + `</div>"}}`
		resp := h.Do("PUT", p, strings.NewReader(big), nil)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	if after := h.Do("GET", p, nil, nil).Body; !bytes.Equal(before, after) {
		t.Errorf("bad input changed the stored resource:\nbefore %s\nafter  %s", before, after)
	}
}

func TestTransaction(t *testing.T) {
	h := apitest.New(t)
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111","resource":{"resourceType":"Patient","name":[{"family":"Txfamily"}]},"request":{"method":"POST","url":"Patient"}},
	 {"fullUrl":"urn:uuid:22222222-2222-4222-8222-222222222222","resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}},"request":{"method":"POST","url":"Observation"}}]}`
	resp := h.Run(t, apitest.Scenario{
		Method: "POST", Path: "/fhir/R4", Body: tx, Status: 200,
		Contains: []string{`"type":"transaction-response"`, `"status":"201 Created"`},
		Events:   []apitest.Event{{Action: "C", Subtype: "transaction", Count: 2}},
	})
	entries := resp.JSON(t)["entry"].([]any)
	loc := func(i int) string {
		return entries[i].(map[string]any)["response"].(map[string]any)["location"].(string)
	}
	patientID := strings.Split(loc(0), "/")[len(strings.Split(loc(0), "/"))-3]
	obsPath := loc(1)[strings.Index(loc(1), "/fhir/R4/"):strings.Index(loc(1), "/_history")]
	obs := h.Do("GET", obsPath, nil, nil)
	if !bytes.Contains(obs.Body, []byte(`"reference":"Patient/`+patientID+`"`)) {
		t.Errorf("urn:uuid reference not rewritten: %s", obs.Body)
	}

	failing := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"Rollback"}]},"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","id":"p9"},"request":{"method":"PUT","url":"Patient/p9","ifMatch":"W/\"4\""}}]}`
	h.Run(t, apitest.Scenario{
		Method: "POST", Path: "/fhir/R4", Body: failing, Status: http.StatusPreconditionFailed,
		Contains: []string{"Bundle.entry[1]"}, AnyEvents: true,
	})
	hist := h.Do("GET", "/fhir/R4/Patient/_history", nil, nil)
	if bytes.Contains(hist.Body, []byte("Rollback")) {
		t.Error("a failed transaction left a write behind")
	}

	h.Run(t, apitest.Scenario{
		Name: "unresolved urn", Method: "POST", Path: "/fhir/R4", Status: 400,
		Body:      `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:99999999-9999-4999-8999-999999999999"}},"request":{"method":"POST","url":"Observation"}}]}`,
		Contains:  []string{"Bundle.entry[0]"},
		AnyEvents: true,
	})
}

func TestBatch(t *testing.T) {
	h := apitest.New(t)
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"Batchfamily"}]},"request":{"method":"POST","url":"Patient"}},
	 {"request":{"method":"GET","url":"Patient/does-not-exist"}},
	 {"request":{"method":"DELETE","url":"Patient/also-missing"}}]}`
	resp := h.Run(t, apitest.Scenario{
		Method: "POST", Path: "/fhir/R4", Body: batch, Status: 200,
		Contains: []string{`"type":"batch-response"`, `"status":"201 Created"`, `"status":"404 Not Found"`, `"status":"204 No Content"`},
		Events: []apitest.Event{
			{Action: "C", Subtype: "batch", EntityType: "Patient", Outcome: 201},
			{Action: "R", Subtype: "batch", EntityType: "Patient", Outcome: 404},
			{Action: "D", Subtype: "batch", EntityType: "Patient", Outcome: 204},
		},
	})
	if n := len(resp.JSON(t)["entry"].([]any)); n != 3 {
		t.Errorf("%d response entries, want 3", n)
	}
}

// TestWriteCommitsWithItsEvent: a write's audit event is appended in the
// write's own transaction, so when the event cannot be stored the data is
// not stored either (and the client gets 503, not a half-recorded write).
func TestWriteCommitsWithItsEvent(t *testing.T) {
	h := apitest.New(t)
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: http.StatusCreated,
		Events: []apitest.Event{{Action: "C", Subtype: "create", EntityType: "Patient", Outcome: 201}}})
	db, err := sql.Open("sqlite", filepath.Join(h.Cfg.DataDir, "ward.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func() (n int) {
		if err := db.QueryRow(`SELECT count(*) FROM resources`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	if _, err := db.Exec(`CREATE TRIGGER no_leaves BEFORE INSERT ON audit_leaves BEGIN SELECT RAISE(ABORT, 'test: ledger down'); END`); err != nil {
		t.Fatal(err)
	}
	resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(patient), nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("create with the ledger down: status %d, want 503; %s", resp.StatusCode, resp.Body)
	}
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + patient + `,"request":{"method":"POST","url":"Patient"}}]}`
	if resp := h.Do("POST", "/fhir/R4", strings.NewReader(tx), nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("transaction with the ledger down: status %d, want 503", resp.StatusCode)
	}
	if n := count(); n != before {
		t.Fatalf("%d resource rows written although their events were not", n-before)
	}
	if _, err := db.Exec(`DROP TRIGGER no_leaves`); err != nil {
		t.Fatal(err)
	}
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: patient, Status: http.StatusCreated, AnyEvents: true})
}
