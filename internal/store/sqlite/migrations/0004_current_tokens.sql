-- Keep current slim: a search reads a current row for every candidate it
-- filters (tenant, type, deleted), and the token list (~60 × 8 bytes) made
-- each row span most of a page. The list moves to a table of its own,
-- read only by writes.
CREATE TABLE current_tokens (
	rid    INTEGER PRIMARY KEY,
	tokens BLOB    NOT NULL -- the current version's tokens, 8 bytes each, concatenated
) STRICT;

INSERT INTO current_tokens (rid, tokens) SELECT rid, tokens FROM current WHERE length(tokens) > 0;

ALTER TABLE current DROP COLUMN tokens;
