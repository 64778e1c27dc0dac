-- Internal notes (issue 23 point 8): a staff envelope sealed to the
-- practice's pools only. The patient's replies never include one; the hub
-- also refused, before storing it, any note with a slot for the patient.
-- (PostgreSQL twin of ../0014_internal_notes.sql.)
ALTER TABLE envelopes ADD COLUMN internal BIGINT NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
