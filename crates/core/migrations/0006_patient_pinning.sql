-- A patient's details (name, date of birth, NHS number) are pinned at first
-- sight. A later patient message naming them differently is kept here for
-- a person to confirm (Writer::pin_patient); it is never applied silently,
-- since a wrong-patient record is a clinical hazard. Confirming one applies
-- it and clears the patient's waiting changes (the audit chain keeps who).
CREATE TABLE patient_detail_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id    TEXT NOT NULL REFERENCES patients (id),
    display_name  TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    nhs_number    TEXT NOT NULL,
    UNIQUE (patient_id, display_name, date_of_birth, nhs_number)
);
