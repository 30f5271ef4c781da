package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/notify"
)

// A real HTTP receiver gets the message with a signature it can check.
func TestWebhookDeliversSigned(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	got := make(chan notify.Message, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		want := "sha256=" + notify.Sign(secret, r.Header.Get(notify.TimestampHeader), body)
		if !hmac.Equal([]byte(r.Header.Get(notify.SignatureHeader)), []byte(want)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		got <- m
	}))
	defer srv.Close()
	wh, err := notify.NewWebhook(srv.URL, secret, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	m := notify.Message{Kind: "audit-alert", ID: "7", Time: time.Now().UTC(), Title: "repeated-denials"}
	if err := wh.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.ID != "7" || r.Title != "repeated-denials" {
		t.Fatalf("received %+v", r)
	}

	// The receiver refuses a wrong secret: Send reports the failure.
	other := make([]byte, 32)
	rand.Read(other)
	bad, _ := notify.NewWebhook(srv.URL, other, srv.Client())
	if err := bad.Send(context.Background(), m); err == nil {
		t.Fatal("a refused delivery reported success")
	}
}

func TestWebhookRefusesBadConfig(t *testing.T) {
	secret := make([]byte, 32)
	for _, c := range []struct {
		url    string
		secret []byte
	}{
		{"http://example.org/hook", secret}, // cleartext off loopback
		{"ftp://127.0.0.1/x", secret},
		{"/relative", secret},
		{"https://example.org/hook", secret[:16]}, // short secret
	} {
		if _, err := notify.NewWebhook(c.url, c.secret, nil); err == nil {
			t.Errorf("accepted %q with a %d-byte secret", c.url, len(c.secret))
		}
	}
	if _, err := notify.NewWebhook("https://example.org/hook", secret, nil); err != nil {
		t.Fatal(err)
	}
}
