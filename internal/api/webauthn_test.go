package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	vwa "github.com/descope/virtualwebauthn"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
)

// passkeyDevice is a virtual platform authenticator answering as a
// browser at https://localhost:8443 would.
type passkeyDevice struct {
	rp   vwa.RelyingParty
	auth vwa.Authenticator
	cred vwa.Credential
}

func newPasskeyDevice(userID string) *passkeyDevice {
	return &passkeyDevice{
		rp:   vwa.RelyingParty{ID: "localhost", Name: "ward", Origin: "https://localhost:8443"},
		auth: vwa.NewAuthenticatorWithOptions(vwa.AuthenticatorOptions{UserHandle: []byte(userID)}),
		cred: p256Credential(),
	}
}

// p256Credential is a P-256 key without a leading zero byte in either
// coordinate: virtualwebauthn v1.0.3 drops such bytes when encoding
// (descope/virtualwebauthn#102), which go-webauthn rightly refuses.
func p256Credential() vwa.Credential {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		pt, _ := k.PublicKey.Bytes()
		if pt[1] == 0 || pt[33] == 0 {
			continue
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return vwa.NewCredentialWithImportedKey(vwa.KeyTypeEC2, der)
	}
}

// answer answers begin's options: an attestation for registration
// options, an assertion (counter moved on) for login options.
func (d *passkeyDevice) answer(t *testing.T, begin map[string]any) json.RawMessage {
	t.Helper()
	opts, _ := json.Marshal(begin["options"])
	if o, err := vwa.ParseAttestationOptions(string(opts)); err == nil && o.Challenge != nil && strings.Contains(string(opts), `"pubKeyCredParams"`) {
		return json.RawMessage(vwa.CreateAttestationResponse(d.rp, d.auth, d.cred, *o))
	}
	o, err := vwa.ParseAssertionOptions(string(opts))
	if err != nil {
		t.Fatalf("login options: %v (%s)", err, opts)
	}
	d.cred.Counter++
	return json.RawMessage(vwa.CreateAssertionResponse(d.rp, d.auth, d.cred, *o))
}

func TestWebAuthnSignIn(t *testing.T) {
	clk := &testClock{t: timeNow()}
	h := apitest.NewWithClock(t, clk.now, func(c *config.Config) { c.BaseURL = "https://localhost:8443" })
	p, otpw, err := h.App.Identity.Create(context.Background(), identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "dr.passkey", Role: identity.RolePhysician})
	if err != nil {
		t.Fatal(err)
	}
	dev := newPasskeyDevice(p.ID)
	const pw = "Saffron-Glacier-29!"

	// Enrolment: a passkey instead of TOTP, and ten recovery codes.
	in := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "dr.passkey", "password": otpw.Reveal()}, 200)
	in = post(t, h, "/auth/password", map[string]string{"mfa_token": in["mfa_token"].(string), "new_password": pw}, 200)
	if !strings.Contains(strings.Join(anyStrings(in["factors"]), ","), "webauthn") {
		t.Fatalf("enrolment factors %v", in["factors"])
	}
	mt := in["mfa_token"].(string)
	begin := post(t, h, "/auth/mfa/webauthn/begin", map[string]string{"mfa_token": mt}, 200)
	ses := post(t, h, "/auth/mfa/webauthn/finish", map[string]any{"mfa_token": mt, "credential": dev.answer(t, begin)}, 200)
	if len(anyStrings(ses["recovery_codes"])) != 10 || ses["access_token"] == nil {
		t.Fatalf("enrolled: %v", ses)
	}

	// Next sign-in: password, then the passkey (TOTP is not enrolled).
	in = post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "dr.passkey", "password": pw}, 200)
	if got := strings.Join(anyStrings(in["factors"]), ","); got != "webauthn,recovery" {
		t.Errorf("sign-in factors %q", got)
	}
	mt = in["mfa_token"].(string)
	post(t, h, "/auth/mfa/totp", map[string]string{"mfa_token": mt, "code": "123456"}, 401)
	begin = post(t, h, "/auth/mfa/webauthn/begin", map[string]string{"mfa_token": mt}, 200)
	assertion := dev.answer(t, begin)
	// Another device's answer is refused, and so is a replay of one.
	other := newPasskeyDevice(p.ID)
	post(t, h, "/auth/mfa/webauthn/finish", map[string]any{"mfa_token": mt, "credential": other.answer(t, begin)}, 401)
	post(t, h, "/auth/mfa/webauthn/begin", map[string]string{"mfa_token": mt}, 200)
	post(t, h, "/auth/mfa/webauthn/finish", map[string]any{"mfa_token": mt, "credential": assertion}, 401)
	begin = post(t, h, "/auth/mfa/webauthn/begin", map[string]string{"mfa_token": mt}, 200)
	ses = post(t, h, "/auth/mfa/webauthn/finish", map[string]any{"mfa_token": mt, "credential": dev.answer(t, begin)}, 200)
	tok := ses["access_token"].(string)

	// Step-up with the passkey lets the session sign.
	obs := call(h, "POST", "/fhir/R4/Observation", tok, map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "pulse"}})
	if obs.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", obs.StatusCode, obs.Body)
	}
	sign := "/fhir/R4/Observation/" + obs.JSON(t)["id"].(string) + "/$sign"
	if r := call(h, "POST", sign, tok, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign before step-up: %d", r.StatusCode)
	}
	auth := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}
	sessionPost := func(path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		r := h.Do("POST", path, strings.NewReader(string(b)), auth)
		if r.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d: %s", path, r.StatusCode, want, r.Body)
		}
		return r.JSON(t)
	}
	begin = sessionPost("/auth/step-up/webauthn/begin", map[string]string{}, 200)
	sessionPost("/auth/step-up/webauthn/finish", map[string]any{"credential": dev.answer(t, begin)}, 200)
	if r := call(h, "POST", sign, tok, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("sign after a passkey step-up: %d %s", r.StatusCode, r.Body)
	}

	// A locked session resumes with the passkey.
	clk.add(identity.DefaultIdle)
	if r := call(h, "GET", "/auth/sessions", tok, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("idle: %d", r.StatusCode)
	}
	begin = sessionPost("/auth/resume/webauthn/begin", map[string]string{}, 200)
	sessionPost("/auth/resume/webauthn/finish", map[string]any{"credential": dev.answer(t, begin)}, 200)
	if r := call(h, "GET", "/auth/sessions", tok, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("after resuming with the passkey: %d", r.StatusCode)
	}

	// A second passkey needs a fresh step-up; then it registers.
	for range 2 { // five minutes, keeping the session active
		clk.add(identity.StepUpTTL / 2)
		call(h, "GET", "/auth/sessions", tok, nil)
	}
	second := newPasskeyDevice(p.ID)
	sessionPost("/auth/webauthn/register/begin", map[string]string{}, 401)
	sessionPost("/auth/step-up", map[string]string{"password": pw}, 200)
	begin = sessionPost("/auth/webauthn/register/begin", map[string]string{}, 200)
	sessionPost("/auth/webauthn/register/finish", map[string]any{"credential": second.answer(t, begin)}, 201)
	in = post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "dr.passkey", "password": pw}, 200)
	begin = post(t, h, "/auth/mfa/webauthn/begin", map[string]string{"mfa_token": in["mfa_token"].(string)}, 200)
	post(t, h, "/auth/mfa/webauthn/finish", map[string]any{"mfa_token": in["mfa_token"].(string), "credential": second.answer(t, begin)}, 200)

	// A cloned authenticator (its counter going back) is refused and audited.
	in = post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "dr.passkey", "password": pw}, 200)
	begin = post(t, h, "/auth/mfa/webauthn/begin", map[string]string{"mfa_token": in["mfa_token"].(string)}, 200)
	dev.cred.Counter = 0
	opts, _ := json.Marshal(begin["options"])
	o, _ := vwa.ParseAssertionOptions(string(opts))
	clone := json.RawMessage(vwa.CreateAssertionResponse(dev.rp, dev.auth, dev.cred, *o))
	h.DrainEvents()
	post(t, h, "/auth/mfa/webauthn/finish", map[string]any{"mfa_token": in["mfa_token"].(string), "credential": clone}, 401)
	h.CheckEvents(t, []apitest.Event{
		{Action: "E", Subtype: "webauthn-cloned", EntityType: "User", EntityID: p.ID, Outcome: 401},
		{Action: "E", Subtype: "mfa-webauthn", EntityType: "User", EntityID: p.ID, Outcome: 401},
	})
}

func anyStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}
