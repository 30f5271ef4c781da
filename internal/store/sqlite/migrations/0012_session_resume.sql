-- Idle-locked sessions that can be resumed (internal/identity): when the
-- idle timeout passes a session is locked, not deleted, and the person
-- may resume it within 15 minutes with their password or PIN; 5 wrong
-- answers end it. A step-up marks the session fresh for sensitive
-- operations for 5 minutes.
ALTER TABLE sessions ADD COLUMN locked_ns INTEGER NOT NULL DEFAULT 0;       -- 0: active
ALTER TABLE sessions ADD COLUMN resume_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN stepped_up_ns INTEGER NOT NULL DEFAULT 0;   -- 0: never

-- A person's PIN for resuming a session: an argon2id PHC string, '' if unset.
ALTER TABLE people ADD COLUMN pin_hash TEXT NOT NULL DEFAULT '';
