package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
)

type code struct {
	Code string `json:"code"`
}

// capabilityStatement lists exactly what this server does: every R4
// resource type with the instance and type interactions implemented here,
// and the system interactions. Search is absent until it is implemented.
func capabilityStatement(base, version string, now time.Time) []byte {
	type resource struct {
		Type              string `json:"type"`
		Profile           string `json:"profile"`
		Interaction       []code `json:"interaction"`
		Versioning        string `json:"versioning"`
		ReadHistory       bool   `json:"readHistory"`
		UpdateCreate      bool   `json:"updateCreate"`
		ConditionalCreate bool   `json:"conditionalCreate"`
		ConditionalRead   string `json:"conditionalRead"`
		ConditionalUpdate bool   `json:"conditionalUpdate"`
		ConditionalDelete string `json:"conditionalDelete"`
	}
	interactions := []code{{"read"}, {"vread"}, {"update"}, {"delete"}, {"history-instance"}, {"history-type"}, {"create"}}
	var rs []resource
	for _, t := range fhir.ResourceTypes() {
		rs = append(rs, resource{
			Type: t, Profile: "http://hl7.org/fhir/StructureDefinition/" + t,
			Interaction: interactions, Versioning: "versioned-update", ReadHistory: true, UpdateCreate: true,
			ConditionalRead: "not-supported", ConditionalDelete: "not-supported",
		})
	}
	type coding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         now.UTC().Format("2006-01-02"),
		"publisher":    "ward",
		"kind":         "instance",
		"software":     map[string]any{"name": "ward", "version": version},
		"implementation": map[string]any{
			"description": "ward: HIPAA-ready FHIR R4 server",
			"url":         base + "/fhir/R4",
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json", "json"},
		"rest": []any{map[string]any{
			"mode": "server",
			"security": map[string]any{
				"cors": false,
				"service": []any{map[string]any{"coding": []coding{{
					System: "http://terminology.hl7.org/CodeSystem/restful-security-service", Code: "OAuth", Display: "OAuth",
				}}}},
				"description": "OAuth 2 client credentials at " + base + "/oauth2/token; bearer tokens on every request except metadata.",
			},
			"resource":    rs,
			"interaction": []code{{"transaction"}, {"batch"}, {"history-system"}},
		}},
	}
	b, err := json.Marshal(cs)
	if err != nil {
		panic("capability statement: " + err.Error()) // static data; cannot fail
	}
	return b
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if !acceptsJSON(r) {
		writeOutcome(w, requestInfoFrom(r.Context()).id, http.StatusNotAcceptable, issue("not-supported", "only application/fhir+json responses are supported"))
		return
	}
	w.Header().Set("Content-Type", fhirJSON)
	w.Write(s.cap)
}
