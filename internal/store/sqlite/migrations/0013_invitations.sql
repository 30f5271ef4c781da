-- Single-use, expiring invitations (internal/identity): an administrator
-- invites a person to a tenant with a role; redeeming the invitation
-- creates the account. Kept by the SHA-256 of the token, never the token;
-- a redeemed invitation keeps the account it created.
CREATE TABLE invitations (
	hash        BLOB    PRIMARY KEY,
	tenant      TEXT    NOT NULL CHECK (tenant != ''),
	role        TEXT    NOT NULL,
	email       TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	created_by  TEXT    NOT NULL,
	created_ns  INTEGER NOT NULL,
	expires_ns  INTEGER NOT NULL,
	used_ns     INTEGER NOT NULL DEFAULT 0,
	person_id   TEXT    REFERENCES people (id)
) STRICT, WITHOUT ROWID;

CREATE INDEX invitations_tenant ON invitations (tenant, created_ns);
