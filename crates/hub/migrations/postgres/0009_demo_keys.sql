-- The demo's software key (PracticePolicy::allow_demo_keys): refused unless
-- the practice allows it. Rows kept before this column existed refuse it.
-- A device enrolled with the demo key is marked, so withdrawing the
-- permission stops it signing in.
-- (PostgreSQL twin of ../0009_demo_keys.sql.)
ALTER TABLE practice_policy
    ADD COLUMN allow_demo_keys BIGINT NOT NULL DEFAULT 0 CHECK (allow_demo_keys IN (0, 1));
ALTER TABLE devices
    ADD COLUMN demo_key BIGINT NOT NULL DEFAULT 0 CHECK (demo_key IN (0, 1));
