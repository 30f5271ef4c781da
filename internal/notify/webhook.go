// Package notify delivers PHI-free messages to people and systems
// outside ward. A Webhook POSTs each message as JSON, signed with
// HMAC-SHA256 so the receiver can check it came from this deployment.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Message is what a notification says. It must hold no PHI: callers put
// ids, rules and counts in it, never names, values or patient ids.
type Message struct {
	Kind     string    `json:"kind"` // e.g. "audit-alert"
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Tenant   string    `json:"tenant,omitempty"`
	Severity string    `json:"severity,omitempty"`
	Title    string    `json:"title"`
	Text     string    `json:"text,omitempty"`
}

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
// under the shared secret; TimestampHeader the Unix time it was sent,
// which the HMAC also covers ("<timestamp>.<body>"), so a captured
// request cannot be replayed later.
const (
	SignatureHeader = "X-Ward-Signature"
	TimestampHeader = "X-Ward-Timestamp"
)

// Webhook delivers messages by HTTPS POST.
type Webhook struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a Webhook posting to rawURL, which must be https
// (http only for a loopback address, for tests and local relays). secret
// signs every request; it must be at least 32 bytes. client nil means a
// client with a 10-second timeout.
func NewWebhook(rawURL string, secret []byte, client *http.Client) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("notify: webhook URL must be an absolute https URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return nil, errors.New("notify: webhook URL must use https (http only to a loopback address)")
	}
	if len(secret) < 32 {
		return nil, errors.New("notify: webhook secret must be at least 32 bytes")
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Webhook{url: u.String(), secret: secret, client: client, now: time.Now}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send posts m and succeeds on a 2xx answer.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, "sha256="+Sign(w.secret, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("notify: webhook: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notify: webhook answered %d", resp.StatusCode)
	}
	return nil
}

// Sign returns the hex HMAC-SHA256 of "<timestamp>.<body>" under secret,
// as a receiver recomputes it.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
