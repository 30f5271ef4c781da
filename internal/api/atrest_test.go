package api_test

import (
	"bytes"
	"database/sql"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"

	_ "modernc.org/sqlite"
)

// canaries are distinctive PHI values that must never appear in plaintext
// in anything ward writes: database, WAL, audit file, logs.
var canaries = []string{
	"Qzxcanaryfamily", "Wvbcanarygiven", "CANARY-MRN-884422", "77 Canarystreet Lane", "Canaryville",
	"555-0199-3377", "canary.person@example.org", "1957-03-29", "Canarynarrative", "Canarynote confidential",
}

const canaryPatient = `{"resourceType":"Patient",
 "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Canarynarrative about the patient</div>"},
 "identifier":[{"system":"urn:oid:1.2.36.146.595.217.0.1","value":"CANARY-MRN-884422"}],
 "name":[{"family":"Qzxcanaryfamily","given":["Wvbcanarygiven"]}],
 "telecom":[{"system":"phone","value":"555-0199-3377"},{"system":"email","value":"canary.person@example.org"}],
 "birthDate":"1957-03-29",
 "address":[{"line":["77 Canarystreet Lane"],"city":"Canaryville","postalCode":"02139"}]}`

func canaryObservation(patientID string) string {
	return `{"resourceType":"Observation","status":"final","code":{"text":"blood pressure"},
	 "subject":{"reference":"Patient/` + patientID + `"},
	 "note":[{"text":"Canarynote confidential: patient reports dizziness"}]}`
}

// scan reports every canary found in any file under dir or in extra.
func scan(t *testing.T, dir string, extra []byte) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("plaintext %q found in %s", c, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range canaries {
		if bytes.Contains(extra, []byte(c)) {
			t.Errorf("plaintext %q found in the log", c)
		}
	}
	if files < 3 {
		t.Fatalf("scanned only %d files; the data directory looks wrong", files)
	}
	t.Logf("scanned %d files and %d log bytes: no canary", files, len(extra))
}

func TestCanaryScan(t *testing.T) {
	h := apitest.New(t)
	resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(canaryPatient), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
	}
	pid := resp.JSON(t)["id"].(string)
	resp = h.Do("POST", "/fhir/R4/Observation", strings.NewReader(canaryObservation(pid)), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create observation: %d %s", resp.StatusCode, resp.Body)
	}
	oid := resp.JSON(t)["id"].(string)
	// Update and delete too, so history rows and deletion markers exist.
	upd := strings.Replace(canaryPatient, `{"resourceType":"Patient",`, `{"resourceType":"Patient","id":"`+pid+`",`, 1)
	if r := h.Do("PUT", "/fhir/R4/Patient/"+pid, strings.NewReader(upd), nil); r.StatusCode != 200 {
		t.Fatalf("update: %d", r.StatusCode)
	}
	h.Do("DELETE", "/fhir/R4/Observation/"+oid, nil, nil)
	// Transactions and a failed (rejected) write, which logs an error.
	h.Do("POST", "/fhir/R4/Patient", strings.NewReader(strings.Replace(canaryPatient, `"birthDate":"1957-03-29"`, `"birthDate":"1957-03-29","colour":"Canarynote confidential"`, 1)), nil)

	t.Run("after write", func(t *testing.T) { scan(t, h.Cfg.DataDir, h.Log.Bytes()) })

	db, err := sql.Open("sqlite", filepath.Join(h.Cfg.DataDir, "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Run("after checkpoint", func(t *testing.T) { scan(t, h.Cfg.DataDir, h.Log.Bytes()) })

	h.Restart()
	got := h.Do("GET", "/fhir/R4/Patient/"+pid, nil, nil)
	if got.StatusCode != 200 || !bytes.Contains(got.Body, []byte("Qzxcanaryfamily")) {
		t.Fatalf("after restart the patient does not read back: %d", got.StatusCode)
	}
	t.Run("after restart", func(t *testing.T) { scan(t, h.Cfg.DataDir, h.Log.Bytes()) })
}

// TestSwappedRowsFail moves one patient's ciphertext onto another's row
// (and vice versa) with raw SQL: both reads must fail, never return the
// other patient.
func TestSwappedRowsFail(t *testing.T) {
	h := apitest.New(t)
	create := func(family string) string {
		r := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(`{"resourceType":"Patient","name":[{"family":"`+family+`"}]}`), nil)
		if r.StatusCode != 201 {
			t.Fatalf("create: %d", r.StatusCode)
		}
		return r.JSON(t)["id"].(string)
	}
	a, b := create("Alphafamily"), create("Betafamily")
	db, err := sql.Open("sqlite", filepath.Join(h.Cfg.DataDir, "ward.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type row struct {
		body  []byte
		keyID string
	}
	rows := map[string]row{}
	for _, id := range []string{a, b} {
		var r row
		if err := db.QueryRow(`SELECT body, key_id FROM resources WHERE id = ?`, id).Scan(&r.body, &r.keyID); err != nil {
			t.Fatal(err)
		}
		rows[id] = r
	}
	if rows[a].keyID == rows[b].keyID {
		t.Error("two patients share a data key")
	}
	for id, from := range map[string]string{a: b, b: a} {
		if _, err := db.Exec(`UPDATE resources SET body = ?, key_id = ? WHERE id = ?`, rows[from].body, rows[from].keyID, id); err != nil {
			t.Fatal(err)
		}
	}
	h.DrainEvents()
	for id, other := range map[string]string{a: "Betafamily", b: "Alphafamily"} {
		h.Run(t, apitest.Scenario{
			Method: "GET", Path: "/fhir/R4/Patient/" + id,
			Status: http.StatusInternalServerError, Contains: []string{"integrity"}, Excludes: []string{other},
			Events: []apitest.Event{{Subtype: "read", Outcome: 500}},
		})
	}
}
