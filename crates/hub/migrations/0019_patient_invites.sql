-- A patient's invite (sealbox_crypto::patient_invite): found by the lookup
-- derived from its one-time code, checked against the practice's tag of
-- the patient's name and date of birth. Neither the code nor who the
-- patient is is stored. `patient_id` is set when the invite replaces a
-- lost device's channel: joining then gives that patient a new channel
-- and closes the old one.
CREATE TABLE patient_invites (
    lookup BLOB PRIMARY KEY NOT NULL CHECK (length(lookup) = 32),
    identity_tag BLOB NOT NULL CHECK (length(identity_tag) = 32),
    patient_id TEXT REFERENCES patient_channels (patient_id),
    created_at_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL,
    used_at_us INTEGER,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0)
) STRICT;
