package passkey

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// A ceremony is good until its timeout and refused from then on.
func TestCeremonyExpiry(t *testing.T) {
	for _, tt := range []struct {
		name    string
		elapsed time.Duration
		want    error
	}{
		{"just in time", DefaultTimeout - time.Millisecond, nil},
		{"at the timeout", DefaultTimeout, ErrExpired},
		{"long after", time.Hour, ErrExpired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			u := testUser("alice")
			d := newDevice(u)

			options, c, err := r.p.BeginRegistration(u)
			if err != nil {
				t.Fatal(err)
			}
			r.clock.t = testNow.Add(tt.elapsed)
			_, err = r.p.FinishRegistration(u, c, d.attest(t, r.rp, options))
			if !errors.Is(err, tt.want) {
				t.Fatalf("registration after %s: err = %v, want %v", tt.elapsed, err, tt.want)
			}

			r.clock.t = testNow
			u = r.register(t, u, d)
			options, c = r.beginLogin(t, u)
			d.cred.Counter = 1
			r.clock.t = testNow.Add(tt.elapsed)
			_, err = r.p.FinishLogin(u, c, d.assert(t, r.rp, options))
			if !errors.Is(err, tt.want) {
				t.Fatalf("login after %s: err = %v, want %v", tt.elapsed, err, tt.want)
			}
		})
	}
}

// A configured timeout is sent to the browser and enforced.
func TestCeremonyConfiguredTimeout(t *testing.T) {
	c := &clock{t: testNow}
	p, err := New(Config{RPID: testRPID, RPDisplayName: "ward", Origins: []string{testOrigin}, Timeout: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	options, cer, err := p.BeginRegistration(testUser("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeOptions[creationOptions](t, options).PublicKey.Timeout; got != 60000 {
		t.Errorf("timeout = %d ms, want 60000", got)
	}
	c.t = testNow.Add(time.Minute)
	if _, err := p.FinishRegistration(testUser("alice"), cer, []byte(`{}`)); !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
}

// A ceremony finishes only the kind of ceremony, and for the user, it was
// begun for.
func TestCeremonyBinding(t *testing.T) {
	r := newRig(t)
	alice := testUser("alice")
	d := newDevice(alice)
	alice = r.register(t, alice, d)
	bob := testUser("bob")
	bob = r.register(t, bob, newDevice(bob))

	loginOptions, login := r.beginLogin(t, alice)
	d.cred.Counter = 1
	assertion := d.assert(t, r.rp, loginOptions)
	regOptions, reg, err := r.p.BeginRegistration(alice)
	if err != nil {
		t.Fatal(err)
	}
	attestation := newDevice(alice).attest(t, r.rp, regOptions)

	if _, err := r.p.FinishRegistration(alice, login, attestation); !errors.Is(err, ErrInvalid) {
		t.Errorf("login ceremony finishing a registration: err = %v, want ErrInvalid", err)
	}
	if _, err := r.p.FinishLogin(alice, reg, assertion); !errors.Is(err, ErrInvalid) {
		t.Errorf("registration ceremony finishing a login: err = %v, want ErrInvalid", err)
	}
	if _, err := r.p.FinishLogin(bob, login, assertion); !errors.Is(err, ErrInvalid) {
		t.Errorf("alice's ceremony finished for bob: err = %v, want ErrInvalid", err)
	}
	if _, err := r.p.FinishRegistration(bob, reg, attestation); !errors.Is(err, ErrInvalid) {
		t.Errorf("alice's registration finished for bob: err = %v, want ErrInvalid", err)
	}
	// Both still work for the right kind and user.
	if _, err := r.p.FinishLogin(alice, login, assertion); err != nil {
		t.Errorf("login: %v", err)
	}
	if _, err := r.p.FinishRegistration(alice, reg, attestation); err != nil {
		t.Errorf("registration: %v", err)
	}
}

// Changing the ceremony cannot relax the policy: the user-verification
// requirement is not read from it.
func TestCeremonyCannotRelaxPolicy(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)
	options, c := r.beginLogin(t, u)

	var m map[string]any
	if err := json.Unmarshal(c, &m); err != nil {
		t.Fatal(err)
	}
	m["userVerification"] = "discouraged"
	m["rpId"] = "example.org"
	altered, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d.auth.Options.UserNotVerified = true
	d.cred.Counter = 1
	_, err = r.p.FinishLogin(u, altered, d.assert(t, r.rp, options))
	wantInvalid(t, err, "User verification required")
}

func TestCorruptState(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)
	options, c := r.beginLogin(t, u)
	d.cred.Counter = 1
	response := d.assert(t, r.rp, options)

	var state map[string]any
	if err := json.Unmarshal(c, &state); err != nil {
		t.Fatal(err)
	}
	ceremonyWith := func(k string, v any) Ceremony {
		m := map[string]any{}
		for kk, vv := range state {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, bad := range map[string]Ceremony{
		"nil":               nil,
		"not JSON":          Ceremony("ceremony"),
		"unknown version":   ceremonyWith("v", 2),
		"unknown kind":      ceremonyWith("kind", "recovery"),
		"no kind":           ceremonyWith("kind", nil),
		"no challenge":      ceremonyWith("challenge", nil),
		"no user":           ceremonyWith("user", nil),
		"no expiry":         ceremonyWith("expires", nil),
		"expiry not a time": ceremonyWith("expires", "soon"),
	} {
		t.Run("ceremony "+name, func(t *testing.T) {
			if _, err := r.p.FinishLogin(u, bad, response); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}

	good := u.Credentials[0]
	var other Credential
	{
		v := testUser("bob")
		v = r.register(t, v, newDevice(v))
		other = v.Credentials[0]
	}
	for name, bad := range map[string]Credential{
		"data not JSON":      {ID: good.ID, Data: []byte("credential")},
		"data version":       {ID: good.ID, Data: bytes.Replace(good.Data, []byte(`"v":1`), []byte(`"v":9`), 1)},
		"data of another id": {ID: good.ID, Data: other.Data},
		"no data":            {ID: good.ID},
	} {
		t.Run("credential "+name, func(t *testing.T) {
			v := u
			v.Credentials = []Credential{bad}
			if _, err := r.p.FinishLogin(v, c, response); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("FinishLogin err = %v, want ErrCorrupt", err)
			}
			if _, _, err := r.p.BeginLogin(v); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("BeginLogin err = %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := r.p.FinishLogin(u, c, response); err != nil {
		t.Fatalf("unaltered state: %v", err)
	}
}

func TestResponseSize(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)
	options, c := r.beginLogin(t, u)
	d.cred.Counter = 1
	response := d.assert(t, r.rp, options)

	over := append(bytes.Clone(response), bytes.Repeat([]byte(" "), MaxResponseSize+1-len(response))...)
	if _, err := r.p.FinishLogin(u, c, over); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d bytes: err = %v, want ErrTooLarge", len(over), err)
	}
	// The size is checked first, whatever the ceremony.
	if _, err := r.p.FinishLogin(u, Ceremony("x"), over); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("with a corrupt ceremony: err = %v, want ErrTooLarge", err)
	}
	huge := bytes.Repeat([]byte("["), 10<<20)
	if _, err := r.p.FinishLogin(u, c, huge); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("10 MiB: err = %v, want ErrTooLarge", err)
	}

	// Exactly at the limit is accepted: the same response, padded.
	at := over[:MaxResponseSize]
	if _, err := r.p.FinishLogin(u, c, at); err != nil {
		t.Fatalf("%d bytes: %v", len(at), err)
	}
}

func TestRegistrationResponseSize(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	options, c, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	response := newDevice(u).attest(t, r.rp, options)
	over := append(bytes.Clone(response), bytes.Repeat([]byte("\n"), MaxResponseSize+1-len(response))...)
	if _, err := r.p.FinishRegistration(u, c, over); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := r.p.FinishRegistration(u, c, over[:MaxResponseSize]); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

func TestMalformedResponse(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)
	options, c := r.beginLogin(t, u)
	d.cred.Counter = 1
	good := d.assert(t, r.rp, options)
	regOptions, reg, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	goodReg := newDevice(u).attest(t, r.rp, regOptions)

	edit := func(base []byte, path []string, v any) []byte {
		return editResponse(t, base, func(m map[string]any) {
			for _, k := range path[:len(path)-1] {
				m = m[k].(map[string]any)
			}
			if v == nil {
				delete(m, path[len(path)-1])
			} else {
				m[path[len(path)-1]] = v
			}
		})
	}
	tests := []struct {
		name        string
		login, regi []byte
	}{
		{"empty", []byte{}, []byte{}},
		{"not JSON", []byte("id=abc"), []byte("id=abc")},
		{"truncated", good[:len(good)/2], goodReg[:len(goodReg)/2]},
		{"trailing data", append(bytes.Clone(good), "{}"...), append(bytes.Clone(goodReg), "{}"...)},
		{"JSON but not a response", []byte(`{"hello":"world"}`), []byte(`{"hello":"world"}`)},
		{"array", []byte(`[1,2]`), []byte(`[1,2]`)},
		{"wrong type", edit(good, []string{"type"}, "password"), edit(goodReg, []string{"type"}, "password")},
		{"id not base64url", edit(good, []string{"id"}, "!!"), edit(goodReg, []string{"id"}, "!!")},
		{"no response", edit(good, []string{"response"}, nil), edit(goodReg, []string{"response"}, nil)},
		{"client data not base64url", edit(good, []string{"response", "clientDataJSON"}, "%%"), edit(goodReg, []string{"response", "clientDataJSON"}, "%%")},
		{"client data not JSON", edit(good, []string{"response", "clientDataJSON"}, base64.RawURLEncoding.EncodeToString([]byte("x"))), edit(goodReg, []string{"response", "clientDataJSON"}, base64.RawURLEncoding.EncodeToString([]byte("x")))},
		{"authenticator data too short", edit(good, []string{"response", "authenticatorData"}, "AAAA"), edit(goodReg, []string{"response", "attestationObject"}, "AAAA")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.p.FinishLogin(u, c, tt.login)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("FinishLogin err = %v, want ErrMalformed", err)
			}
			_, err = r.p.FinishRegistration(u, reg, tt.regi)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("FinishRegistration err = %v, want ErrMalformed", err)
			}
		})
	}
	// The ceremonies are still good for a well-formed response.
	if _, err := r.p.FinishLogin(u, c, good); err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	if _, err := r.p.FinishRegistration(u, reg, goodReg); err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
}

// No error message names the person: not their name, display name or
// handle, in any encoding.
func TestErrorsHoldNoPersonalData(t *testing.T) {
	r := newRig(t)
	u := User{Handle: []byte("h-7f3a9c1e55d0"), Name: "zelda.quarry", DisplayName: "Zelda Quarry"}
	d := newDevice(u)
	u = r.register(t, u, d)
	bad := User{Handle: []byte("zelda.quarry"), Name: "zelda.quarry"}
	options, c := r.beginLogin(t, u)
	d.cred.Counter = 1
	response := d.assert(t, r.rp, options)
	wrongOrigin := r.rp
	wrongOrigin.Origin = "https://zelda.quarry.example"

	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	_, _, err := r.p.BeginRegistration(bad)
	errs = append(errs, err)
	_, _, err = r.p.BeginLogin(testUser("zelda.quarry"))
	errs = append(errs, err)
	collect(r.p.FinishLogin(u, c, nil))
	collect(r.p.FinishLogin(u, c, []byte(`{"id":"zelda.quarry"}`)))
	collect(r.p.FinishLogin(u, c, d.assert(t, wrongOrigin, options)))
	collect(r.p.FinishLogin(u, Ceremony("x"), response))
	v := u
	v.Credentials = []Credential{{ID: []byte("zelda.quarry"), Data: []byte("{}")}}
	collect(r.p.FinishLogin(v, c, response))
	other := testUser("other")
	collect(r.p.FinishLogin(other, c, response))

	secrets := []string{u.Name, u.DisplayName, string(u.Handle), b64(u.Handle), base64.StdEncoding.EncodeToString(u.Handle), "zelda", "Zelda"}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("case %d: error %q contains %q", i, err, s)
			}
		}
	}
}
