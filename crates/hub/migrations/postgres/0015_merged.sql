-- Repeats merged (issue 23 point 11): a thread closed as a repeat of an open
-- thread of the same patient and category names that thread. Reopening it
-- clears the link.
-- (PostgreSQL twin of ../0015_merged.sql.)
ALTER TABLE threads ADD COLUMN merged_into BIGINT REFERENCES threads (id);
