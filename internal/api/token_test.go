package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/config"
)

func postToken(t *testing.T, h *apitest.Harness, form url.Values, basic [2]string, ctype string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", h.BaseURL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", ctype)
	if basic[0] != "" {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTokenEndpoint(t *testing.T) {
	h := apitest.New(t)
	form := "application/x-www-form-urlencoded"
	cc := url.Values{"grant_type": {"client_credentials"}}
	cases := []struct {
		name   string
		form   url.Values
		basic  [2]string
		ctype  string
		status int
	}{
		{"basic", cc, [2]string{h.ClientID, h.Secret}, form, 200},
		{"post", url.Values{"grant_type": {"client_credentials"}, "client_id": {h.ClientID}, "client_secret": {h.Secret}}, [2]string{}, form, 200},
		{"wrong secret", cc, [2]string{h.ClientID, h.Secret + "x"}, form, 401},
		{"unknown client", cc, [2]string{"c-unknown", h.Secret}, form, 401},
		{"no credentials", cc, [2]string{}, form, 401},
		{"wrong grant", url.Values{"grant_type": {"password"}}, [2]string{h.ClientID, h.Secret}, form, 400},
		{"json body", cc, [2]string{h.ClientID, h.Secret}, "application/json", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := postToken(t, h, c.form, c.basic, c.ctype)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("token response cacheable")
			}
			if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	events := h.Events()
	if len(events) != len(cases) {
		t.Errorf("%d token events recorded for %d requests", len(events), len(cases))
	}
}

func TestTokenRateLimit(t *testing.T) {
	h := apitest.New(t, func(c *config.Config) {
		c.TokenRate = config.RateLimit{PerIP: 0.001, PerClient: 0.001, Burst: 3}
	})
	// New() already spent one request of the burst.
	got429 := false
	for i := 0; i < 4; i++ {
		resp := postToken(t, h, url.Values{"grant_type": {"client_credentials"}}, [2]string{h.ClientID, "wrong"}, "application/x-www-form-urlencoded")
		if resp.StatusCode == http.StatusTooManyRequests {
			got429 = true
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if !got429 {
		t.Fatal("no 429 after exceeding the burst")
	}
}
