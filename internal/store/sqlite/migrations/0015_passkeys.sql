-- WebAuthn passkeys (internal/identity, internal/auth/passkey): a
-- person's registered authenticators, a second factor like TOTP. The
-- credential id is unique across accounts; data holds the public key and
-- sign counter (no secret). Ceremonies in progress are kept by the hash
-- of the sign-in challenge or session that owns them, single-use.
CREATE TABLE passkeys (
	credential_id BLOB    PRIMARY KEY,
	person_id     TEXT    NOT NULL REFERENCES people (id),
	data          BLOB    NOT NULL,
	created_ns    INTEGER NOT NULL,
	last_used_ns  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX passkeys_person ON passkeys (person_id, created_ns);

CREATE TABLE webauthn_ceremonies (
	owner      BLOB    NOT NULL,
	purpose    TEXT    NOT NULL,
	person_id  TEXT    NOT NULL REFERENCES people (id),
	data       BLOB    NOT NULL,
	expires_ns INTEGER NOT NULL,
	PRIMARY KEY (owner, purpose)
) STRICT, WITHOUT ROWID;
