package load

import (
	"bytes"
	"strings"
)

// relabel replaces each synth id from[i] in a resource body (its id and
// references to it) with the server's id to[i]; empty pairs are skipped.
func relabel(body []byte, from, to []string) []byte {
	out := body
	for i := range from {
		if from[i] != "" && to[i] != "" {
			out = bytes.ReplaceAll(out, []byte(from[i]), []byte(to[i]))
		}
	}
	return out
}

// changed returns body with Resource.language set, so an update writes
// content that differs from the version it replaces.
func changed(body []byte) []byte {
	out := make([]byte, 0, len(body)+24)
	out = append(out, `{"language":"en-US",`...)
	return append(out, body[1:]...)
}

// parseLocation takes the type and id from a Location
// (…/fhir/R4/Type/id/_history/n, or Type/id/_history/n in a Bundle).
func parseLocation(loc string) (typ, id string) {
	parts := strings.Split(strings.Trim(loc, "/"), "/")
	n := len(parts)
	if n >= 4 && parts[n-2] == "_history" {
		return parts[n-4], parts[n-3]
	}
	if n >= 2 {
		return parts[n-2], parts[n-1]
	}
	return "", ""
}
