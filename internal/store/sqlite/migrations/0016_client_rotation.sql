-- Secret rotation for service clients (ward client rotate): the secret a
-- rotation replaced may keep working until previous_until_ns, so that an
-- integration can switch without downtime. Only one previous secret is
-- kept; NULL and 0 mean none. Like secret_hash, only its SHA-256 is stored.
ALTER TABLE clients ADD COLUMN previous_secret_hash BLOB;
ALTER TABLE clients ADD COLUMN previous_until_ns INTEGER NOT NULL DEFAULT 0;
