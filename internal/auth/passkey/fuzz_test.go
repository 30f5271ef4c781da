package passkey

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzFinishLogin feeds arbitrary responses to FinishLogin. It must not
// panic, every error must be one a caller can map, and a success can only
// return the registered credential with a counter that went up.
func FuzzFinishLogin(f *testing.F) {
	r := newRig(f)
	u := testUser("alice")
	d := newDevice(u)
	options, c, err := r.p.BeginRegistration(u)
	if err != nil {
		f.Fatal(err)
	}
	registered, err := r.p.FinishRegistration(u, c, d.attest(f, r.rp, options))
	if err != nil {
		f.Fatal(err)
	}
	u.Credentials = []Credential{registered}
	options, c, err = r.p.BeginLogin(u)
	if err != nil {
		f.Fatal(err)
	}
	d.cred.Counter = 7
	good := d.assert(f, r.rp, options)

	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"","authenticatorData":"","signature":""}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, response []byte) {
		got, err := r.p.FinishLogin(u, c, response)
		if err != nil {
			for _, known := range []error{ErrTooLarge, ErrMalformed, ErrInvalid, ErrCloned} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("unclassified error: %v", err)
		}
		if !bytes.Equal(got.ID, registered.ID) {
			t.Fatalf("accepted a response for credential %x", got.ID)
		}
		if n := signCount(t, got); n != 7 {
			t.Fatalf("accepted with sign count %d, the authenticator signed 7", n)
		}
	})
}
