-- People's accounts (internal/identity). Accounts are disabled, never
-- deleted: the audit trail names them by id. Passwords are argon2id PHC
-- strings; the history holds the previous hashes (JSON array, newest
-- first) for the reuse rule.
CREATE TABLE people (
	id                  TEXT    PRIMARY KEY,
	tenant              TEXT    NOT NULL, -- '' for super-admins
	username            TEXT    NOT NULL,
	email               TEXT    NOT NULL,
	name                TEXT    NOT NULL,
	role                TEXT    NOT NULL,
	password_hash       TEXT    NOT NULL,
	password_history    TEXT    NOT NULL CHECK (json_valid(password_history)),
	password_changed_ns INTEGER NOT NULL,
	must_change         INTEGER NOT NULL CHECK (must_change IN (0, 1)),
	disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_ns          INTEGER NOT NULL,
	UNIQUE (tenant, username)
) STRICT;

CREATE INDEX people_tenant ON people (tenant, created_ns);

CREATE TRIGGER people_no_delete BEFORE DELETE ON people
BEGIN SELECT RAISE(ABORT, 'accounts are disabled, never deleted'); END;
CREATE TRIGGER people_immutable BEFORE UPDATE OF id, tenant, username, created_ns ON people
BEGIN SELECT RAISE(ABORT, 'account ids, tenants, usernames and creation times are immutable'); END;
