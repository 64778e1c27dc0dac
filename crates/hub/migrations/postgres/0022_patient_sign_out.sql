-- The patient web app signs itself out after this long without input
-- (PracticePolicy::patient_sign_out_secs; issue 25 point 4). Rows kept
-- before this column existed keep the default, 15 minutes.
-- (PostgreSQL twin of ../0022_patient_sign_out.sql.)
ALTER TABLE practice_policy
    ADD COLUMN patient_sign_out_secs BIGINT NOT NULL DEFAULT 900
        CHECK (patient_sign_out_secs BETWEEN 60 AND 900);
