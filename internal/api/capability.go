package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
)

type code struct {
	Code string `json:"code"`
}

type searchParam struct {
	Name       string `json:"name"`
	Definition string `json:"definition,omitempty"`
	Type       string `json:"type"`
}

// capabilityStatement lists exactly what this server does: every R4
// resource type with the instance and type interactions implemented here,
// its search parameters (every R4 parameter ward indexes, from the
// generated registry), and the system interactions.
func capabilityStatement(base, version string, now time.Time) []byte {
	type resource struct {
		Type              string        `json:"type"`
		Profile           string        `json:"profile"`
		Interaction       []code        `json:"interaction"`
		Versioning        string        `json:"versioning"`
		ReadHistory       bool          `json:"readHistory"`
		UpdateCreate      bool          `json:"updateCreate"`
		ConditionalCreate bool          `json:"conditionalCreate"`
		ConditionalRead   string        `json:"conditionalRead"`
		ConditionalUpdate bool          `json:"conditionalUpdate"`
		ConditionalDelete string        `json:"conditionalDelete"`
		SearchInclude     []string      `json:"searchInclude,omitempty"`
		SearchRevInclude  []string      `json:"searchRevInclude,omitempty"`
		SearchParam       []searchParam `json:"searchParam,omitempty"`
	}
	interactions := []code{{"read"}, {"vread"}, {"update"}, {"delete"}, {"history-instance"}, {"history-type"}, {"create"}, {"search-type"}}
	revIncludes := map[string][]string{} // target type → Source:param
	for _, t := range fhir.ResourceTypes() {
		for _, p := range search.Params(t) {
			for _, target := range p.Targets {
				revIncludes[target] = append(revIncludes[target], t+":"+p.Code)
			}
		}
	}
	var rs []resource
	for _, t := range fhir.ResourceTypes() {
		r := resource{
			Type: t, Profile: "http://hl7.org/fhir/StructureDefinition/" + t,
			Interaction: interactions, Versioning: "versioned-update", ReadHistory: true, UpdateCreate: true,
			ConditionalCreate: true, ConditionalUpdate: true,
			ConditionalRead: "not-supported", ConditionalDelete: "single",
			SearchRevInclude: revIncludes[t],
		}
		for _, p := range search.Params(t) {
			r.SearchParam = append(r.SearchParam, searchParam{Name: p.Code, Definition: p.Definition, Type: p.Type.String()})
			if p.Type == search.Reference {
				r.SearchInclude = append(r.SearchInclude, t+":"+p.Code)
			}
		}
		rs = append(rs, r)
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
