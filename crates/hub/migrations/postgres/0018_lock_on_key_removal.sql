-- With a USB security key, pulling it out locks the workstation
-- (PracticePolicy::lock_on_key_removal). Rows kept before this column
-- existed leave it off.
-- (PostgreSQL twin of ../0018_lock_on_key_removal.sql.)
ALTER TABLE practice_policy
    ADD COLUMN lock_on_key_removal BIGINT NOT NULL DEFAULT 0 CHECK (lock_on_key_removal IN (0, 1));
