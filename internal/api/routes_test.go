package api_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api"
	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/identity"
)

// TestEveryRouteDecides walks every registered data route with a request
// that succeeds, proving each one asks the access package: the pipeline
// turns a success without an access decision into a 500. A route added
// without an entry here fails the test, so it cannot be forgotten.
func TestEveryRouteDecides(t *testing.T) {
	h := apitest.New(t)
	ctx := context.Background()
	svc := h.Token
	auditorID, auditorSecret := h.CreateClient("default", "auditor")
	auditor := h.IssueToken(auditorID, auditorSecret)

	r := call(h, "POST", "/fhir/R4/Patient", svc, map[string]any{"resourceType": "Patient", "gender": "other"})
	pid := r.JSON(t)["id"].(string)
	newObs := func() string {
		r := call(h, "POST", "/fhir/R4/Observation", svc, map[string]any{"resourceType": "Observation", "status": "final",
			"code": map[string]any{"text": "pulse"}, "subject": map[string]any{"reference": "Patient/" + pid}})
		return r.JSON(t)["id"].(string)
	}
	oid := newObs()
	// A physician in the patient's care, stepped up, for $sign.
	r = call(h, "POST", "/fhir/R4/Practitioner", svc, map[string]any{"resourceType": "Practitioner"})
	doc := r.JSON(t)["id"].(string)
	call(h, "POST", "/fhir/R4/CareTeam", svc, map[string]any{"resourceType": "CareTeam", "subject": map[string]any{"reference": "Patient/" + pid},
		"participant": []any{map[string]any{"member": map[string]any{"reference": "Practitioner/" + doc}}}})
	p, otp, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "dr.walk", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.App.Identity.LinkFHIR(ctx, identity.Actor{Operator: true}, p.ID, "Practitioner/"+doc); err != nil {
		t.Fatal(err)
	}
	tok, _, err := h.App.Identity.StartSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	physician := tok.Reveal()
	if _, err := h.App.Identity.StepUp(ctx, physician, otp.Reveal()); err != nil {
		t.Fatal(err)
	}
	r = call(h, "POST", "/fhir/R4/Observation/"+oid+"/$sign", physician, nil)
	prov := r.JSON(t)["id"].(string)
	if _, err := h.App.Audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	obsBody := func(id string) map[string]any {
		return map[string]any{"resourceType": "Observation", "id": id, "status": "amended", "code": map[string]any{"text": "pulse"},
			"subject": map[string]any{"reference": "Patient/" + pid}}
	}
	type req struct {
		method, path, token string
		body                any
		form                string
	}
	walk := map[string]func() req{
		"GET /audit/events":            func() req { return req{"GET", "/audit/events", auditor, nil, ""} },
		"GET /audit/alerts":            func() req { return req{"GET", "/audit/alerts", auditor, nil, ""} },
		"GET /audit/checkpoint":        func() req { return req{"GET", "/audit/checkpoint", svc, nil, ""} },
		"GET /audit/proof/inclusion":   func() req { return req{"GET", "/audit/proof/inclusion?index=0", svc, nil, ""} },
		"GET /audit/proof/consistency": func() req { return req{"GET", "/audit/proof/consistency?from=1", svc, nil, ""} },
		"POST /fhir/R4/{$}": func() req {
			return req{"POST", "/fhir/R4/", svc, map[string]any{"resourceType": "Bundle", "type": "batch",
				"entry": []any{map[string]any{"request": map[string]any{"method": "GET", "url": "Observation/" + oid}}}}, ""}
		},
		"GET /fhir/R4/_history": func() req { return req{"GET", "/fhir/R4/_history", svc, nil, ""} },
		"POST /fhir/R4/{type}": func() req {
			b := obsBody("")
			delete(b, "id")
			return req{"POST", "/fhir/R4/Observation", svc, b, ""}
		},
		"GET /fhir/R4/{type}":               func() req { return req{"GET", "/fhir/R4/Observation", svc, nil, ""} },
		"POST /fhir/R4/{type}/_search":      func() req { return req{"POST", "/fhir/R4/Observation/_search", svc, nil, "status=final"} },
		"PUT /fhir/R4/{type}":               func() req { id := newObs(); return req{"PUT", "/fhir/R4/Observation?_id=" + id, svc, obsBody(id), ""} },
		"DELETE /fhir/R4/{type}":            func() req { return req{"DELETE", "/fhir/R4/Observation?_id=" + newObs(), svc, nil, ""} },
		"GET /fhir/R4/{ctype}/{cid}/{type}": func() req { return req{"GET", "/fhir/R4/Patient/" + pid + "/Observation", svc, nil, ""} },
		"GET /fhir/R4/{type}/_history":      func() req { return req{"GET", "/fhir/R4/Observation/_history", svc, nil, ""} },
		"GET /fhir/R4/{type}/{id}":          func() req { return req{"GET", "/fhir/R4/Observation/" + oid, physician, nil, ""} },
		"PUT /fhir/R4/{type}/{id}": func() req {
			id := newObs()
			return req{"PUT", "/fhir/R4/Observation/" + id, physician, obsBody(id), ""}
		},
		"DELETE /fhir/R4/{type}/{id}":       func() req { return req{"DELETE", "/fhir/R4/Observation/" + newObs(), svc, nil, ""} },
		"GET /fhir/R4/{type}/{id}/_history": func() req { return req{"GET", "/fhir/R4/Observation/" + oid + "/_history", physician, nil, ""} },
		"GET /fhir/R4/{type}/{id}/_history/{vid}": func() req {
			return req{"GET", "/fhir/R4/Observation/" + oid + "/_history/1", physician, nil, ""}
		},
		"POST /fhir/R4/{type}/{id}/$sign":      func() req { return req{"POST", "/fhir/R4/Observation/" + newObs() + "/$sign", physician, nil, ""} },
		"GET /fhir/R4/Provenance/{id}/$verify": func() req { return req{"GET", "/fhir/R4/Provenance/" + prov + "/$verify", physician, nil, ""} },
	}
	var routes []api.Route
	for _, rt := range h.App.Handler.(*api.Server).Routes() {
		if rt.Data {
			routes = append(routes, rt)
		}
	}
	if len(routes) < len(walk) {
		t.Errorf("%d data routes registered, %d walked: the walk names routes that no longer exist", len(routes), len(walk))
	}
	var missing []string
	for _, rt := range routes {
		mk, ok := walk[rt.Pattern]
		if !ok {
			missing = append(missing, rt.Pattern)
			continue
		}
		q := mk()
		hdr := map[string]string{"Authorization": "Bearer " + q.token}
		var resp *apitest.Response
		switch {
		case q.form != "":
			hdr["Content-Type"] = "application/x-www-form-urlencoded"
			resp = h.Do(q.method, q.path, strings.NewReader(url.Values{"status": {"final"}}.Encode()), hdr)
		default:
			resp = call(h, q.method, q.path, q.token, q.body)
		}
		if resp.StatusCode >= http.StatusBadRequest {
			t.Errorf("%s (%s %s): %d %s", rt.Pattern, q.method, q.path, resp.StatusCode, resp.Body)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("data routes without a request in TestEveryRouteDecides (add one that succeeds): %s", strings.Join(missing, ", "))
	}
	if strings.Contains(string(h.Log.Bytes()), "without an access decision") {
		t.Errorf("a route answered without an access decision")
	}
}
