-- Tenants' own privileges for workforce roles (internal/access
-- EditableRoles), replacing the built-in ones; absent: built-in.
-- privileges is a JSON array of {"resources": [...], "actions": [...]}.
CREATE TABLE role_privileges (
	tenant     TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	privileges TEXT    NOT NULL CHECK (json_valid(privileges)),
	updated_ns INTEGER NOT NULL,
	updated_by TEXT    NOT NULL,
	PRIMARY KEY (tenant, role)
) STRICT, WITHOUT ROWID;
