-- Resource versions: metadata in the clear, body sealed by the keyring with
-- AAD tenant|type|id|version. seq never repeats (AUTOINCREMENT), even after
-- rows are erased, so history cursors stay valid.
CREATE TABLE resources (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant       TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	version      INTEGER NOT NULL CHECK (version > 0),
	last_updated INTEGER NOT NULL, -- Unix milliseconds, UTC
	deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
	key_id       TEXT    NOT NULL, -- '' for deletions
	body         BLOB,             -- NULL for deletions
	CHECK ((deleted = 1) = (body IS NULL)),
	CHECK ((deleted = 1) = (key_id = ''))
) STRICT;

-- One row per version; also serves Current (read backwards), Version and
-- instance history (named, so queries can insist on it with INDEXED BY).
CREATE UNIQUE INDEX resources_version ON resources (tenant, type, id, version);

-- System and type history, newest first.
CREATE INDEX resources_tenant_history ON resources (tenant, last_updated, seq);
CREATE INDEX resources_type_history ON resources (tenant, type, last_updated, seq);

-- Wrapped keys (tenant keys, data keys). Never stored unwrapped.
CREATE TABLE keys (
	tenant     TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	wrapped_by TEXT    NOT NULL,
	wrapped    BLOB    NOT NULL,
	created_ns INTEGER NOT NULL, -- Unix nanoseconds, UTC
	PRIMARY KEY (tenant, id),
	UNIQUE (tenant, name)
) STRICT, WITHOUT ROWID;

-- OAuth 2 service clients; the secret is stored only as its hash.
CREATE TABLE clients (
	id          TEXT    PRIMARY KEY,
	tenant      TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	role        TEXT    NOT NULL,
	secret_hash BLOB    NOT NULL,
	created_ns  INTEGER NOT NULL,
	disabled    INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;

CREATE INDEX clients_tenant ON clients (tenant, created_ns);

-- Issued access tokens, by the hash of the bearer value.
CREATE TABLE tokens (
	hash       BLOB    PRIMARY KEY,
	client_id  TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	tenant     TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	issued_ns  INTEGER NOT NULL,
	expires_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX tokens_expires ON tokens (expires_ns);
CREATE INDEX tokens_client ON tokens (client_id);
