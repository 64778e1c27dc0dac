-- The relay: the practice, patient channels, threads, sealed envelopes, the
-- action log and the change log that sync pages through. Only ciphertext and
-- routing metadata are stored. Times are INTEGER microseconds since the epoch.

CREATE TABLE practice (
    singleton INTEGER PRIMARY KEY NOT NULL DEFAULT 1 CHECK (singleton = 1),
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at_us INTEGER NOT NULL
) STRICT;

-- One per patient: a pseudonym, the hash of the bearer token the practice
-- issued, and the patient's public keys (Ed25519 signs envelopes, replies
-- are sealed to X25519).
CREATE TABLE patient_channels (
    patient_id TEXT PRIMARY KEY NOT NULL,
    token_sha256 BLOB NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    ed25519_public BLOB NOT NULL CHECK (length(ed25519_public) = 32),
    x25519_public BLOB NOT NULL CHECK (length(x25519_public) = 32),
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
) STRICT;

-- Every stored envelope and applied action takes the next seq.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('envelope', 'action'))
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id > 0),
    patient_id TEXT NOT NULL REFERENCES patient_channels (patient_id),
    category TEXT NOT NULL,
    -- ThreadState as JSON; state_kind and queue_pool copy parts of it for counts.
    state TEXT NOT NULL,
    state_kind TEXT NOT NULL,
    queue_pool TEXT,
    version INTEGER NOT NULL,
    created_at_us INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL,
    updated_by_id TEXT,
    updated_by_role TEXT
) STRICT;
CREATE INDEX threads_patient ON threads (patient_id);
CREATE INDEX threads_waiting ON threads (state_kind, category, queue_pool);

CREATE TABLE envelopes (
    seq INTEGER PRIMARY KEY NOT NULL REFERENCES changes (seq),
    message_id INTEGER NOT NULL UNIQUE CHECK (message_id > 0),
    thread_id INTEGER NOT NULL REFERENCES threads (id),
    sender_kind TEXT NOT NULL CHECK (sender_kind IN ('patient', 'staff')),
    sender_id TEXT,
    sender_role TEXT,
    received_at_us INTEGER NOT NULL,
    body BLOB NOT NULL,
    body_sha256 BLOB NOT NULL
) STRICT;
CREATE INDEX envelopes_thread ON envelopes (thread_id, seq);

CREATE TABLE actions (
    seq INTEGER PRIMARY KEY NOT NULL REFERENCES changes (seq),
    thread_id INTEGER NOT NULL REFERENCES threads (id),
    op TEXT NOT NULL,
    by_id TEXT NOT NULL,
    by_role TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    version INTEGER NOT NULL
) STRICT;

-- First outcome of each (user, idempotency key), returned on retries.
CREATE TABLE idempotency (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_sha256 BLOB NOT NULL,
    result TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT;
