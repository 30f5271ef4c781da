package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// result is one response.
type result struct {
	status int // 0: transport error
	body   []byte
	header http.Header
}

func (res result) ok() bool { return res.status >= 200 && res.status < 300 }

// maxBody bounds a response body read into memory.
const maxBody = 64 << 20

// do sends one request to path (below the target) with a bearer token.
// While measuring it takes a slot of MaxRequests, stops at the deadline
// (errStop) and records latency, status and op; a failed request is
// counted, not returned. During preload nothing is counted and a failed
// request is an error.
func (r *runner) do(ctx context.Context, op, method, path string, body []byte) (result, error) {
	measuring := r.measure.Load()
	if ctx.Err() != nil {
		return result{}, errStop
	}
	if measuring && (!time.Now().Before(r.deadline) || r.claimed.Add(1) > int64(r.o.MaxRequests)) {
		return result{}, errStop
	}
	tok, err := r.tok.get(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return result{}, errStop
		}
		if measuring { // counted as a transport error, without a latency
			r.done.Add(1)
			r.mu.Lock()
			r.byStatus[0]++
			r.ops[op]++
			r.mu.Unlock()
		}
		return r.fail(measuring, op, method, path, result{}, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return result{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	t0 := time.Now()
	resp, err := r.hc.Do(req)
	var res result
	if err == nil {
		res.status, res.header = resp.StatusCode, resp.Header
		res.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			res.status = 0
		}
	}
	d := time.Since(t0)
	if ctx.Err() != nil {
		return result{}, errStop // cancelled: neither a success nor the server's failure
	}
	if res.status == http.StatusUnauthorized {
		r.tok.invalidate(tok)
	}
	if measuring {
		r.hist.record(d)
		r.done.Add(1)
		r.mu.Lock()
		r.byStatus[res.status]++
		r.ops[op]++
		r.mu.Unlock()
	}
	if err != nil || !res.ok() {
		return r.fail(measuring, op, method, path, res, err)
	}
	return res, nil
}

// fail counts a failed request (measuring) or returns it as an error (preload).
func (r *runner) fail(measuring bool, op, method, path string, res result, err error) (result, error) {
	msg := fmt.Sprintf("%s: %s %s: ", op, method, path)
	if err != nil {
		msg += err.Error()
	} else {
		msg += fmt.Sprintf("status %d: %s", res.status, truncate(res.body, 300))
	}
	if !measuring {
		return res, fmt.Errorf("%s", msg)
	}
	r.errs.Add(1)
	r.mu.Lock()
	if r.firstErr == "" {
		r.firstErr = msg
	}
	r.mu.Unlock()
	return res, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
