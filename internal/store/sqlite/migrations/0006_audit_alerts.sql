-- Audit alerts (internal/audit/alert). Alerts hold ids and counts, never
-- PHI. dedup makes replaying events after a restart raise nothing twice.
CREATE TABLE audit_alerts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	dedup       TEXT    NOT NULL UNIQUE,
	time_ms     INTEGER NOT NULL, -- Unix milliseconds, UTC
	tenant      TEXT    NOT NULL, -- '' for the whole deployment
	rule        TEXT    NOT NULL,
	severity    TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	summary     TEXT    NOT NULL,
	first_index INTEGER NOT NULL,
	last_index  INTEGER NOT NULL,
	notified    INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))
) STRICT;

CREATE INDEX audit_alerts_tenant ON audit_alerts (tenant, id);
CREATE INDEX audit_alerts_pending ON audit_alerts (notified, id);

-- Alerts are never edited or removed, except to mark them delivered.
CREATE TRIGGER audit_alerts_no_delete BEFORE DELETE ON audit_alerts
BEGIN SELECT RAISE(ABORT, 'audit alerts are kept'); END;
CREATE TRIGGER audit_alerts_no_update BEFORE UPDATE ON audit_alerts
WHEN NEW.id IS NOT OLD.id OR NEW.dedup IS NOT OLD.dedup OR NEW.time_ms IS NOT OLD.time_ms
	OR NEW.tenant IS NOT OLD.tenant OR NEW.rule IS NOT OLD.rule OR NEW.severity IS NOT OLD.severity
	OR NEW.actor IS NOT OLD.actor OR NEW.summary IS NOT OLD.summary
	OR NEW.first_index IS NOT OLD.first_index OR NEW.last_index IS NOT OLD.last_index
BEGIN SELECT RAISE(ABORT, 'audit alerts are kept'); END;

-- How far the alert watcher has read the ledger.
CREATE TABLE audit_alert_cursor (
	one  INTEGER PRIMARY KEY CHECK (one = 1),
	next INTEGER NOT NULL
) STRICT;

-- The networks (IPv4 /24, IPv6 /48) each actor signed in from, with the
-- ledger index of the first sign-in from each.
CREATE TABLE audit_networks (
	tenant      TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	network     TEXT    NOT NULL,
	first_index INTEGER NOT NULL,
	first_ms    INTEGER NOT NULL,
	PRIMARY KEY (tenant, actor, network)
) STRICT, WITHOUT ROWID;
