-- Nothing changes here: SQLite keeps its foreign keys, whose check of a row
-- is a b-tree probe in the same process. On PostgreSQL this migration
-- checks the three references every patient post makes once per
-- statement rather than once per row (postgres/0024_batch_references.sql).
SELECT 1;
