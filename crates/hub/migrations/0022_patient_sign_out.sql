-- The patient web app signs itself out after this long without input
-- (PracticePolicy::patient_sign_out_secs; issue 25 point 4). Rows kept
-- before this column existed keep the default, 15 minutes.
ALTER TABLE practice_policy
    ADD COLUMN patient_sign_out_secs INTEGER NOT NULL DEFAULT 900
        CHECK (patient_sign_out_secs BETWEEN 60 AND 900);
