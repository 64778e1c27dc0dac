-- Sealbox cache, schema version 1: the clinical cache without search.
-- Migrations are append-only: never edit a released file (a test pins their
-- checksums); add the next numbered file instead.

CREATE TABLE patients (
    id            TEXT PRIMARY KEY,          -- hub pseudonym
    display_name  TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,             -- ISO 8601 date
    nhs_number    TEXT NOT NULL
) WITHOUT ROWID;

-- thread_key / message_key: the u64 hub id mapped to i64 order-preservingly
-- (sealbox_model::inbox_order::thread_key).
CREATE TABLE threads (
    thread_key  INTEGER PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    state_json  TEXT NOT NULL,               -- sealbox_model ThreadState
    closed_ms   INTEGER,                     -- when it was closed (retention)
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX threads_closed ON threads(closed_ms) WHERE closed_ms IS NOT NULL;
CREATE INDEX threads_patient ON threads(patient_id);

-- Triage state: everything the inbox filters and sorts on, in one row.
CREATE TABLE triage (
    thread_key     INTEGER PRIMARY KEY REFERENCES threads(thread_key) ON DELETE CASCADE,
    pool           TEXT NOT NULL,
    category       TEXT NOT NULL,
    priority       TEXT NOT NULL,
    state          TEXT NOT NULL,            -- StateKind key
    assignee_staff TEXT,
    breached_rank  INTEGER NOT NULL,         -- 0 breached, 1 not (as of the last refresh)
    urgent_rank    INTEGER NOT NULL,         -- 0 red-flagged, 1 not
    due_ms         INTEGER NOT NULL,         -- i64::MAX when there is no target
    received_ms    INTEGER NOT NULL
);
CREATE INDEX triage_order ON triage(breached_rank, urgent_rank, due_ms, received_ms, thread_key);
CREATE INDEX triage_pool_order ON triage(pool, breached_rank, urgent_rank, due_ms, received_ms, thread_key);
CREATE INDEX triage_breach_due ON triage(breached_rank, due_ms);

CREATE TABLE messages (
    message_key INTEGER PRIMARY KEY,
    thread_key  INTEGER NOT NULL REFERENCES threads(thread_key) ON DELETE CASCADE,
    author_json TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE INDEX messages_thread ON messages(thread_key, received_ms);

CREATE TABLE parts (
    message_key INTEGER NOT NULL REFERENCES messages(message_key) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    body_json   TEXT NOT NULL,               -- sealbox_model MessagePart
    PRIMARY KEY (message_key, idx)
) WITHOUT ROWID;

-- Who saw which message when ("latest patient message was viewed").
CREATE TABLE views (
    message_key INTEGER NOT NULL REFERENCES messages(message_key) ON DELETE CASCADE,
    staff_id    TEXT NOT NULL,
    seen_ms     INTEGER NOT NULL,
    PRIMARY KEY (message_key, staff_id, seen_ms)
) WITHOUT ROWID;

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    thread_key      INTEGER,
    payload         BLOB NOT NULL,
    created_ms      INTEGER NOT NULL
);

CREATE TABLE sync_cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    cursor     TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
