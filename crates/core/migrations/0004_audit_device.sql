-- Sealbox cache, schema version 4: audit links name the device that recorded
-- them and are chained with sealbox-crypto's audit_chain (domain-separated,
-- the seq and the device inside the hash). The device's id is kept in the
-- settings (`device.id`); what was pushed to the hub in `audit.pushed`.
-- Links written by schema version 3 used the earlier hash (no seq, no
-- device) and do not verify under it; no cache of that version left a
-- developer's machine.

ALTER TABLE audit_events ADD COLUMN device TEXT NOT NULL DEFAULT '';
