-- Sealbox cache, schema version 3: the hub's view of each thread: its
-- version (the expected version of the next action sent about it) and its
-- state (restored when the hub refuses an action shown optimistically).

ALTER TABLE threads ADD COLUMN hub_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN hub_state_json TEXT;
