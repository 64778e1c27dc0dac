-- How long a workstation may go on unlocking offline since its last unlock
-- verified by the hub (PracticePolicy::max_offline_secs): 1 hour to 14 days,
-- 72 hours unless the practice says otherwise. Rows kept before this
-- column existed take the default.
-- (PostgreSQL twin of ../0008_offline_allowance.sql.)
ALTER TABLE practice_policy
    ADD COLUMN max_offline_secs BIGINT NOT NULL DEFAULT 259200 CHECK (max_offline_secs BETWEEN 3600 AND 1209600);
