package passkey

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	vwa "github.com/descope/virtualwebauthn"
)

func TestBeginLoginOptions(t *testing.T) {
	r := newRig(t)
	alice := testUser("alice")
	d1, d2 := newDevice(alice), newDevice(alice)
	alice = r.register(t, alice, d1)
	alice = r.register(t, alice, d2)
	bob := testUser("bob")
	bob = r.register(t, bob, newDevice(bob))

	options, _ := r.beginLogin(t, alice)
	o := decodeOptions[requestOptions](t, options).PublicKey
	if o.RPID != testRPID {
		t.Errorf("rpId = %q, want %q", o.RPID, testRPID)
	}
	if o.UserVerification != "required" {
		t.Errorf("userVerification = %q, want required", o.UserVerification)
	}
	if o.Timeout != 300000 {
		t.Errorf("timeout = %d ms, want 300000", o.Timeout)
	}
	var allowed []string
	for _, a := range o.Allow {
		allowed = append(allowed, a.ID)
	}
	want := []string{b64(d1.cred.ID), b64(d2.cred.ID)}
	if len(allowed) != 2 || allowed[0] != want[0] || allowed[1] != want[1] {
		t.Errorf("allowCredentials = %v, want exactly alice's %v", allowed, want)
	}
	if bytes.Contains(options, []byte(b64(bob.Credentials[0].ID))) {
		t.Error("alice's login options name bob's credential")
	}
}

func TestBeginLoginWithoutPasskey(t *testing.T) {
	r := newRig(t)
	if _, _, err := r.p.BeginLogin(testUser("alice")); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("err = %v, want ErrNoCredentials", err)
	}
}

// Registration, then two logins: each returns the credential with the new
// counter, and the second works from what the first returned.
func TestRegisterThenLogin(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)
	registered := u.Credentials[0]
	if got := signCount(t, registered); got != 0 {
		t.Fatalf("registered sign count = %d, want 0", got)
	}

	first, err := r.login(t, u, d, 1)
	if err != nil {
		t.Fatalf("first login: %v", err)
	}
	if !bytes.Equal(first.ID, registered.ID) {
		t.Fatalf("login returned credential %x, want %x", first.ID, registered.ID)
	}
	if got := signCount(t, first); got != 1 {
		t.Fatalf("sign count after first login = %d, want 1", got)
	}

	u.Credentials = []Credential{first}
	second, err := r.login(t, u, d, 2)
	if err != nil {
		t.Fatalf("second login with the updated credential: %v", err)
	}
	if got := signCount(t, second); got != 2 {
		t.Fatalf("sign count after second login = %d, want 2", got)
	}
}

// RS256 credentials (some Windows Hello and older security keys) work too.
func TestRegisterThenLoginRSA(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	d.cred = vwa.NewCredential(vwa.KeyTypeRSA)
	u = r.register(t, u, d)
	got, err := r.login(t, u, d, 1)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if n := signCount(t, got); n != 1 {
		t.Fatalf("sign count = %d, want 1", n)
	}
	d.cred.Counter = 2
	options, c := r.beginLogin(t, u)
	_, err = r.p.FinishLogin(u, c, editResponse(t, d.assert(t, r.rp, options), flipField(t, "signature")))
	wantInvalid(t, err, "invalid_signature")
}

// Many platform passkeys always report a zero counter: that is no sign
// of cloning.
func TestLoginZeroCounter(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)
	for i := range 3 {
		c, err := r.login(t, u, d, 0)
		if err != nil {
			t.Fatalf("login %d with zero counter: %v", i, err)
		}
		u.Credentials = []Credential{c}
	}
}

// A counter that goes backwards or stays put is refused with ErrCloned,
// and the stored credential comes back unchanged for the caller to disable.
func TestLoginCounterNotIncreasing(t *testing.T) {
	tests := []struct {
		name    string
		counter uint32
	}{
		{"backwards", 4},
		{"same", 5},
		{"reset to zero", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			u := testUser("alice")
			d := newDevice(u)
			u = r.register(t, u, d)
			stored, err := r.login(t, u, d, 5)
			if err != nil {
				t.Fatalf("login with counter 5: %v", err)
			}
			u.Credentials = []Credential{stored}

			got, err := r.login(t, u, d, tt.counter)
			if !errors.Is(err, ErrCloned) {
				t.Fatalf("counter 5 then %d: err = %v, want ErrCloned", tt.counter, err)
			}
			if errors.Is(err, ErrInvalid) {
				t.Errorf("ErrCloned also matches ErrInvalid: %v", err)
			}
			if !bytes.Equal(got.ID, stored.ID) || !bytes.Equal(got.Data, stored.Data) {
				t.Errorf("returned credential differs from the stored one")
			}

			// The counter moving on from the stored value works again.
			if _, err := r.login(t, u, d, 6); err != nil {
				t.Fatalf("counter 6 after refusal: %v", err)
			}
		})
	}
}

func TestLoginRejects(t *testing.T) {
	tests := []struct {
		name string
		// change alters the browser's side or the response; it gets the
		// rig, device and options, and returns the response to send.
		change func(t *testing.T, r *rig, d *device, options []byte) []byte
		reason string
	}{
		{
			name: "wrong origin",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				rp := r.rp
				rp.Origin = "https://evil.example.org"
				return d.assert(t, rp, options)
			},
			reason: "Error validating origin",
		},
		{
			name: "wrong port",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				rp := r.rp
				rp.Origin = "https://ward.example.org"
				return d.assert(t, rp, options)
			},
			reason: "Error validating origin",
		},
		{
			name: "wrong RP id",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				rp := r.rp
				rp.ID = "example.org"
				return d.assert(t, rp, options)
			},
			reason: "RP Hash mismatch",
		},
		{
			name: "user not verified",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				d.auth.Options.UserNotVerified = true
				return d.assert(t, r.rp, options)
			},
			reason: "User verification required",
		},
		{
			name: "tampered signature",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				return editResponse(t, d.assert(t, r.rp, options), flipField(t, "signature"))
			},
			reason: "invalid_signature",
		},
		{
			name: "authenticator data changed after signing",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				// The last byte is the counter's lowest.
				return editResponse(t, d.assert(t, r.rp, options), flipField(t, "authenticatorData"))
			},
			reason: "invalid_signature",
		},
		{
			name: "client data changed after signing",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				return editResponse(t, d.assert(t, r.rp, options), addClientData(t))
			},
			reason: "invalid_signature",
		},
		{
			name: "user handle of another user",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				d.auth.Options.UserHandle = testUser("bob").Handle
				return d.assert(t, r.rp, options)
			},
			reason: "User handle and User ID do not match",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			u := testUser("alice")
			d := newDevice(u)
			u = r.register(t, u, d)
			options, c := r.beginLogin(t, u)
			d.cred.Counter = 1

			_, err := r.p.FinishLogin(u, c, tt.change(t, r, d, options))
			wantInvalid(t, err, tt.reason)

			// The same ceremony with an honest response works, so the
			// refusal came from the change alone.
			honest := newDevice(u)
			honest.cred = d.cred
			if _, err := r.p.FinishLogin(u, c, honest.assert(t, r.rp, options)); err != nil {
				t.Fatalf("honest response after the refused one: %v", err)
			}
		})
	}
}

// A response captured from one login is refused by every later ceremony:
// each has its own challenge.
func TestLoginReplay(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)

	options, c := r.beginLogin(t, u)
	d.cred.Counter = 1
	captured := d.assert(t, r.rp, options)
	updated, err := r.p.FinishLogin(u, c, captured)
	if err != nil {
		t.Fatalf("original login: %v", err)
	}
	u.Credentials = []Credential{updated}

	_, next := r.beginLogin(t, u)
	_, err = r.p.FinishLogin(u, next, captured)
	wantInvalid(t, err, "Error validating challenge")
}

// A response signed by a credential the user does not have is refused,
// whether it belongs to nobody or to another user.
func TestLoginUnknownCredential(t *testing.T) {
	r := newRig(t)
	alice := testUser("alice")
	alice = r.register(t, alice, newDevice(alice))

	bob := testUser("bob")
	bobDevice := newDevice(bob)
	bob = r.register(t, bob, bobDevice)

	stranger := newDevice(alice) // never registered

	for name, d := range map[string]*device{"unregistered": stranger, "another user's": bobDevice} {
		t.Run(name, func(t *testing.T) {
			options, c := r.beginLogin(t, alice)
			d.auth.Options.UserHandle = alice.Handle
			_, err := r.p.FinishLogin(alice, c, d.assert(t, r.rp, options))
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrUnknownCredential) {
				t.Fatalf("err = %v, want ErrInvalid and ErrUnknownCredential", err)
			}
		})
	}
	// Bob's credential still works for bob.
	bobDevice.auth.Options.UserHandle = bob.Handle
	if _, err := r.login(t, bob, bobDevice, 1); err != nil {
		t.Fatalf("bob's own login: %v", err)
	}
}

// One Passkeys serves concurrent ceremonies (run with -race).
func TestConcurrentLogins(t *testing.T) {
	r := newRig(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		u := testUser(string(rune('a' + i)))
		d := newDevice(u)
		u = r.register(t, u, d)
		options, c := r.beginLogin(t, u)
		d.cred.Counter = 1
		response := d.assert(t, r.rp, options)
		wg.Go(func() {
			_, err := r.p.FinishLogin(u, c, response)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
