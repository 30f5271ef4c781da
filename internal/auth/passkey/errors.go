package passkey

import "errors"

// Errors returned by this package, wrapped with what failed. Test them with
// errors.Is. Their messages hold no user name, display name or handle.
var (
	// ErrConfig means the Config given to New is unusable.
	ErrConfig = errors.New("passkey: invalid configuration")
	// ErrUser means the User given to a ceremony is unusable: its handle is
	// empty, longer than 64 bytes or equal to its name or display name, or
	// its name is empty. It is the caller's fault, not the person's.
	ErrUser = errors.New("passkey: invalid user")
	// ErrNoCredentials means BeginLogin was called for a user who has no
	// registered passkey.
	ErrNoCredentials = errors.New("passkey: user has no passkey")
	// ErrTooLarge means a browser response is longer than MaxResponseSize
	// (HTTP 413).
	ErrTooLarge = errors.New("passkey: response too large")
	// ErrMalformed means a browser response is not JSON or not a WebAuthn
	// response of the expected shape (HTTP 400).
	ErrMalformed = errors.New("passkey: malformed response")
	// ErrInvalid means a response failed verification: wrong challenge,
	// origin or relying party id, missing user verification, bad signature,
	// a credential the user does not own, or a ceremony of the wrong kind or
	// for another user. Callers should not tell the person which.
	ErrInvalid = errors.New("passkey: verification failed")
	// ErrUnknownCredential is wrapped together with ErrInvalid when a login
	// response names a credential that is not among the user's, for example
	// one the user deleted from their account but not from their device.
	ErrUnknownCredential = errors.New("passkey: unknown credential")
	// ErrExpired means the ceremony's timeout has passed; the person should
	// start again.
	ErrExpired = errors.New("passkey: ceremony expired")
	// ErrCloned means a login response was correctly signed but its sign
	// counter did not increase: two copies of the credential's private key
	// may exist. The login must be refused; it is not wrapped with
	// ErrInvalid so that callers can alert on it and disable the credential.
	ErrCloned = errors.New("passkey: sign counter did not increase; authenticator may be cloned")
	// ErrCorrupt means a Ceremony or a Credential's Data could not be
	// decoded: stored state was damaged or was not made by this package. It
	// is a server fault (HTTP 500), not the person's.
	ErrCorrupt = errors.New("passkey: corrupt stored state")
)
