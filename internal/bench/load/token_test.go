package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestTokenRenewal checks a token is reused while fresh, renewed a fifth
// of its lifetime before it expires, and renewed when the server refuses it.
func TestTokenRenewal(t *testing.T) {
	var issued atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" || r.FormValue("grant_type") != "client_credentials" || r.FormValue("client_secret") != "s" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		n := issued.Add(1)
		fmt.Fprintf(w, `{"access_token":"t%d","token_type":"Bearer","expires_in":300}`, n)
	}))
	defer srv.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := &tokenSource{hc: srv.Client(), url: srv.URL + "/oauth2/token", id: "c", secret: "s", now: func() time.Time { return now }}
	get := func(want string) {
		t.Helper()
		got, err := ts.get(context.Background())
		if err != nil || got != want {
			t.Fatalf("get = %q, %v; want %q", got, err, want)
		}
	}
	get("t1")
	now = now.Add(239 * time.Second) // 300 s less a fifth (60 s): renew from 240 s on
	get("t1")
	now = now.Add(time.Second)
	get("t2")
	ts.invalidate("t1") // an old token: no effect
	get("t2")
	ts.invalidate("t2")
	get("t3")

	ts.secret = "wrong"
	ts.invalidate("t3")
	if _, err := ts.get(context.Background()); err == nil {
		t.Fatal("wrong secret: no error")
	}
}
