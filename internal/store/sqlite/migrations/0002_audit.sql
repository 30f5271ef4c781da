-- Audit ledger (docs/decisions/0005-audit-ledger.md). Events are leaves of
-- an RFC 6962 Merkle tree; the ledger package defines their encoding and
-- verifies everything read back, so these tables hold opaque bytes.

-- Leaves, appended with consecutive indices 0, 1, 2, ... inside the write
-- transaction. data is the canonical event encoding, which carries its own
-- index; hash is its RFC 6962 leaf hash.
CREATE TABLE audit_leaves (
	idx  INTEGER PRIMARY KEY CHECK (idx >= 0),
	hash BLOB    NOT NULL,
	data BLOB    NOT NULL
) STRICT;

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE audit_checkpoints (
	size INTEGER PRIMARY KEY CHECK (size > 0),
	note BLOB    NOT NULL
) STRICT;

-- Leaves and checkpoints are append-only. This stops mistakes, not an
-- attacker with the file (who can drop triggers): the Merkle tree and the
-- signed checkpoints are what detect tampering.
CREATE TRIGGER audit_leaves_no_update BEFORE UPDATE ON audit_leaves
BEGIN SELECT RAISE(ABORT, 'audit leaves are append-only'); END;
CREATE TRIGGER audit_leaves_no_delete BEFORE DELETE ON audit_leaves
BEGIN SELECT RAISE(ABORT, 'audit leaves are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;

-- Hashes of complete subtrees at some levels, keyed by an integer the
-- ledger chooses: a cache that makes proofs cheap, derived from the leaves.
CREATE TABLE audit_nodes (
	node INTEGER PRIMARY KEY,
	hash BLOB    NOT NULL
) STRICT;

-- The integrator's state (tree size and compact range) as of the last
-- checkpoint, so a restart resumes without rereading every leaf. One row.
CREATE TABLE audit_state (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	state BLOB    NOT NULL
) STRICT;
