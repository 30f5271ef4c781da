-- Audit retention (docs/decisions/0005-audit-ledger.md, "Retention and
-- pruning"). A prefix of the ledger whose events are past the retention
-- period can be archived to a signed file and then deleted. Each prune
-- leaves a record: the new floor (every leaf below it is gone) and, as
-- opaque bytes the ledger defines and verifies, the tree's compact range
-- at the floor, the signed checkpoint there and the archive's signed note.
CREATE TABLE audit_prunes (
	floor  INTEGER PRIMARY KEY CHECK (floor > 0),
	record BLOB    NOT NULL
) STRICT;

-- Prune records are append-only, and each floor is above the last.
CREATE TRIGGER audit_prunes_increasing BEFORE INSERT ON audit_prunes
WHEN NEW.floor <= (SELECT coalesce(max(floor), 0) FROM audit_prunes)
BEGIN SELECT RAISE(ABORT, 'audit prune floors only increase'); END;
CREATE TRIGGER audit_prunes_no_update BEFORE UPDATE ON audit_prunes
BEGIN SELECT RAISE(ABORT, 'audit prune records are append-only'); END;
CREATE TRIGGER audit_prunes_no_delete BEFORE DELETE ON audit_prunes
BEGIN SELECT RAISE(ABORT, 'audit prune records are append-only'); END;

-- A leaf may be deleted only below the recorded floor, that is, in the
-- transaction that records a prune or after it. As before, the trigger
-- stops mistakes; the signed checkpoints and prune records are what
-- detect tampering.
DROP TRIGGER audit_leaves_no_delete;
CREATE TRIGGER audit_leaves_no_delete BEFORE DELETE ON audit_leaves
WHEN OLD.idx >= (SELECT coalesce(max(floor), 0) FROM audit_prunes)
BEGIN SELECT RAISE(ABORT, 'audit leaves are append-only (only leaves below the prune floor can be deleted)'); END;
