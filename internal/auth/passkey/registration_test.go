package passkey

import (
	"bytes"
	"errors"
	"testing"

	vwa "github.com/descope/virtualwebauthn"
)

func TestBeginRegistrationOptions(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	options, c, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	if len(c) == 0 {
		t.Fatal("empty ceremony")
	}
	o := decodeOptions[creationOptions](t, options).PublicKey
	checks := []struct {
		name, got, want string
	}{
		{"rp.id", o.RP.ID, testRPID},
		{"rp.name", o.RP.Name, "ward"},
		{"user.id", o.User.ID, b64(u.Handle)},
		{"user.name", o.User.Name, u.Name},
		{"user.displayName", o.User.DisplayName, u.DisplayName},
		{"userVerification", o.Selection.UserVerification, "required"},
		{"residentKey", o.Selection.ResidentKey, "preferred"},
		{"attestation", o.Attestation, "none"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if o.Selection.RequireResidentKey == nil || *o.Selection.RequireResidentKey {
		t.Errorf("requireResidentKey = %v, want false (preferred, not required)", o.Selection.RequireResidentKey)
	}
	if o.Timeout != 300000 {
		t.Errorf("timeout = %d ms, want 300000", o.Timeout)
	}
	if len(o.Challenge) < 22 { // 16 bytes in base64url
		t.Errorf("challenge %q is shorter than 16 bytes", o.Challenge)
	}
	if len(o.Exclude) != 0 {
		t.Errorf("excludeCredentials = %v for a user without passkeys", o.Exclude)
	}
	if bytes.Contains(c, []byte(u.Name)) || bytes.Contains(c, []byte(u.DisplayName)) {
		t.Errorf("ceremony %s holds the user's name", c)
	}

	// Two ceremonies never share a challenge.
	again, _, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	if decodeOptions[creationOptions](t, again).PublicKey.Challenge == o.Challenge {
		t.Error("two registrations got the same challenge")
	}
}

func TestRegistration(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	options, c, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	cred, err := r.p.FinishRegistration(u, c, d.attest(t, r.rp, options))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if !bytes.Equal(cred.ID, d.cred.ID) {
		t.Errorf("credential id = %x, want the authenticator's %x", cred.ID, d.cred.ID)
	}
	wc, err := decodeCredential(cred)
	if err != nil {
		t.Fatalf("stored data does not decode: %v", err)
	}
	if !wc.Flags.UserVerified || !wc.Flags.UserPresent {
		t.Errorf("flags = %+v, want user present and verified", wc.Flags)
	}
	if len(wc.PublicKey) == 0 {
		t.Error("no public key stored")
	}
	if bytes.Contains(cred.Data, []byte(u.Name)) || bytes.Contains(cred.Data, []byte(u.DisplayName)) {
		t.Error("credential data holds the user's name")
	}
}

// A second registration excludes the registered credential, and an
// authenticator that ignores the exclusion is refused.
func TestRegistrationExcludesRegistered(t *testing.T) {
	r := newRig(t)
	u := testUser("alice")
	d := newDevice(u)
	u = r.register(t, u, d)

	options, c, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	o := decodeOptions[creationOptions](t, options).PublicKey
	if len(o.Exclude) != 1 || o.Exclude[0].ID != b64(d.cred.ID) {
		t.Fatalf("excludeCredentials = %v, want only %s", o.Exclude, b64(d.cred.ID))
	}
	parsed, err := vwa.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if !d.cred.IsExcludedForAttestation(*parsed) {
		t.Error("the authenticator does not see its credential as excluded")
	}

	_, err = r.p.FinishRegistration(u, c, d.attest(t, r.rp, options))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("re-registering a registered credential: err = %v, want ErrInvalid", err)
	}

	// A different authenticator may still be added.
	other := newDevice(u)
	options, c, err = r.p.BeginRegistration(u)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	if _, err := r.p.FinishRegistration(u, c, other.attest(t, r.rp, options)); err != nil {
		t.Fatalf("second authenticator: %v", err)
	}
}

func TestRegistrationRejects(t *testing.T) {
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
				rp.Origin = "https://ward.example.org.evil.test"
				return d.attest(t, rp, options)
			},
			reason: "Error validating origin",
		},
		{
			name: "wrong RP id",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				rp := r.rp
				rp.ID = "example.org"
				return d.attest(t, rp, options)
			},
			reason: "RP Hash mismatch",
		},
		{
			name: "user not verified",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				d.auth.Options.UserNotVerified = true
				return d.attest(t, r.rp, options)
			},
			reason: "User verification required",
		},
		{
			name: "user not present",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				d.auth.Options.UserNotPresent = true
				return d.attest(t, r.rp, options)
			},
			reason: "User presence required",
		},
		{
			name: "response to other options",
			change: func(t *testing.T, r *rig, d *device, _ []byte) []byte {
				other, _, err := r.p.BeginRegistration(testUser("alice"))
				if err != nil {
					t.Fatal(err)
				}
				return d.attest(t, r.rp, other)
			},
			reason: "Error validating challenge",
		},
		{
			name: "client data changed after signing",
			change: func(t *testing.T, r *rig, d *device, options []byte) []byte {
				return editResponse(t, d.attest(t, r.rp, options), addClientData(t))
			},
			reason: "signature",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			u := testUser("alice")
			d := newDevice(u)
			options, c, err := r.p.BeginRegistration(u)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.p.FinishRegistration(u, c, tt.change(t, r, d, options))
			wantInvalid(t, err, tt.reason)

			// The same ceremony with an honest response works, so the
			// refusal came from the change alone.
			d = newDevice(u)
			if _, err := r.p.FinishRegistration(u, c, d.attest(t, r.rp, options)); err != nil {
				t.Fatalf("honest response after the refused one: %v", err)
			}
		})
	}
}

func TestUserChecks(t *testing.T) {
	r := newRig(t)
	long := make([]byte, 65)
	tests := []struct {
		name string
		u    User
	}{
		{"empty handle", User{Name: "alice"}},
		{"handle over 64 bytes", User{Handle: long, Name: "alice"}},
		{"empty name", User{Handle: []byte{1, 2, 3}}},
		{"handle is the name", User{Handle: []byte("alice"), Name: "alice"}},
		{"handle is the display name", User{Handle: []byte("Alice A"), Name: "alice", DisplayName: "Alice A"}},
		{"corrupt credential", User{Handle: []byte{1}, Name: "alice", Credentials: []Credential{{ID: []byte{1}, Data: []byte("{")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := r.p.BeginRegistration(tt.u)
			want := ErrUser
			if tt.name == "corrupt credential" {
				want = ErrCorrupt
			}
			if !errors.Is(err, want) {
				t.Fatalf("BeginRegistration err = %v, want %v", err, want)
			}
			if _, _, err := r.p.BeginLogin(tt.u); !errors.Is(err, want) {
				t.Fatalf("BeginLogin err = %v, want %v", err, want)
			}
		})
	}
	ok := User{Handle: long[:64], Name: "alice"}
	if _, _, err := r.p.BeginRegistration(ok); err != nil {
		t.Fatalf("64-byte handle: %v", err)
	}
}

// The display name defaults to the name, so that authenticators always
// have something to show.
func TestDisplayNameDefault(t *testing.T) {
	r := newRig(t)
	u := testUser("bob")
	u.DisplayName = ""
	options, _, err := r.p.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeOptions[creationOptions](t, options).PublicKey.User.DisplayName; got != u.Name {
		t.Errorf("displayName = %q, want %q", got, u.Name)
	}
}
