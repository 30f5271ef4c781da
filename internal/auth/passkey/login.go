package passkey

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// BeginLogin starts a login with one of u's passkeys. It returns the
// options as JSON ({"publicKey": {...}}; the browser passes the publicKey
// member through PublicKeyCredential.parseRequestOptionsFromJSON to
// navigator.credentials.get), which allow only u's credentials, and the
// Ceremony to keep until FinishLogin. A user without passkeys gets
// ErrNoCredentials.
func (p *Passkeys) BeginLogin(u User) (options []byte, c Ceremony, err error) {
	wu, err := adapt(u)
	if err != nil {
		return nil, nil, err
	}
	if len(wu.credentials) == 0 {
		return nil, nil, ErrNoCredentials
	}
	assertion, session, err := p.web.BeginLogin(wu,
		webauthn.WithAllowedCredentials(wu.descriptors()),
		webauthn.WithUserVerification(protocol.VerificationRequired),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	if options, err = json.Marshal(assertion); err != nil {
		return nil, nil, fmt.Errorf("passkey: encode login options: %w", err)
	}
	if c, err = p.newCeremony(kindLogin, session); err != nil {
		return nil, nil, err
	}
	return options, c, nil
}

// FinishLogin verifies the browser's response to the options of c. u must
// be the user the ceremony was begun for, with the same credentials. On
// success it returns the credential that signed, with its sign counter and
// flags updated: the caller stores it in place of the old one.
//
// A response that fails verification gets ErrInvalid (with
// ErrUnknownCredential if it names a credential u does not have). A
// correctly signed response whose sign counter did not increase gets
// ErrCloned, together with the stored credential unchanged, so that the
// caller can disable it; the login is refused either way. Counters that are
// zero before and after are accepted: many passkeys do not count.
func (p *Passkeys) FinishLogin(u User, c Ceremony, response []byte) (updated Credential, err error) {
	if err := checkBody(response); err != nil {
		return Credential{}, err
	}
	wu, err := adapt(u)
	if err != nil {
		return Credential{}, err
	}
	sd, err := p.session(c, kindLogin, wu)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	cred, err := p.web.ValidateLogin(wu, sd, parsed)
	if err != nil {
		if unknown := (*protocol.ErrorUnknownCredential)(nil); errors.As(err, &unknown) {
			return Credential{}, fmt.Errorf("%w: login: %w", ErrInvalid, ErrUnknownCredential)
		}
		return Credential{}, invalid("login", err)
	}
	// Checked again for the same reason as in FinishRegistration.
	if !parsed.Response.AuthenticatorData.Flags.UserVerified() {
		return Credential{}, fmt.Errorf("%w: login: user not verified", ErrInvalid)
	}
	// The library flags, rather than refuses, a counter that did not
	// increase (WebAuthn §7.2 leaves the choice to the RP); ward
	// refuses. adapt kept u.Credentials' order, so i indexes both.
	if cred.Authenticator.CloneWarning {
		i := wu.find(cred.ID)
		return u.Credentials[i], fmt.Errorf("%w: stored counter %d, received %d", ErrCloned,
			wu.credentials[i].Authenticator.SignCount, parsed.Response.AuthenticatorData.Counter)
	}
	return encodeCredential(*cred)
}
