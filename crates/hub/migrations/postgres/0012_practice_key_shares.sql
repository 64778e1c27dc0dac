-- The practice key shared with a second admin's device for continuity
-- (issue 21): its private half sealed by an admin's workstation to that
-- device's X25519 key as the signed directory binds it. The hub cannot open
-- it; the receiving device keeps it only if its public half is the key it
-- pinned. Revoking the device deletes its share.
-- (PostgreSQL twin of ../0012_practice_key_shares.sql.)
CREATE TABLE practice_key_shares (
    device_id TEXT PRIMARY KEY NOT NULL REFERENCES devices (id),
    sealed BYTEA NOT NULL CHECK (octet_length(sealed) BETWEEN 1 AND 4096),
    shared_by_device TEXT NOT NULL,
    at_us BIGINT NOT NULL
);
