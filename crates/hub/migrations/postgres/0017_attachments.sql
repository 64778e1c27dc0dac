-- Attachments (issue 23 point 12): blobs a patient's device encrypted under
-- a key of their own (sealbox_crypto::attachment). The key travels only in
-- the sealed envelope, so the hub keeps bytes it cannot read. Each is bound
-- to the patient who sent it and the thread it was sent on: a device reads
-- it only through that thread, and only if that patient's thread it is.
-- (PostgreSQL twin of ../0017_attachments.sql. The SQLite table is not
-- STRICT and its TEXT PRIMARY KEY would take a NULL id; here id is NOT NULL,
-- as every primary key column is in PostgreSQL. See README.md.)
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL,
    thread_id   BIGINT NOT NULL,
    blob        BYTEA NOT NULL,
    sha256      BYTEA NOT NULL,
    at_us       BIGINT NOT NULL
);
CREATE INDEX attachments_by_thread ON attachments (thread_id);
