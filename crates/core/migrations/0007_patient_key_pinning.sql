-- A patient's reply key (the channel's X25519 public key, as the hub's
-- thread record names it) is pinned at first sight, like their details
-- (issue 21): replies are sealed to the pinned key. A later thread record
-- naming another key is kept here, never applied, so a hub that swaps the
-- key gets nothing sealed to it (Writer::pin_patient_key).
CREATE TABLE patient_keys (
    patient_id    TEXT PRIMARY KEY NOT NULL,
    x25519_public BLOB NOT NULL CHECK (length(x25519_public) = 32),
    pinned_at_ms  INTEGER NOT NULL
);
CREATE TABLE patient_key_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id    TEXT NOT NULL REFERENCES patient_keys (patient_id),
    x25519_public BLOB NOT NULL,
    seen_at_ms    INTEGER NOT NULL,
    UNIQUE (patient_id, x25519_public)
);
-- Threads cached before this migration: their patients' keys as held.
INSERT OR IGNORE INTO patient_keys (patient_id, x25519_public, pinned_at_ms)
    SELECT patient_id, patient_key, 0 FROM threads
    WHERE patient_key IS NOT NULL AND length(patient_key) = 32
    GROUP BY patient_id;
