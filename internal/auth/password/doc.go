// Package password hashes, verifies and vets people's passwords. It does
// no I/O: callers store the PHC strings Hash returns and pass earlier ones
// back to Checker.Check.
//
// Hash and Verify use argon2id and the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash); parameters read back from
// storage are bounded, so a hostile stored hash cannot exhaust memory.
//
// A Checker enforces a Policy: one of two presets (HIPAA, the default,
// with composition rules and a 180-day maximum age; NIST SP 800-63B with
// length rules only) plus rules no preset turns off: a blocklist of about
// 960,000 common passwords (embedded, see README.md for its provenance),
// leetspeak and digit-suffix variants of them, the person's own names, a
// strength estimate (zxcvbn), repeated patterns, and the last 12 passwords.
//
// Every password is NFKC-normalised before it is checked, hashed or
// verified, so "Ｐａｓｓｗｏｒｄ" and "Password" are the same password.
// No error or message from this package contains a password.
package password
