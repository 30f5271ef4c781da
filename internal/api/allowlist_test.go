package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
)

func TestIPAllowlist(t *testing.T) {
	// The test client comes from 127.0.0.1.
	h := apitest.New(t, func(c *config.Config) {
		c.IPAllowlist = []config.AllowRule{
			{Tenant: "default", Operation: "step-up", CIDRs: []string{"10.0.0.0/8"}},
			{Tenant: "default", Role: "nurse", Operation: "sign-in", CIDRs: []string{"10.0.0.0/8"}},
			{Tenant: "default", Role: "auditor", CIDRs: []string{"192.0.2.0/24"}},
			{Tenant: "default", Role: "service", CIDRs: []string{"127.0.0.0/8", "::1"}},
		}
	})
	ctx := context.Background()
	doc, otpw, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "dr.ok", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := h.App.Identity.StartSession(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	// Ordinary requests from loopback pass; the step-up is refused, audited.
	if r := call(h, "GET", "/fhir/R4/Patient?_count=1", tok.Reveal(), nil); r.StatusCode != http.StatusOK {
		t.Errorf("search: %d %s", r.StatusCode, r.Body)
	}
	h.DrainEvents()
	if r := call(h, "POST", "/auth/step-up", tok.Reveal(), map[string]string{"password": otpw.Reveal()}); r.StatusCode != http.StatusForbidden {
		t.Errorf("step-up from outside its allowlist: %d %s", r.StatusCode, r.Body)
	}
	h.CheckEvents(t, []apitest.Event{{Subtype: "step-up", Outcome: 403}})
	// A nurse cannot sign in from here; a physician can.
	_, notp, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "nurse.y", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "nurse.y", "password": notp.Reveal()}, 403)
	post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "dr.ok", "password": otpw.Reveal()}, 200)
	// Service clients are held to their rule (loopback allowed); an
	// auditor client outside its range is refused everything.
	if r := call(h, "GET", "/fhir/R4/Patient?_count=1", h.Token, nil); r.StatusCode != http.StatusOK {
		t.Errorf("service client from loopback: %d", r.StatusCode)
	}
	id, secret := h.CreateClient("default", "auditor")
	if r := call(h, "GET", "/audit/events", h.IssueToken(id, secret), nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("auditor from outside its range: %d", r.StatusCode)
	}
}

func TestIPAllowlistConfigErrors(t *testing.T) {
	for _, rule := range []config.AllowRule{
		{CIDRs: []string{"10.0.0.0/33"}},
		{CIDRs: nil},
		{Operation: "teleport", CIDRs: []string{"10.0.0.0/8"}},
	} {
		if _, err := app.Allowlist(config.Config{IPAllowlist: []config.AllowRule{rule}}); err == nil {
			t.Errorf("rule %+v accepted", rule)
		}
	}
}
