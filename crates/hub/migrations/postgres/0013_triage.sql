-- A person's triage decision (issue 22 point 6, issue 23 point 1): the
-- priority and category a clinician gave the thread, with who, when and the
-- coded reason when an urgent thread was lowered, as JSON (TriageSet). The
-- hub holds triage metadata as it holds the category; never text.
-- (PostgreSQL twin of ../0013_triage.sql.)
ALTER TABLE threads ADD COLUMN triage TEXT;
