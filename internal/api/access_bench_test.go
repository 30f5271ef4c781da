package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/identity"
)

// BenchmarkAccessDecision measures what the per-record access decision
// costs a search: the same search (Observation?subject=, 5 matches) by a
// service client, whose role needs no compartment check, and by a
// physician in the patient's care, whose every match is decided
// (relationship from the cache, Consents, labels). Compare the two
// ns/op (docs/benchmarks.md, "Access decision").
func BenchmarkAccessDecision(b *testing.B) {
	h := apitest.New(b)
	ctx := context.Background()
	mk := func(body string) string {
		r := h.Do("POST", "/fhir/R4/"+strings.SplitN(strings.SplitN(body, `"resourceType":"`, 2)[1], `"`, 2)[0], strings.NewReader(body), nil)
		if r.StatusCode != http.StatusCreated {
			b.Fatalf("create: %d %s", r.StatusCode, r.Body)
		}
		return r.JSON(b)["id"].(string)
	}
	doc := mk(`{"resourceType":"Practitioner"}`)
	pid := mk(`{"resourceType":"Patient","gender":"female"}`)
	mk(`{"resourceType":"CareTeam","subject":{"reference":"Patient/` + pid + `"},"participant":[{"member":{"reference":"Practitioner/` + doc + `"}}]}`)
	for range 5 {
		mk(`{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/` + pid + `"},"valueQuantity":{"value":72}}`)
	}
	p, _, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "dr.bench", Role: identity.RolePhysician})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.App.Identity.LinkFHIR(ctx, identity.Actor{Operator: true}, p.ID, "Practitioner/"+doc); err != nil {
		b.Fatal(err)
	}
	tok, _, err := h.App.Identity.StartSession(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	path := "/fhir/R4/Observation?subject=Patient/" + pid
	for name, token := range map[string]string{"service": h.Token, "physician": tok.Reveal()} {
		b.Run(name, func(b *testing.B) {
			hdr := map[string]string{"Authorization": "Bearer " + token}
			for b.Loop() {
				r := h.Do("GET", path, nil, hdr)
				if r.StatusCode != http.StatusOK || strings.Count(string(r.Body), `"mode":"match"`) != 5 {
					b.Fatalf("search: %d %s", r.StatusCode, r.Body)
				}
			}
		})
	}
}
