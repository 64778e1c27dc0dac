-- Sealbox cache, schema version 8: a person's triage decision (issue 22
-- point 6, issue 23 point 1). `triage_json` is what the thread shows (the
-- decision queued here, or the hub's); `hub_triage_json` is the hub's,
-- shown again when the hub refuses a decision queued here. Both hold
-- TriageFacts as JSON: priority, category, whether it sorts as urgent, the
-- due time, and the decision with who, when and the coded reason.

ALTER TABLE threads ADD COLUMN triage_json TEXT;
ALTER TABLE threads ADD COLUMN hub_triage_json TEXT;
