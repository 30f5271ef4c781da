package sso

import "errors"

// Errors returned by this package, always wrapped with what failed. Their
// messages never contain a token, a code, a secret or personal data.
var (
	// ErrConfig means a Provider is incomplete or unsafe (for instance an
	// issuer that is not https); it is a configuration mistake.
	ErrConfig = errors.New("sso: invalid provider configuration")
	// ErrDiscovery means the provider's discovery document could not be
	// fetched or is unusable; the provider is down or misconfigured.
	ErrDiscovery = errors.New("sso: provider discovery failed")
	// ErrRandom means the random source failed while starting a sign-in.
	ErrRandom = errors.New("sso: random source failed")
	// ErrState means the state returned by the browser does not match the
	// sign-in it claims to finish (a forged or stale callback), or the
	// stored sign-in is incomplete.
	ErrState = errors.New("sso: state mismatch")
	// ErrExchange means the authorization code could not be redeemed: the
	// provider refused it (reused, expired, wrong PKCE verifier or client
	// credentials) or could not be reached.
	ErrExchange = errors.New("sso: code exchange failed")
	// ErrIDToken means the provider's ID token is missing or failed
	// verification (signature, issuer, audience, expiry, subject).
	ErrIDToken = errors.New("sso: invalid id token")
	// ErrNonce means the ID token does not carry the nonce of this sign-in:
	// it was issued for another sign-in or replayed.
	ErrNonce = errors.New("sso: nonce mismatch")
)
