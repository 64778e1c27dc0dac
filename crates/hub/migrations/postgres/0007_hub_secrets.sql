-- Random secrets the hub keeps for itself. 'login_decoy' keys the decoy
-- credential ids given to unknown users at login (auth/decoy.rs), so an
-- unknown name gets a challenge shaped like a real one, stable across
-- attempts, that nobody outside the hub can tell from a real one.
-- (PostgreSQL twin of ../0007_hub_secrets.sql.)
CREATE TABLE hub_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    secret BYTEA NOT NULL CHECK (octet_length(secret) = 32)
);
