-- The audit ledger's journal (internal/audit/journal): events of requests
-- that change no data are made durable in a journal file first and moved
-- into audit_leaves in batches. pos is the journal position up to which
-- they have been moved, advanced in the same transaction as the leaves,
-- so after a crash exactly the entries after it are moved again.
CREATE TABLE audit_journal (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	pos INTEGER NOT NULL CHECK (pos >= 0)
) STRICT;
