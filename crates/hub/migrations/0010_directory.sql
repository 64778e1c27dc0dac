-- The practice's signed key directory (sealbox_crypto::directory). The
-- practice key's public half is set once by the first admin; statements
-- are appended in order, each checked against it and the chain before it.
-- The hub keeps them and serves them; devices check them again against the
-- key they pinned, so a hub that edits these rows gains nothing.
CREATE TABLE practice_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ed25519_public BLOB NOT NULL CHECK (length(ed25519_public) = 32),
    set_by_device TEXT NOT NULL,
    set_at_us INTEGER NOT NULL
) STRICT;

CREATE TABLE directory (
    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
    statement TEXT NOT NULL,
    added_by_device TEXT NOT NULL,
    added_at_us INTEGER NOT NULL
) STRICT;
