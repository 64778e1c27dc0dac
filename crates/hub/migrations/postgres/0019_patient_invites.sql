-- A patient's invite (sealbox_crypto::patient_invite): found by the lookup
-- derived from its one-time code, checked against the practice's tag of
-- the patient's name and date of birth. Neither the code nor who the
-- patient is is stored. `patient_id` is set when the invite replaces a
-- lost device's channel: joining then gives that patient a new channel
-- and closes the old one.
-- (PostgreSQL twin of ../0019_patient_invites.sql.)
CREATE TABLE patient_invites (
    lookup BYTEA PRIMARY KEY NOT NULL CHECK (octet_length(lookup) = 32),
    identity_tag BYTEA NOT NULL CHECK (octet_length(identity_tag) = 32),
    patient_id TEXT REFERENCES patient_channels (patient_id),
    created_at_us BIGINT NOT NULL,
    expires_at_us BIGINT NOT NULL,
    used_at_us BIGINT,
    failed_attempts BIGINT NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0)
);
