-- Sign-in attempts per source address, counted in fixed one-minute
-- windows in the database so that several ward instances share the limit
-- (internal/api). Old windows are deleted as new ones start.
CREATE TABLE sign_in_attempts (
	key       TEXT    NOT NULL,
	window_ns INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	PRIMARY KEY (key, window_ns)
) STRICT, WITHOUT ROWID;

CREATE INDEX sign_in_attempts_window ON sign_in_attempts (window_ns);
