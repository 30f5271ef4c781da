package api_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
)

// benchRequest sends one request with the harness client, without the
// test helper's bookkeeping, so goroutines can share it.
func benchRequest(b *testing.B, h *apitest.Harness, method, path, body string, want int) string {
	return clientRequest(b, h.Client, h, method, path, body, want)
}

// BenchmarkAPI measures whole requests over HTTPS on loopback: token
// check, validation, encryption, SQLite, audit fsync.
func BenchmarkAPI(b *testing.B) {
	h := apitest.New(b)
	b.Run("create-patient-parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				benchRequest(b, h, "POST", "/fhir/R4/Patient", patient, 201)
			}
		})
	})
	var ids []string
	for i := 0; i < 100; i++ {
		resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(patient), nil)
		ids = append(ids, resp.JSON(b)["id"].(string))
	}
	var n atomic.Int64
	b.Run("read-patient-parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := ids[n.Add(1)%int64(len(ids))]
				benchRequest(b, h, "GET", "/fhir/R4/Patient/"+id, "", 200)
			}
		})
	})
}

// readHeavyClients is how many clients BenchmarkAPIReadHeavy runs at once.
var readHeavyClients = flag.Int("readheavy.clients", 16, "clients of BenchmarkAPIReadHeavy")

// BenchmarkAPIReadHeavy measures a mixed load over HTTPS on loopback, 9
// reads to 1 write: of every 10 requests, 4 read a Patient, 3 read an
// Observation, 2 search Observation?patient= (5 matches, one audit event
// each) and 1 creates a Patient. 16 clients keep their connections
// alive. Run with and without -tags auditdiscard to see what the audit
// ledger costs (make bench-audit-overhead).
func BenchmarkAPIReadHeavy(b *testing.B) {
	h := apitest.New(b)
	tr := h.Client.Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = *readHeavyClients // the default 2 would mean a TLS handshake per request
	client := &http.Client{Transport: tr, Timeout: h.Client.Timeout}
	b.Cleanup(tr.CloseIdleConnections)

	const patients, obsPerPatient = 200, 5
	pids := make([]string, patients)
	oids := make([]string, patients*obsPerPatient)
	var wg sync.WaitGroup
	for c := 0; c < *readHeavyClients; c++ {
		wg.Go(func() {
			for i := c; i < patients; i += *readHeavyClients {
				pids[i] = createdID(b, client, h, "Patient", patient)
				for j := 0; j < obsPerPatient; j++ {
					oids[i*obsPerPatient+j] = createdID(b, client, h, "Observation", readHeavyObservation(pids[i], j))
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}

	b.Run(fmt.Sprintf("90read-10create-%dclients", *readHeavyClients), func(b *testing.B) {
		var n atomic.Int64
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((*readHeavyClients + procs - 1) / procs)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				pid := pids[(i/10)%patients]
				switch i % 10 {
				case 0:
					clientRequest(b, client, h, "POST", "/fhir/R4/Patient", patient, 201)
				case 1, 2, 3, 4:
					clientRequest(b, client, h, "GET", "/fhir/R4/Patient/"+pid, "", 200)
				case 5, 6, 7:
					clientRequest(b, client, h, "GET", "/fhir/R4/Observation/"+oids[(i*7)%int64(len(oids))], "", 200)
				default:
					clientRequest(b, client, h, "GET", "/fhir/R4/Observation?patient="+pid, "", 200)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}

// readHeavyObservation is the j-th vital sign of a patient.
func readHeavyObservation(pid string, j int) string {
	return `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},` +
		`"subject":{"reference":"Patient/` + pid + `"},"effectiveDateTime":"2024-03-0` + strconv.Itoa(j+1) + `T10:00:00Z",` +
		`"valueQuantity":{"value":` + strconv.Itoa(60+j) + `,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`
}

// createdID creates a resource and returns its id.
func createdID(b *testing.B, client *http.Client, h *apitest.Harness, typ, body string) string {
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(clientRequest(b, client, h, "POST", "/fhir/R4/"+typ, body, 201)), &out); err != nil || out.ID == "" {
		b.Errorf("create %s: no id (%v)", typ, err)
	}
	return out.ID
}

// clientRequest sends one request with client and the harness token.
func clientRequest(b *testing.B, client *http.Client, h *apitest.Harness, method, path, body string, want int) string {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.BaseURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+h.Token)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return ""
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.Errorf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
	return string(out)
}
