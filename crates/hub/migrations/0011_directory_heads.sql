-- Each device's newest signed claim of the directory head it verified
-- (sealbox_crypto::directory::HeadClaim). Devices compare them with their
-- own chain when they sync; the hub relays them but cannot forge one.
CREATE TABLE directory_heads (
    device_id TEXT PRIMARY KEY NOT NULL REFERENCES devices (id),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    at_us INTEGER NOT NULL
) STRICT;
