package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/config"
)

// TestAuditAlerts: repeated refused requests raise an alert, which the
// auditor lists at /audit/alerts and a real webhook receives.
func TestAuditAlerts(t *testing.T) {
	var mu sync.Mutex
	var received []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	secretFile := filepath.Join(t.TempDir(), "hook.secret")
	if err := os.WriteFile(secretFile, []byte(strings.Repeat("s3cret-", 6)), 0o600); err != nil {
		t.Fatal(err)
	}
	h := apitest.New(t, func(c *config.Config) {
		c.Alerts.Webhook, c.Alerts.WebhookSecretFile = hook.URL, secretFile
	})
	for range 5 {
		h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient", NoToken: true, Status: 401, AnyEvents: true})
	}
	n, err := h.App.Alerts.Poll(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("poll raised %d alerts (%v), want 1", n, err)
	}
	h.DrainEvents() // the alert's own ledger event

	audID, audSecret := h.CreateClient("default", "auditor")
	aud := h.IssueToken(audID, audSecret)
	r := h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/alerts", Token: aud, Status: 200,
		Events: []apitest.Event{{Action: "R", Subtype: "audit-alerts", Outcome: 200}}})
	var page struct {
		Alerts []struct {
			ID      int64
			Rule    string
			Summary string
		}
		Next string
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Alerts) != 1 || page.Alerts[0].Rule != "repeated-denials" || !strings.Contains(page.Alerts[0].Summary, "address 127.0.0.1") {
		t.Fatalf("alerts: %s", r.Body)
	}
	r = h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/alerts?rule=break-glass", Token: aud, Status: 200, AnyEvents: true})
	if !strings.Contains(string(r.Body), `"alerts":[]`) {
		t.Fatalf("rule filter: %s", r.Body)
	}
	for _, bad := range []string{"rule=nope", "_count=0", "_cursor=x", "from=yesterday", "bogus=1"} {
		h.Run(t, apitest.Scenario{Name: bad, Method: "GET", Path: "/audit/alerts?" + bad, Token: aud, Status: 400, AnyEvents: true})
	}
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/audit/alerts", Status: 403, AnyEvents: true}) // service role

	// Delivered once, by the poll that raised it.
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 1 || !strings.Contains(received[0], "repeated-denials") {
		t.Fatalf("webhook received %q", received)
	}
}
