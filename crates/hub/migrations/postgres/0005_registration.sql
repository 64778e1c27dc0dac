-- A clinician's professional registration (sealbox_model::registration,
-- e.g. "GMC 7012345"), given with the invite and kept with the member of
-- staff: their devices put it under every reply they send. Staff data.
-- (PostgreSQL twin of ../0005_registration.sql.)
ALTER TABLE invites ADD COLUMN registration TEXT;
ALTER TABLE staff ADD COLUMN registration TEXT;
