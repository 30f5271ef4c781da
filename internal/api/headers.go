package api

import (
	"mime"
	"net/http"
	"strings"
)

// securityHeaders are set on every response. All responses may carry PHI
// (or an error about it), so none may be cached.
func securityHeaders(h http.Header) {
	h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// jsonMedia reports whether a media type is one of FHIR's JSON types.
func jsonMedia(mt string) bool {
	switch mt {
	case "application/fhir+json", "application/json", "application/json+fhir":
		return true
	}
	return false
}

// requestIsJSON checks a request body's Content-Type (charset, if given, must be UTF-8).
func requestIsJSON(r *http.Request) bool {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !jsonMedia(mt) {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return true
}

// acceptsJSON checks _format and Accept; absent means JSON.
func acceptsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("_format"); f != "" {
		return f == "json" || f == "fhir" || jsonMedia(f) // "fhir": /audit/events as AuditEvent resources
	}
	acc := r.Header.Get("Accept")
	if acc == "" {
		return true
	}
	for _, part := range strings.Split(acc, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if jsonMedia(mt) || mt == "*/*" || mt == "application/*" {
			return true
		}
	}
	return false
}
