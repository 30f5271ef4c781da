package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/identity"
)

// createResource creates body with the harness's service token and
// returns the new id.
func createResource(t *testing.T, h *apitest.Harness, body map[string]any) string {
	t.Helper()
	r := call(h, "POST", "/fhir/R4/"+body["resourceType"].(string), h.Token, body)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("create %v: %d %s", body["resourceType"], r.StatusCode, r.Body)
	}
	return r.JSON(t)["id"].(string)
}

// reference is a FHIR Reference to typ/id.
func reference(typ, id string) map[string]any { return map[string]any{"reference": typ + "/" + id} }

// signedInPerson creates an account in tenant "default" (linked to
// fhirUser unless ""), opens a session for it without the sign-in steps,
// and returns the account, the session token and the one-time password.
func signedInPerson(t *testing.T, h *apitest.Harness, np identity.NewPerson, fhirUser string) (identity.Person, string, string) {
	t.Helper()
	ctx := context.Background()
	np.Tenant = "default"
	p, otp, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true}, np)
	if err != nil {
		t.Fatal(err)
	}
	if fhirUser != "" {
		if p, err = h.App.Identity.LinkFHIR(ctx, identity.Actor{Operator: true}, p.ID, fhirUser); err != nil {
			t.Fatal(err)
		}
	}
	tok, _, err := h.App.Identity.StartSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return p, tok.Reveal(), otp.Reveal()
}
