// Package passkey runs the WebAuthn ceremonies that register and check
// passkeys: platform authenticators (Touch ID, Face ID, Windows Hello) and
// roaming security keys. It wraps github.com/go-webauthn/webauthn with the
// policy ward needs, so callers cannot weaken it by accident:
//
//   - user verification (biometrics or PIN) is required in every ceremony,
//     and a response without the UV flag is refused;
//   - resident (discoverable) keys are preferred, and attestation "none" is
//     accepted: ward does not identify authenticator models;
//   - registration excludes the user's registered credentials, and login
//     allows only them;
//   - a sign counter that does not move forward refuses the login with
//     [ErrCloned].
//
// A ceremony has two steps. Begin returns the options for the browser and a
// [Ceremony]; the caller keeps the Ceremony server-side and hands it back to
// Finish together with the browser's JSON response. Finish checks the
// challenge, origin, relying party id, user verification and signature.
//
// The package does no I/O, keeps no state and logs nothing. The caller
// stores users' handles, their [Credential] records and pending ceremonies;
// makes each ceremony single use (delete it before calling Finish); enforces
// that a credential id is registered to one account only; rate-limits and
// audits attempts; and maps the errors in errors.go to HTTP answers. Error
// messages never hold a user's name, display name or handle.
package passkey
