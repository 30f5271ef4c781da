package passkey

import (
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BeginRegistration starts registering a new passkey for u. It returns the
// options as JSON ({"publicKey": {...}}; the browser passes the publicKey
// member through PublicKeyCredential.parseCreationOptionsFromJSON to
// navigator.credentials.create) and the Ceremony to keep until
// FinishRegistration. The options exclude u's registered credentials, so an
// authenticator that already holds one of them declines.
func (p *Passkeys) BeginRegistration(u User) (options []byte, c Ceremony, err error) {
	wu, err := adapt(u)
	if err != nil {
		return nil, nil, err
	}
	creation, session, err := p.web.BeginRegistration(wu,
		webauthn.WithExclusions(wu.descriptors()),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	if options, err = json.Marshal(creation); err != nil {
		return nil, nil, fmt.Errorf("passkey: encode registration options: %w", err)
	}
	if c, err = p.newCeremony(kindRegistration, session); err != nil {
		return nil, nil, err
	}
	return options, c, nil
}

// FinishRegistration verifies the browser's response to the options of c
// and returns the new credential for the caller to store with u. u must be
// the user the ceremony was begun for. The response must carry the user
// verification flag; any attestation format the library can verify is
// accepted, including "none". A credential u already has is refused.
func (p *Passkeys) FinishRegistration(u User, c Ceremony, response []byte) (Credential, error) {
	if err := checkBody(response); err != nil {
		return Credential{}, err
	}
	wu, err := adapt(u)
	if err != nil {
		return Credential{}, err
	}
	sd, err := p.session(c, kindRegistration, wu)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	cred, err := p.web.CreateCredential(wu, sd, parsed)
	if err != nil {
		return Credential{}, invalid("registration", err)
	}
	// The library checked this already because the session requires it;
	// checked again so that no future change of session handling drops it.
	if !cred.Flags.UserVerified {
		return Credential{}, fmt.Errorf("%w: registration: user not verified", ErrInvalid)
	}
	if wu.find(cred.ID) >= 0 {
		return Credential{}, fmt.Errorf("%w: registration: credential already registered", ErrInvalid)
	}
	return encodeCredential(*cred)
}
