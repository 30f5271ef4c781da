package alert_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/alert"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/notify"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// webhookNotifier adapts notify.Webhook as the app does.
type webhookNotifier struct{ w *notify.Webhook }

func (n webhookNotifier) Notify(ctx context.Context, a alert.Alert) error {
	return n.w.Send(ctx, notify.Message{Kind: "audit-alert", ID: fmt.Sprint(a.ID), Time: a.Time, Tenant: a.Tenant, Severity: a.Severity, Title: a.Rule, Text: a.Summary})
}

// receiver is a real HTTP endpoint that can be told to fail.
type receiver struct {
	srv  *httptest.Server
	fail atomic.Bool
	mu   sync.Mutex
	got  []notify.Message
	raw  []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.fail.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(req.Body)
		var m notify.Message
		json.Unmarshal(body, &m)
		r.mu.Lock()
		r.got, r.raw = append(r.got, m), append(r.raw, string(body))
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) messages() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Message(nil), r.got...)
}

func openLedger(t *testing.T, db *sqlite.DB) *ledger.Ledger {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.key")
	if _, err := ledger.CreateKeyFile(path, "test/audit", rand.Reader); err != nil {
		t.Fatal(err)
	}
	s, v, err := ledger.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(context.Background(), db, s, v, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// The watcher reads the real ledger, stores alerts once, records each in
// the ledger, delivers them over HTTP (retrying after a failure) and,
// restarted, remembers the last hour.
func TestWatcher(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	led := openLedger(t, db)
	rcv := newReceiver(t)
	secret := make([]byte, 32)
	rand.Read(secret)
	wh, err := notify.NewWebhook(rcv.srv.URL, secret, rcv.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	newWatcher := func() *alert.Watcher {
		det := alert.NewDetector(alert.Config{MaxPatients: 10}, db, nil)
		return alert.NewWatcher(ledger.Trail{R: db}, db, det, led, alert.WatcherOptions{Notifier: webhookNotifier{wh}, Now: func() time.Time { return t0 }})
	}
	record := func(evs ...audit.Event) {
		t.Helper()
		if err := led.Record(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	poll := func(w *alert.Watcher) int {
		t.Helper()
		n, err := w.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	w := newWatcher()
	for i := range 8 {
		record(read("c1", "client", fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Second)))
	}
	if n := poll(w); n != 0 {
		t.Fatalf("8 patients raised %d alerts", n)
	}
	// Restarted: the new watcher replays the last hour, so 3 more
	// patients make 11 > 10.
	w = newWatcher()
	rcv.fail.Store(true) // the first delivery fails
	for i := 8; i < 11; i++ {
		record(read("c1", "client", fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Second)))
	}
	if n := poll(w); n != 1 {
		t.Fatalf("after restart, 11 patients raised %d alerts, want 1", n)
	}
	if len(rcv.messages()) != 0 {
		t.Fatal("delivered while the receiver was down")
	}
	rcv.fail.Store(false)
	if n := poll(w); n != 0 {
		t.Fatalf("an idle poll raised %d", n)
	}
	msgs := rcv.messages()
	if len(msgs) != 1 || msgs[0].Title != alert.RulePatientVolume || msgs[0].Kind != "audit-alert" {
		t.Fatalf("delivered %+v", msgs)
	}
	for _, p := range []string{"p10", "p1\"", "Observation"} {
		if strings.Contains(rcv.raw[0], p) {
			t.Fatalf("the notification carries %q: %s", p, rcv.raw[0])
		}
	}

	// The alert is stored once and recorded in the ledger.
	as, err := db.Alerts(ctx, "t1", "", time.Time{}, time.Time{}, 0, 100)
	if err != nil || len(as) != 1 || as[0].Rule != alert.RulePatientVolume || as[0].First != 0 || as[0].Last != 10 {
		t.Fatalf("stored %+v, %v", as, err)
	}
	var recorded int
	ledger.Trail{R: db}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		if e.Subtype == alert.SubtypeAlert && e.EntityID == fmt.Sprint(as[0].ID) {
			recorded++
		}
		return nil
	})
	if recorded != 1 {
		t.Fatalf("the alert is recorded %d times in the ledger", recorded)
	}

	// A watcher started from scratch on the same database raises nothing
	// again; Raise adds a deployment-wide alert every tenant sees.
	w = newWatcher()
	if n := poll(w); n != 0 {
		t.Fatalf("a restarted watcher raised %d again", n)
	}
	if err := w.Raise(ctx, alert.Alert{Key: "verification-failed|1", Rule: alert.RuleVerifyFailed, Severity: alert.SeverityHigh, Summary: "ward audit verify failed: modified at index 3"}); err != nil {
		t.Fatal(err)
	}
	as, _ = db.Alerts(ctx, "another-tenant", "", time.Time{}, time.Time{}, 0, 100)
	if len(as) != 1 || as[0].Rule != alert.RuleVerifyFailed || as[0].Tenant != "" {
		t.Fatalf("deployment-wide alert: %+v", as)
	}
	if len(rcv.messages()) != 2 {
		t.Fatalf("delivered %d messages, want 2", len(rcv.messages()))
	}
}
