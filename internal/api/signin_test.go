package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
)

var jsonCT = map[string]string{"Content-Type": "application/json", "Authorization": ""}

// post sends a sign-in step and decodes the JSON answer.
func post(t *testing.T, h *apitest.Harness, path string, body any, want int) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp := h.Do("POST", path, strings.NewReader(string(b)), jsonCT)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, resp.Body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST %s: Cache-Control %q", path, resp.Header.Get("Cache-Control"))
	}
	return resp.JSON(t)
}

func TestSignInAPI(t *testing.T) {
	h := apitest.New(t)
	ctx := context.Background()
	p, otpw, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "jsmith", Name: "Jane Smith", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	h.DrainEvents()

	// Wrong password and unknown user: the same answer, each audited.
	bad := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "jsmith", "password": "nope"}, 401)
	unknown := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "nobody", "password": "nope"}, 401)
	if fmt.Sprint(bad) != fmt.Sprint(unknown) || bad["error"] != "invalid_credentials" {
		t.Errorf("wrong password %v, unknown user %v", bad, unknown)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "login", EntityType: "User", Outcome: 401, Count: 2}})

	// Bad requests change nothing.
	if r := h.Do("POST", "/auth/login", strings.NewReader(`{"username":"jsmith"}`), map[string]string{"Content-Type": "text/plain"}); r.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", r.StatusCode)
	}
	if r := h.Do("POST", "/auth/login", strings.NewReader(`{"username":"jsmith","admin":true}`), jsonCT); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %d", r.StatusCode)
	}
	if r := h.Do("POST", "/auth/login", strings.NewReader(`{"username":1}`), jsonCT); r.StatusCode != http.StatusBadRequest {
		t.Errorf("number for a string: %d", r.StatusCode)
	}
	h.DrainEvents()

	// One-time password, then a new one under the policy.
	in := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "JSmith", "password": otpw.Reveal()}, 200)
	if in["status"] != string(identity.StepPassword) {
		t.Fatalf("login: %v", in)
	}
	rej := post(t, h, "/auth/password", map[string]string{"mfa_token": in["mfa_token"].(string), "new_password": "Password1!"}, 400)
	if rej["error"] != "password_rejected" || !strings.Contains(fmt.Sprint(rej["rules"]), "common") || strings.Contains(fmt.Sprint(rej), "Password1!") {
		t.Errorf("rejection %v", rej)
	}
	in = post(t, h, "/auth/password", map[string]string{"mfa_token": in["mfa_token"].(string), "new_password": "Tangerine-Orbit-47!"}, 200)
	if in["status"] != string(identity.StepEnroll) {
		t.Fatalf("after the new password: %v", in)
	}
	// Enrolment, with a code the test computes from the secret.
	e := post(t, h, "/auth/mfa/totp/enroll", map[string]string{"mfa_token": in["mfa_token"].(string)}, 200)
	secret := e["secret"].(string)
	if !strings.HasPrefix(e["otpauth_uri"].(string), "otpauth://totp/") {
		t.Errorf("enrolment %v", e)
	}
	post(t, h, "/auth/mfa/totp", map[string]string{"mfa_token": in["mfa_token"].(string), "code": "000000"}, 401)
	code, err := totp.GenerateCodeCustom(secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	ses := post(t, h, "/auth/mfa/totp", map[string]string{"mfa_token": in["mfa_token"].(string), "code": code}, 200)
	tok, _ := ses["access_token"].(string)
	if !strings.HasPrefix(tok, identity.SessionTokenPrefix) || len(ses["recovery_codes"].([]any)) != 10 || ses["idle_timeout"] != float64(180) {
		t.Fatalf("session %v", ses)
	}
	h.CheckEvents(t, []apitest.Event{
		{Action: "E", Subtype: "login", EntityType: "User", Outcome: 200},
		{Action: "E", Subtype: "login-password", EntityType: "User", Outcome: 400},
		{Action: "E", Subtype: "login-password", EntityType: "User", Outcome: 200},
		{Action: "E", Subtype: "mfa-enroll", EntityType: "User", Outcome: 200},
		{Action: "E", Subtype: "mfa-totp", EntityType: "User", Outcome: 401},
		{Action: "E", Subtype: "mfa-totp", EntityType: "User", Outcome: 200},
	})

	// The session works for the caller's own session list, is named in
	// the audit trail, and signs out.
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/auth/sessions", Token: tok, Status: 200,
		Contains: []string{`"current":true`}, Excludes: []string{tok},
		Events: []apitest.Event{{Action: "R", Subtype: "sessions", EntityType: "User", Outcome: 200}}})
	for _, ev := range h.Events() {
		t.Errorf("unexpected event %+v", ev)
	}
	// A physician's session has the physician role's privileges: patients
	// yes, the audit trail no.
	if r := h.Do("GET", "/fhir/R4/Patient?_count=1", nil, map[string]string{"Authorization": "Bearer " + tok}); r.StatusCode != http.StatusOK {
		t.Errorf("a physician's session searches patients: %d", r.StatusCode)
	}
	if r := h.Do("GET", "/audit/events", nil, map[string]string{"Authorization": "Bearer " + tok}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a physician's session reads the audit trail: %d", r.StatusCode)
	}
	h.DrainEvents()
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/auth/logout", Token: tok, Status: 204,
		Events: []apitest.Event{{Action: "E", Subtype: "logout", EntityType: "User", Outcome: 204}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/auth/sessions", Token: tok, Status: 401,
		Events: []apitest.Event{{Action: "E", Subtype: "authenticate", Outcome: 401}}})

	// No event names the username or carries a secret; the successful
	// steps name the account by id.
	named := 0
	err = ledger.Trail{R: h.App.DB, L: h.App.Audit}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		all := fmt.Sprintf("%+v", e)
		if strings.Contains(strings.ToLower(all), "jsmith") || strings.Contains(all, otpw.Reveal()) || strings.Contains(all, secret) {
			t.Errorf("event reveals the username or a secret: %s", all)
		}
		if e.EntityType == "User" && e.Outcome == 200 {
			if e.EntityID != p.ID || e.ActorID != p.ID {
				t.Errorf("sign-in event names %q/%q, want %s", e.ActorID, e.EntityID, p.ID)
			}
			named++
		}
		return nil
	})
	if err != nil || named < 5 {
		t.Errorf("%d successful sign-in events name the account (%v)", named, err)
	}
}

func TestSignInFailuresAudited(t *testing.T) {
	// A wrong password for a known account names the account in the
	// trail (never in the answer); the failure that locks it adds a
	// lockout event.
	h := apitest.New(t)
	p, _, err := h.App.Identity.Create(context.Background(), identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "jsmith", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	h.DrainEvents()
	for range 5 {
		post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "jsmith", "password": "nope"}, 401)
	}
	post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "nobody", "password": "nope"}, 401)
	var logins, lockouts, anonymous int
	for _, e := range h.Events() {
		switch {
		case e.Subtype == "login" && e.EntityID == p.ID && e.ActorID == "" && e.Outcome == 401:
			logins++
		case e.Subtype == "lockout" && e.EntityID == p.ID:
			lockouts++
		case e.Subtype == "login" && e.EntityID == "" && e.Outcome == 401:
			anonymous++
		default:
			t.Errorf("unexpected event %+v", e)
		}
	}
	if logins != 5 || lockouts != 1 || anonymous != 1 {
		t.Errorf("%d failed logins of the account, %d lockouts, %d of an unknown user; want 5, 1, 1", logins, lockouts, anonymous)
	}
}

func TestCredentialStuffingThrottled(t *testing.T) {
	// Guesses spread over many accounts lock none of them, so the
	// per-address limit (in the database, shared by instances) stops them.
	clk := &testClock{t: timeNow()}
	h := apitest.NewWithClock(t, clk.now, func(c *config.Config) { c.SignIn.PerIPPerMinute = 5 })
	_, otpw, err := h.App.Identity.Create(context.Background(), identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "victim", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": fmt.Sprintf("user%d", i), "password": "Summer2024!"}, 401)
	}
	r := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "victim", "password": otpw.Reveal()}, 429)
	if r["error"] != "slow_down" {
		t.Errorf("throttled: %v", r)
	}
	// The next minute starts afresh.
	clk.add(time.Minute)
	post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "victim", "password": otpw.Reveal()}, 200)
	// Oversized credentials are refused like wrong ones, before any work.
	big := strings.Repeat("x", 4096)
	post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": big, "password": "x"}, 401)
	post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "victim", "password": big}, 401)
}
