-- Single sign-on for staff through a tenant's OpenID Connect provider
-- (internal/identity, internal/auth/sso). An account is linked to the
-- provider's person by issuer and subject, never by e-mail, which can
-- change hands; a person has at most one subject per issuer. Links can
-- be removed (ward user sso-unlink); the audit trail records both.
CREATE TABLE sso_links (
	issuer     TEXT    NOT NULL,
	subject    TEXT    NOT NULL,
	person_id  TEXT    NOT NULL REFERENCES people (id),
	created_ns INTEGER NOT NULL,
	PRIMARY KEY (issuer, subject)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX sso_links_person ON sso_links (person_id, issuer);

-- Sign-ins in progress at a provider, kept by the SHA-256 of their state
-- for about ten minutes and taken (deleted) by the one callback that
-- finishes them. binding_hash is the SHA-256 of the random value in the
-- browser's __Host-ward_sso cookie, so a callback from another browser
-- (login CSRF) finds nothing to finish. nonce and verifier are the
-- sign-in's OpenID Connect nonce and PKCE verifier: useless without the
-- authorization code and ward's client secret, and gone after use.
CREATE TABLE sso_sign_ins (
	state_hash   BLOB    PRIMARY KEY,
	binding_hash BLOB    NOT NULL,
	tenant       TEXT    NOT NULL,
	provider     TEXT    NOT NULL,
	nonce        TEXT    NOT NULL,
	verifier     TEXT    NOT NULL,
	expires_ns   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sso_sign_ins_expires ON sso_sign_ins (expires_ns);
