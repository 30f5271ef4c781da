// Package sso is ward's OpenID Connect relying party for staff single
// sign-on through an external identity provider (Okta, Entra ID, Keycloak).
//
// It runs the authorization-code flow with PKCE (S256), a nonce and a
// state: Begin makes the provider URL and the secrets of one sign-in,
// which the caller keeps server-side; Finish checks the browser's
// answer, redeems the code and verifies the ID token (signature against
// the provider's published keys, issuer, audience, expiry, nonce). It
// returns the claims ward links accounts with (issuer and subject) and
// says whether the provider's amr claim (RFC 8176) shows multi-factor
// authentication ward may accept.
//
// The package stores nothing, logs nothing and holds no global state; the
// caller links accounts, keeps and expires Start values, rate-limits and
// audits. Error messages name the check that failed but never carry a
// token, a code or personal data, so they are safe to log.
package sso
