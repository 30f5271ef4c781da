-- The blind search index (docs/decisions/0008-blind-index.md). Nothing here
-- is plaintext PHI: current holds what resources already holds in the clear
-- (type, id, version, last_updated), search_tokens holds keyed HMAC tokens.

-- One row per resource: its current version. rid is a small surrogate key
-- so token rows stay small; it is never reused.
CREATE TABLE current (
	rid          INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant       TEXT    NOT NULL,
	type         TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	version      INTEGER NOT NULL CHECK (version > 0),
	last_updated INTEGER NOT NULL, -- Unix milliseconds, UTC
	deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
	-- The current version's tokens, 8 bytes each, concatenated: what an
	-- update or delete must remove from search_tokens. Empty when deleted.
	tokens       BLOB    NOT NULL
) STRICT;

CREATE UNIQUE INDEX current_id ON current (tenant, type, id);
-- A type's resources in rid order (the rowid ends every index), and by
-- last update for _lastUpdated and _sort=_lastUpdated.
CREATE INDEX current_type ON current (tenant, type, deleted);
CREATE INDEX current_updated ON current (tenant, type, last_updated);

-- Token → resources. 8-byte tokens, integer rid: about 14 bytes a row.
CREATE TABLE search_tokens (
	token BLOB    NOT NULL,
	rid   INTEGER NOT NULL,
	PRIMARY KEY (token, rid)
) STRICT, WITHOUT ROWID;

-- Resources written before this migration get their current rows, without
-- tokens: they are found by type, _id and _lastUpdated until reindexed.
INSERT INTO current (tenant, type, id, version, last_updated, deleted, tokens)
SELECT r.tenant, r.type, r.id, r.version, r.last_updated, r.deleted, X''
FROM resources r
WHERE r.version = (SELECT max(version) FROM resources m
	WHERE m.tenant = r.tenant AND m.type = r.type AND m.id = r.id);
