-- The practice's security policy (sealbox_model::hub_api::PracticePolicy),
-- set with `sealbox-hub policy` and served to every workstation. No row:
-- the defaults (15-minute idle maximum, re-authentication every 12 hours,
-- hmac-secret required). Each change is kept, newest last, so who relaxed
-- what and when can be told afterwards.
CREATE TABLE practice_policy (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    max_idle_secs INTEGER NOT NULL CHECK (max_idle_secs BETWEEN 30 AND 900),
    reauth_secs INTEGER NOT NULL CHECK (reauth_secs BETWEEN 30 AND 43200),
    allow_weaker_keys INTEGER NOT NULL CHECK (allow_weaker_keys IN (0, 1)),
    set_by TEXT NOT NULL,
    set_at_us INTEGER NOT NULL
) STRICT;
