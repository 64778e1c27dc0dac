-- Sealbox cache, schema version 10 (issue 27: save to record).
-- record_saves: a thread queued to be saved to the patient's record at the
-- practice's FHIR endpoint, until the endpoint takes it (saved_at); tries
-- and the last refusal (plain words, no patient data) while it waits.
-- audit_hash: the hash of the save's own audit event, which the Bundle's
-- Provenance names (it chains the decision and everything before it).
-- record_matches: the patient the record holds for the thread's NHS
-- number, checked against what the patient wrote (a
-- sealbox_record::matching::Match as a key), and who confirmed a
-- mismatch. refill_decisions: the refill decision sent from this
-- workstation as the hub applied it (the hub_api RefillChoice and
-- ItemDecisions, as JSON), kept for the record: the outbox forgets it
-- once the hub has it, and one the hub refused never arrives here. Rows
-- are keyed as threads are (threads.thread_key); retention keeps a closed
-- thread whose save is still waiting.

CREATE TABLE record_saves (
    thread_key INTEGER PRIMARY KEY,
    queued_at INTEGER NOT NULL,
    queued_by TEXT NOT NULL,
    audit_hash TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    saved_at INTEGER
);
CREATE TABLE record_matches (
    thread_key INTEGER PRIMARY KEY,
    outcome TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    confirmed_by TEXT,
    confirmed_at INTEGER
);
CREATE TABLE refill_decisions (
    thread_key INTEGER PRIMARY KEY,
    decision_json TEXT NOT NULL,
    applied_at INTEGER NOT NULL
);
