package passkey

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// User is the account a ceremony is for.
type User struct {
	// Handle is the WebAuthn user handle: opaque, random and stable for the
	// account's life, 1 to 64 bytes (32 bytes from crypto/rand is right). It
	// is stored on the authenticator, so it must never be a username, an
	// email address or anything else that identifies the person.
	Handle []byte
	// Name is the username the authenticator shows when the person picks a
	// passkey.
	Name string
	// DisplayName is a friendlier name the authenticator may show; empty
	// means Name.
	DisplayName string
	// Credentials are the passkeys already registered to the account, as
	// returned by FinishRegistration or FinishLogin.
	Credentials []Credential
}

// Credential is what the caller stores for one registered authenticator.
type Credential struct {
	// ID is the credential id, for lookup. The caller must keep it unique
	// across all accounts.
	ID []byte
	// Data is the credential record (public key, sign counter, flags) in a
	// versioned encoding that only this package reads. The caller stores it
	// as is and replaces it with the one FinishLogin returns.
	Data []byte
}

// credentialVersion is the version of the Data encoding written today.
const credentialVersion = 1

// storedCredential is the encoding of Credential.Data. The version lets a
// later release change the encoding without breaking stored records.
type storedCredential struct {
	V          int                 `json:"v"`
	Credential webauthn.Credential `json:"credential"`
}

func encodeCredential(c webauthn.Credential) (Credential, error) {
	data, err := json.Marshal(storedCredential{V: credentialVersion, Credential: c})
	if err != nil {
		return Credential{}, fmt.Errorf("passkey: encode credential: %w", err)
	}
	return Credential{ID: bytes.Clone(c.ID), Data: data}, nil
}

func decodeCredential(c Credential) (webauthn.Credential, error) {
	var s storedCredential
	if err := json.Unmarshal(c.Data, &s); err != nil {
		return webauthn.Credential{}, fmt.Errorf("%w: credential data: %w", ErrCorrupt, err)
	}
	if s.V != credentialVersion {
		return webauthn.Credential{}, fmt.Errorf("%w: credential data version %d", ErrCorrupt, s.V)
	}
	if len(s.Credential.ID) == 0 || len(s.Credential.PublicKey) == 0 {
		return webauthn.Credential{}, fmt.Errorf("%w: credential data without id or public key", ErrCorrupt)
	}
	if !bytes.Equal(s.Credential.ID, c.ID) {
		return webauthn.Credential{}, fmt.Errorf("%w: credential data is for another credential id", ErrCorrupt)
	}
	return s.Credential, nil
}

// webUser adapts a User, with its credentials decoded, to webauthn.User.
type webUser struct {
	handle      []byte
	name        string
	displayName string
	credentials []webauthn.Credential
}

func (u *webUser) WebAuthnID() []byte                         { return u.handle }
func (u *webUser) WebAuthnName() string                       { return u.name }
func (u *webUser) WebAuthnDisplayName() string                { return u.displayName }
func (u *webUser) WebAuthnCredentials() []webauthn.Credential { return u.credentials }

// descriptors lists the user's credentials for excludeCredentials and
// allowCredentials.
func (u *webUser) descriptors() []protocol.CredentialDescriptor {
	d := make([]protocol.CredentialDescriptor, len(u.credentials))
	for i, c := range u.credentials {
		d[i] = c.Descriptor()
	}
	return d
}

// find returns the index of the credential with the given id, or -1.
func (u *webUser) find(id []byte) int {
	for i, c := range u.credentials {
		if bytes.Equal(c.ID, id) {
			return i
		}
	}
	return -1
}

// adapt checks u and decodes its credentials.
func adapt(u User) (*webUser, error) {
	if n := len(u.Handle); n < protocol.MinimumUserHandleLength || n > protocol.MaximumUserHandleLength {
		return nil, fmt.Errorf("%w: handle is %d bytes, want %d to %d", ErrUser, n, protocol.MinimumUserHandleLength, protocol.MaximumUserHandleLength)
	}
	if u.Name == "" {
		return nil, fmt.Errorf("%w: name is empty", ErrUser)
	}
	// The handle leaves the server; catch the commonest misuse of it.
	if string(u.Handle) == u.Name || string(u.Handle) == u.DisplayName {
		return nil, fmt.Errorf("%w: handle must be random, not the user's name", ErrUser)
	}
	display := u.DisplayName
	if display == "" {
		display = u.Name
	}
	w := &webUser{handle: bytes.Clone(u.Handle), name: u.Name, displayName: display}
	for i, c := range u.Credentials {
		dc, err := decodeCredential(c)
		if err != nil {
			return nil, fmt.Errorf("credential %d: %w", i, err)
		}
		w.credentials = append(w.credentials, dc)
	}
	return w, nil
}
