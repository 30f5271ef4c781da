package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
	"github.com/wardhealth/ward/internal/identity"
)

func TestCookieSessionCSRF(t *testing.T) {
	clk := &testClock{t: timeNow()}
	h := apitest.NewWithClock(t, clk.now)
	_, otpw, err := h.App.Identity.Create(context.Background(), identity.Actor{Operator: true},
		identity.NewPerson{Tenant: "default", Username: "nurse.ng", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	in := post(t, h, "/auth/login", map[string]string{"tenant": "default", "username": "nurse.ng", "password": otpw.Reveal()}, 200)
	in = post(t, h, "/auth/password", map[string]string{"mfa_token": in["mfa_token"].(string), "new_password": "Granite-Meadow-61&"}, 200)
	e := post(t, h, "/auth/mfa/totp/enroll", map[string]string{"mfa_token": in["mfa_token"].(string)}, 200)
	body := `{"mfa_token":"` + in["mfa_token"].(string) + `","code":"` + totpCode(t, e["secret"].(string), clk.now()) + `","cookie":true}`
	r := h.Do("POST", "/auth/mfa/totp", strings.NewReader(body), jsonCT)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("finish: %d %s", r.StatusCode, r.Body)
	}
	set := r.Header.Get("Set-Cookie")
	for _, attr := range []string{"__Host-ward_session=ward_ses_", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(set, attr) {
			t.Errorf("Set-Cookie %q lacks %s", set, attr)
		}
	}
	if strings.Contains(set, "Domain=") {
		t.Errorf("a __Host- cookie has no Domain: %q", set)
	}
	out := r.JSON(t)
	csrf, _ := out["csrf_token"].(string)
	if csrf == "" || out["access_token"] != nil || strings.Contains(string(r.Body), "ward_ses_") {
		t.Fatalf("a cookie sign-in returns the CSRF token and not the session token: %s", r.Body)
	}
	cookie := strings.SplitN(set, ";", 2)[0]

	// Reads need only the cookie.
	if r := h.Do("GET", "/auth/sessions", nil, map[string]string{"Authorization": "", "Cookie": cookie}); r.StatusCode != http.StatusOK {
		t.Fatalf("read with the cookie: %d %s", r.StatusCode, r.Body)
	}
	// Writes need the CSRF token, from the same site.
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"pulse"}}`
	fhirCT := "application/fhir+json"
	h.DrainEvents()
	for name, hdr := range map[string]map[string]string{
		"no token":         {"Authorization": "", "Cookie": cookie, "Content-Type": fhirCT},
		"wrong token":      {"Authorization": "", "Cookie": cookie, "Content-Type": fhirCT, "X-CSRF-Token": csrf[:len(csrf)-2] + "AA"},
		"other origin":     {"Authorization": "", "Cookie": cookie, "Content-Type": fhirCT, "X-CSRF-Token": csrf, "Origin": "https://evil.example"},
		"cross-site fetch": {"Authorization": "", "Cookie": cookie, "Content-Type": fhirCT, "X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
	} {
		if r := h.Do("POST", "/fhir/R4/Observation", strings.NewReader(obs), hdr); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, r.StatusCode)
		}
	}
	h.CheckEvents(t, []apitest.Event{{Action: "E", Subtype: "authenticate", Outcome: 403, Count: 4}})
	ok := map[string]string{"Authorization": "", "Cookie": cookie, "Content-Type": fhirCT, "X-CSRF-Token": csrf, "Origin": h.Cfg.BaseURL, "Sec-Fetch-Site": "same-origin"}
	if r := h.Do("POST", "/fhir/R4/Observation", strings.NewReader(obs), ok); r.StatusCode != http.StatusCreated {
		t.Fatalf("write with the CSRF token: %d %s", r.StatusCode, r.Body)
	}
	// Signing out clears the cookie and ends the session.
	r = h.Do("POST", "/auth/logout", nil, map[string]string{"Authorization": "", "Cookie": cookie, "X-CSRF-Token": csrf})
	if r.StatusCode != http.StatusNoContent || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q", r.StatusCode, r.Header.Get("Set-Cookie"))
	}
	if r := h.Do("GET", "/auth/sessions", nil, map[string]string{"Authorization": "", "Cookie": cookie}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d", r.StatusCode)
	}
}

func TestEndSessions(t *testing.T) {
	h := apitest.New(t)
	ctx := context.Background()
	ids := h.App.Identity
	open := func(p identity.Person) string {
		t.Helper()
		tok, _, err := ids.StartSession(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Reveal()
	}
	nurse, _, err := ids.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "nurse.a", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := ids.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "nurse.b", Role: identity.RoleNurse})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := ids.Create(ctx, identity.Actor{Operator: true}, identity.NewPerson{Tenant: "default", Username: "admin.b", Role: identity.RoleTenantAdmin})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := open(nurse), open(nurse), open(nurse)
	// Ending the others keeps the caller's own.
	if r := call(h, "DELETE", "/auth/sessions", a, nil); r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), `"ended":2`) {
		t.Fatalf("end the others: %d %s", r.StatusCode, r.Body)
	}
	for tok, want := range map[string]int{a: 200, b: 401, c: 401} {
		if r := call(h, "GET", "/auth/sessions", tok, nil); r.StatusCode != want {
			t.Errorf("after ending the others: %d, want %d", r.StatusCode, want)
		}
	}
	// One by its id.
	d := open(nurse)
	ses, err := ids.Authenticate(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if r := call(h, "DELETE", "/auth/sessions/"+ses.Ref(), a, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("end one: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/auth/sessions", d, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("the ended one: %d", r.StatusCode)
	}
	if r := call(h, "DELETE", "/auth/sessions/0123456789abcdef", a, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown session: %d", r.StatusCode)
	}
	// Another person's sessions: an administrator yes, a colleague no.
	o := open(other)
	if r := call(h, "GET", "/admin/users/"+other.ID+"/sessions", a, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("a nurse lists a colleague's sessions: %d", r.StatusCode)
	}
	adminTok := open(admin)
	if r := call(h, "GET", "/admin/users/"+other.ID+"/sessions", adminTok, nil); r.StatusCode != http.StatusOK || strings.Count(string(r.Body), `"id"`) != 1 {
		t.Errorf("the admin lists them: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/admin/users/u-nobody/sessions", adminTok, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown account's sessions: %d", r.StatusCode)
	}
	if r := call(h, "DELETE", "/admin/users/"+other.ID+"/sessions", a, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("a nurse ends a colleague's sessions: %d", r.StatusCode)
	}
	if r := call(h, "DELETE", "/admin/users/"+other.ID+"/sessions", adminTok, nil); r.StatusCode != http.StatusOK {
		t.Errorf("the admin ends them: %d %s", r.StatusCode, r.Body)
	}
	if r := call(h, "GET", "/auth/sessions", o, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("after the admin ended it: %d", r.StatusCode)
	}
	// A service client has no sessions to end.
	if r := call(h, "DELETE", "/auth/sessions", h.Token, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("a service client: %d", r.StatusCode)
	}
}
