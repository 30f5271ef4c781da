-- People's second factors (internal/identity). The TOTP secret is sealed
-- with the tenant's key (internal/crypto/keyring), bound to the account
-- id; totp_step is the last accepted time step, so a code works once;
-- recovery holds the SHA-256 hashes of the unused recovery codes.
CREATE TABLE people_mfa (
	person_id   TEXT    PRIMARY KEY REFERENCES people (id),
	totp_secret BLOB    NOT NULL,
	confirmed   INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
	totp_step   INTEGER NOT NULL,
	recovery    TEXT    NOT NULL CHECK (json_valid(recovery)),
	updated_ns  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
