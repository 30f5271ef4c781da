package api_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
)

// benchRequest sends one request with the harness client, without the
// test helper's bookkeeping, so goroutines can share it.
func benchRequest(b *testing.B, h *apitest.Harness, method, path, body string, want int) string {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, h.BaseURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+h.Token)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := h.Client.Do(req)
	if err != nil {
		b.Error(err)
		return ""
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		b.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	return string(out)
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
