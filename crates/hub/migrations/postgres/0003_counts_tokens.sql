-- Counts-only tokens: a locked desktop keeps one to hold GET /v1/events
-- (ids and pool counts, never content) after its session is dropped, so it
-- can still show blind notifications. Nothing else accepts them.
-- (PostgreSQL twin of ../0003_counts_tokens.sql.)
CREATE TABLE counts_tokens (
    token_sha256 BYTEA PRIMARY KEY NOT NULL CHECK (octet_length(token_sha256) = 32),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    created_at_us BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    revoked_at_us BIGINT
);
CREATE INDEX counts_tokens_device ON counts_tokens (device_id);
