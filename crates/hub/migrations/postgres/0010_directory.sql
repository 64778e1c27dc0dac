-- The practice's signed key directory (sealbox_crypto::directory). The
-- practice key's public half is set once by the first admin; statements
-- are appended in order, each checked against it and the chain before it.
-- The hub keeps them and serves them; devices check them again against the
-- key they pinned, so a hub that edits these rows gains nothing.
-- (PostgreSQL twin of ../0010_directory.sql. The code always gives id and
-- seq, so neither is an identity column.)
CREATE TABLE practice_signing_key (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    ed25519_public BYTEA NOT NULL CHECK (octet_length(ed25519_public) = 32),
    set_by_device TEXT NOT NULL,
    set_at_us BIGINT NOT NULL
);

CREATE TABLE directory (
    seq BIGINT PRIMARY KEY CHECK (seq >= 1),
    statement TEXT NOT NULL,
    added_by_device TEXT NOT NULL,
    added_at_us BIGINT NOT NULL
);
