-- Counts-only tokens: a locked desktop keeps one to hold GET /v1/events
-- (ids and pool counts, never content) after its session is dropped, so it
-- can still show blind notifications. Nothing else accepts them.
CREATE TABLE counts_tokens (
    token_sha256 BLOB PRIMARY KEY NOT NULL CHECK (length(token_sha256) = 32),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    created_at_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
) STRICT;
CREATE INDEX counts_tokens_device ON counts_tokens (device_id);
