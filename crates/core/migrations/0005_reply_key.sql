-- Sealbox cache, schema version 5: each thread keeps its patient's X25519
-- public key as the hub reported it (ThreadMeta.patient_x25519_public), so
-- a reply can be sealed to the patient while offline and queued. A public
-- key, not patient data; NULL until the next sync names it.

ALTER TABLE threads ADD COLUMN patient_key BLOB;
