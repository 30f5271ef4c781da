// Package mfa holds the second factors for people that need no network and
// no database: time-based one-time passwords (RFC 6238) and single-use
// recovery codes. It computes and checks; the caller stores secrets,
// hashes and the last accepted TOTP step, rate-limits attempts, and audits
// the outcome.
package mfa
