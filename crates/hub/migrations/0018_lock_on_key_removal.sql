-- With a USB security key, pulling it out locks the workstation
-- (PracticePolicy::lock_on_key_removal). Rows kept before this column
-- existed leave it off.
ALTER TABLE practice_policy
    ADD COLUMN lock_on_key_removal INTEGER NOT NULL DEFAULT 0 CHECK (lock_on_key_removal IN (0, 1));
