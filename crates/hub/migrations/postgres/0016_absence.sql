-- Out-of-office (issue 23 point 10): a member of staff away until a time.
-- While it is in the future they are not offered, nor accepted, as someone
-- to hand a thread to; the directory says until when.
-- (PostgreSQL twin of ../0016_absence.sql.)
ALTER TABLE staff ADD COLUMN away_until_us BIGINT;
