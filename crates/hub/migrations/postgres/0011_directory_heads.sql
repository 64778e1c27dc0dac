-- Each device's newest signed claim of the directory head it verified
-- (sealbox_crypto::directory::HeadClaim). Devices compare them with their
-- own chain when they sync; the hub relays them but cannot forge one.
-- (PostgreSQL twin of ../0011_directory_heads.sql.)
CREATE TABLE directory_heads (
    device_id TEXT PRIMARY KEY NOT NULL REFERENCES devices (id),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    hash BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    signature BYTEA NOT NULL CHECK (octet_length(signature) = 64),
    at_us BIGINT NOT NULL
);
