package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/identity"
)

// testClock is ward's clock in a test: it moves only when told.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// timeNow is a start time for a test clock, whole seconds.
func timeNow() time.Time { return time.Now().UTC().Truncate(time.Second) }

// totpCode computes the code an authenticator app shows for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enrol completes a sign-in at the enrolment step and returns the session
// token and the TOTP secret.
func enrol(t *testing.T, h *apitest.Harness, c *testClock, mfaToken string) (string, string) {
	t.Helper()
	e := post(t, h, "/auth/mfa/totp/enroll", map[string]string{"mfa_token": mfaToken}, 200)
	secret := e["secret"].(string)
	ses := post(t, h, "/auth/mfa/totp", map[string]string{"mfa_token": mfaToken, "code": totpCode(t, secret, c.now())}, 200)
	return ses["access_token"].(string), secret
}

// call sends a request with a session (or service) token and returns it.
func call(h *apitest.Harness, method, path, token string, body any) *apitest.Response {
	hdr := map[string]string{"Authorization": "Bearer " + token}
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
		hdr["Content-Type"] = "application/json"
		if strings.HasPrefix(path, "/fhir/") {
			hdr["Content-Type"] = "application/fhir+json"
		}
	}
	if rd == nil {
		return h.Do(method, path, nil, hdr)
	}
	return h.Do(method, path, rd, hdr)
}

// TestIdentityEndToEnd is issue 5's "done when": a staff member signs up
// through an invitation, weak passwords are refused, TOTP is enrolled,
// the idle timeout locks the session (on an injected clock), the PIN
// resumes it, and after a step-up the staff member signs a resource
// whose signature then verifies.
func TestIdentityEndToEnd(t *testing.T) {
	clk := &testClock{t: timeNow()}
	h := apitest.NewWithClock(t, clk.now)
	ctx := context.Background()

	// A tenant admin, created by the operator, signs in (one-time
	// password, new password, TOTP) and invites a physician.
	_, otpw, err := h.App.Identity.Create(ctx, identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "admin.kim", Role: identity.RoleTenantAdmin})
	if err != nil {
		t.Fatal(err)
	}
	in := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "admin.kim", "password": otpw.Reveal()}, 200)
	in = post(t, h, "/auth/password", map[string]string{"mfa_token": in["mfa_token"].(string), "new_password": "Copper-Lantern-83%"}, 200)
	adminTok, _ := enrol(t, h, clk, in["mfa_token"].(string))
	r := call(h, "POST", "/admin/invitations", adminTok, map[string]any{"role": "physician", "email": "maria.lopez@example.org", "name": "Maria Lopez"})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", r.StatusCode, r.Body)
	}
	invitation := r.JSON(t)["invitation"].(string)
	// A tenant admin cannot invite an admin.
	if r := call(h, "POST", "/admin/invitations", adminTok, map[string]any{"role": "tenant-admin"}); r.StatusCode != http.StatusForbidden {
		t.Errorf("tenant admin invites an admin: %d %s", r.StatusCode, r.Body)
	}

	// The physician accepts. Common passwords and variations of the
	// username are refused, and the invitation survives them.
	for _, weak := range []string{"Password1!", "qwerty123!", "Mlopez2026!", "Zepolm#2026"} {
		rej := post(t, h, "/auth/invitations/accept", map[string]string{"invitation": invitation, "username": "mlopez", "password": weak}, 400)
		if rej["error"] != "password_rejected" || strings.Contains(fmt.Sprint(rej), weak) {
			t.Errorf("password %q: %v", weak, rej)
		}
	}
	acc := post(t, h, "/auth/invitations/accept", map[string]string{"invitation": invitation, "username": "mlopez", "password": "Harbor-Violet-52*"}, 200)
	if acc["status"] != string(identity.StepEnroll) {
		t.Fatalf("accepted: %v", acc)
	}
	userID := acc["user_id"].(string)
	post(t, h, "/auth/invitations/accept", map[string]string{"invitation": invitation, "username": "mlopez2", "password": "Harbor-Violet-52*"}, 401)
	tok, secret := enrol(t, h, clk, acc["mfa_token"].(string))

	// Later sign-ins need a code: the enrolment's code cannot be replayed.
	in = post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "mlopez", "password": "Harbor-Violet-52*"}, 200)
	post(t, h, "/auth/mfa/totp", map[string]string{"mfa_token": in["mfa_token"].(string), "code": totpCode(t, secret, clk.now())}, 401)

	// The physician records an observation and sets a PIN.
	obs := call(h, "POST", "/fhir/R4/Observation", tok, map[string]any{"resourceType": "Observation", "status": "final",
		"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8867-4"}}},
		"valueQuantity": map[string]any{"value": 72, "unit": "/min"}})
	if obs.StatusCode != http.StatusCreated {
		t.Fatalf("create observation: %d %s", obs.StatusCode, obs.Body)
	}
	obsID := obs.JSON(t)["id"].(string)
	if r := call(h, "POST", "/auth/pin", tok, map[string]string{"password": "Harbor-Violet-52*", "pin": "123456"}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a counting PIN: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "POST", "/auth/pin", tok, map[string]string{"password": "Harbor-Violet-52*", "pin": "480317"}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("set PIN: %d %s", r.StatusCode, r.Body)
	}
	h.DrainEvents()

	// Three idle minutes lock the session, audited once.
	clk.add(identity.DefaultIdle)
	r = call(h, "GET", "/fhir/R4/Observation/"+obsID, tok, nil)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.Body), "/auth/resume") {
		t.Fatalf("after 3 idle minutes: %d %s", r.StatusCode, r.Body)
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "authenticate", Outcome: 401}, {Action: "E", Subtype: "session-idle-timeout", EntityType: "User", EntityID: userID, Outcome: 401}})

	// A wrong PIN, then the right one resumes it.
	r = h.Do("POST", "/auth/resume", strings.NewReader(`{"pin":"000000"}`), map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok})
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong PIN: %d %s", r.StatusCode, r.Body)
	}
	r = h.Do("POST", "/auth/resume", strings.NewReader(`{"pin":"480317"}`), map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("resume with the PIN: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/fhir/R4/Observation/"+obsID, tok, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("after resuming: %d %s", r.StatusCode, r.Body)
	}

	// Signing needs a step-up.
	r = call(h, "POST", "/fhir/R4/Observation/"+obsID+"/$sign", tok, nil)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_user_authentication") {
		t.Fatalf("sign without step-up: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := call(h, "POST", "/auth/step-up", tok, map[string]string{"password": "wrong"}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("step-up with a wrong password: %d", r.StatusCode)
	}
	if r := call(h, "POST", "/auth/step-up", tok, map[string]string{"password": "Harbor-Violet-52*"}); r.StatusCode != http.StatusOK {
		t.Fatalf("step-up: %d %s", r.StatusCode, r.Body)
	}
	h.DrainEvents()
	r = call(h, "POST", "/fhir/R4/Observation/"+obsID+"/$sign", tok, nil)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("sign: %d %s", r.StatusCode, r.Body)
	}
	prov := r.JSON(t)
	provID := prov["id"].(string)
	if prov["resourceType"] != "Provenance" || !strings.Contains(string(r.Body), "Observation/"+obsID+"/_history/1") || !strings.Contains(string(r.Body), userID) {
		t.Errorf("provenance %s", r.Body)
	}
	h.CheckEvents(t, []apitest.Event{
		{Action: "E", Subtype: "sign", EntityType: "Observation", EntityID: obsID, Outcome: 201},
		{Action: "C", Subtype: "create", EntityType: "Provenance", EntityID: provID, Outcome: 201},
	})

	// The signature verifies, and names the signer.
	r = call(h, "GET", "/fhir/R4/Provenance/"+provID+"/$verify", tok, nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), `"valueBoolean":true`) || !strings.Contains(string(r.Body), userID) {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	// The same signature moved onto another version does not.
	upd := call(h, "PUT", "/fhir/R4/Observation/"+obsID, tok, map[string]any{"resourceType": "Observation", "id": obsID, "status": "amended",
		"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8867-4"}}},
		"valueQuantity": map[string]any{"value": 80, "unit": "/min"}})
	if upd.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", upd.StatusCode, upd.Body)
	}
	var pbody map[string]any
	if err := json.Unmarshal([]byte(call(h, "GET", "/fhir/R4/Provenance/"+provID, tok, nil).Body), &pbody); err != nil {
		t.Fatal(err)
	}
	delete(pbody, "id")
	delete(pbody, "meta")
	pbody["target"] = []any{map[string]any{"reference": "Observation/" + obsID + "/_history/2"}}
	moved := call(h, "POST", "/fhir/R4/Provenance", h.Token, pbody)
	if moved.StatusCode != http.StatusCreated {
		t.Fatalf("store the moved signature: %d %s", moved.StatusCode, moved.Body)
	}
	r = call(h, "GET", "/fhir/R4/Provenance/"+moved.JSON(t)["id"].(string)+"/$verify", tok, nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), `"valueBoolean":false`) {
		t.Errorf("verify a signature moved to another version: %d %s", r.StatusCode, r.Body)
	}
	// After 5 minutes the step-up is stale again.
	clk.add(2 * time.Minute)
	call(h, "GET", "/fhir/R4/Observation/"+obsID, tok, nil)
	clk.add(3 * time.Minute)
	if r := call(h, "POST", "/fhir/R4/Observation/"+obsID+"/$sign", tok, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign 5 minutes after the step-up: %d", r.StatusCode)
	}

	// No audit event names the username or carries the invitation.
	err = ledger.Trail{R: h.App.DB, L: h.App.Audit}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		all := fmt.Sprintf("%+v", e)
		if strings.Contains(strings.ToLower(all), "mlopez") || strings.Contains(all, invitation) || strings.Contains(all, "480317") {
			t.Errorf("event reveals the username or a secret: %s", all)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
