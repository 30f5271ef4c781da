-- Emergency ("break-glass") access (internal/breakglass): a person's
-- time-boxed grant to one patient's compartment, and the review case a
-- privacy officer closes with a disposition. The reason is free text
-- that may hold PHI: it is stored sealed (encrypted with the tenant's
-- data key, bound to the grant id), never in clear. Grants end early at
-- most once and are never extended; neither table is ever deleted from.
CREATE TABLE break_glass_grants (
	id         TEXT    PRIMARY KEY,
	tenant     TEXT    NOT NULL CHECK (tenant != ''),
	person_id  TEXT    NOT NULL REFERENCES people (id),
	patient_id TEXT    NOT NULL CHECK (patient_id != ''),
	reason     BLOB    NOT NULL, -- sealed
	started_ns INTEGER NOT NULL,
	ends_ns    INTEGER NOT NULL CHECK (ends_ns > started_ns),
	ended_ns   INTEGER NOT NULL DEFAULT 0, -- 0 unless ended early
	ended_by   TEXT    NOT NULL DEFAULT '',
	write      INTEGER NOT NULL CHECK (write IN (0, 1))
) STRICT, WITHOUT ROWID;

-- Active is asked on every request of a person with a grant: one seek.
CREATE INDEX break_glass_grants_active ON break_glass_grants (tenant, person_id, patient_id, ends_ns);

CREATE TRIGGER break_glass_grants_no_delete BEFORE DELETE ON break_glass_grants
BEGIN SELECT RAISE(ABORT, 'break-glass grants are kept'); END;
-- Only an early end may be written, once; the window never grows.
CREATE TRIGGER break_glass_grants_no_update BEFORE UPDATE ON break_glass_grants
WHEN OLD.ended_ns != 0 OR NEW.ended_ns = 0 OR NEW.ended_ns >= OLD.ends_ns
	OR NEW.id IS NOT OLD.id OR NEW.tenant IS NOT OLD.tenant OR NEW.person_id IS NOT OLD.person_id
	OR NEW.patient_id IS NOT OLD.patient_id OR NEW.reason IS NOT OLD.reason OR NEW.started_ns IS NOT OLD.started_ns
	OR NEW.ends_ns IS NOT OLD.ends_ns OR NEW.write IS NOT OLD.write
BEGIN SELECT RAISE(ABORT, 'a break-glass grant can only be ended early, once'); END;

CREATE TABLE break_glass_reviews (
	id          TEXT    PRIMARY KEY,
	grant_id    TEXT    NOT NULL UNIQUE REFERENCES break_glass_grants (id),
	tenant      TEXT    NOT NULL CHECK (tenant != ''),
	opened_ns   INTEGER NOT NULL,
	closed_ns   INTEGER NOT NULL DEFAULT 0, -- 0 while open
	closed_by   TEXT    NOT NULL DEFAULT '',
	disposition TEXT    NOT NULL DEFAULT ''
		CHECK (disposition IN ('', 'justified', 'not-justified', 'needs-follow-up')),
	notes       BLOB, -- sealed; NULL if none
	CHECK ((closed_ns = 0) = (disposition = '') AND (closed_ns = 0) = (closed_by = ''))
) STRICT, WITHOUT ROWID;

CREATE INDEX break_glass_reviews_tenant ON break_glass_reviews (tenant, closed_ns, opened_ns);

CREATE TRIGGER break_glass_reviews_no_delete BEFORE DELETE ON break_glass_reviews
BEGIN SELECT RAISE(ABORT, 'break-glass reviews are kept'); END;
-- A review is closed once and stays closed.
CREATE TRIGGER break_glass_reviews_no_update BEFORE UPDATE ON break_glass_reviews
WHEN OLD.closed_ns != 0
	OR NEW.id IS NOT OLD.id OR NEW.grant_id IS NOT OLD.grant_id OR NEW.tenant IS NOT OLD.tenant
	OR NEW.opened_ns IS NOT OLD.opened_ns
BEGIN SELECT RAISE(ABORT, 'a break-glass review is closed once'); END;
