-- Sign-in in steps (internal/identity): after the password, a short-lived
-- challenge, kept by the SHA-256 of its token, carries the person to the
-- next step (a new password, TOTP enrolment, or a code).
CREATE TABLE sign_in_challenges (
	hash       BLOB    PRIMARY KEY,
	person_id  TEXT    NOT NULL REFERENCES people (id),
	step       TEXT    NOT NULL,
	expires_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sign_in_challenges_expires ON sign_in_challenges (expires_ns);
