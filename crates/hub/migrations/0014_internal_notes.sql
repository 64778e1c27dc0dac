-- Internal notes (issue 23 point 8): a staff envelope sealed to the
-- practice's pools only. The patient's replies never include one; the hub
-- also refused, before storing it, any note with a slot for the patient.
ALTER TABLE envelopes ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
