-- Sealbox cache, schema version 9 (issue 23 point 11).
-- duplicate_of / duplicate_reason: the open thread of the same patient and
-- category this one repeats, linked here at intake (the hub cannot read
-- either); duplicate_reason is a sealbox_model::duplicates::DuplicateReason
-- key. merged_into: the thread it was merged into, as the hub reports it.
-- messages.written_by_json: who wrote a patient's message on their behalf
-- (sealbox_model::patient::Representative as JSON), when someone did.

ALTER TABLE threads ADD COLUMN duplicate_of INTEGER;
ALTER TABLE threads ADD COLUMN duplicate_reason TEXT;
ALTER TABLE threads ADD COLUMN merged_into INTEGER;
CREATE INDEX threads_merged_into ON threads(merged_into) WHERE merged_into IS NOT NULL;
ALTER TABLE messages ADD COLUMN written_by_json TEXT;
