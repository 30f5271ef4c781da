-- People's sessions and sign-in throttling (internal/identity). A session
-- is kept by the SHA-256 of its opaque token, never the token itself.
CREATE TABLE sessions (
	hash        BLOB    PRIMARY KEY,
	person_id   TEXT    NOT NULL REFERENCES people (id),
	tenant      TEXT    NOT NULL,
	role        TEXT    NOT NULL,
	created_ns  INTEGER NOT NULL,
	seen_ns     INTEGER NOT NULL, -- last use: the idle timeout runs from here
	expires_ns  INTEGER NOT NULL, -- absolute end
	idle_ns     INTEGER NOT NULL CHECK (idle_ns > 0)
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_person ON sessions (person_id);
CREATE INDEX sessions_expires ON sessions (expires_ns);

-- Failed sign-ins in a row, and until when the account is locked.
ALTER TABLE people ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN locked_until_ns INTEGER NOT NULL DEFAULT 0;
