package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tokenSource holds the access token of the client-credentials grant and
// renews it before it expires. mu guards tok and expiry; a renewal holds
// it, so clients wait for one request instead of each sending their own.
type tokenSource struct {
	hc         *http.Client
	url        string
	id, secret string
	now        func() time.Time

	mu     sync.Mutex
	tok    string
	expiry time.Time // when to renew: a fifth of the lifetime (at most a minute) early
}

// get returns a valid token, fetching one when there is none or it is
// about to expire.
func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != "" && t.now().Before(t.expiry) {
		return t.tok, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {t.id}, "client_secret": {t.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	issued := t.now()
	resp, err := t.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench run: token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
	if resp.StatusCode != http.StatusOK || err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("bench run: token: the server answered %s: check the client id and secret (a service client)", resp.Status)
	}
	life := time.Duration(max(out.ExpiresIn, 1)) * time.Second
	t.tok, t.expiry = out.AccessToken, issued.Add(life-min(life/5, time.Minute))
	return t.tok, nil
}

// invalidate drops tok (refused by the server) so the next get renews it.
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok == tok {
		t.tok = ""
	}
}
