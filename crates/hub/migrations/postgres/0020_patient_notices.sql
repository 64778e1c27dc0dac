-- Blind notices to patients (issue 25): the e-mail address a patient gave
-- when joining, to be told that the practice replied, and the notices
-- waiting to go (one per patient however many replies: a notice says only
-- that there is something to read). A notice that could not be sent stays
-- with its attempts and the kind of failure, and is tried again later.
-- (PostgreSQL twin of ../0020_patient_notices.sql. length() of TEXT counts
-- characters in both engines.)
CREATE TABLE patient_contacts (
    patient_id TEXT PRIMARY KEY NOT NULL REFERENCES patient_channels (patient_id),
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    created_at_us BIGINT NOT NULL
);

CREATE TABLE patient_notices (
    patient_id TEXT PRIMARY KEY NOT NULL REFERENCES patient_channels (patient_id),
    queued_at_us BIGINT NOT NULL,
    due_at_us BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT
);
