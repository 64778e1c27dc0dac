-- The three references every patient post makes (an envelope's change-log
-- entry and thread, a new thread's patient channel), checked once per
-- statement instead of once per row. A FOREIGN KEY runs a query of its own
-- for each row inserted; a batch of posts is written with one statement per
-- table (relay/patient_batch.rs), and those per-row checks were a fifth of
-- the server's work per batch (docs/benchmarks.md). The triggers below keep
-- what the three foreign keys guaranteed, with the same locks:
--   * a row inserted names rows that exist, locked FOR KEY SHARE until the
--     transaction ends (as a foreign key locks them), so a delete of one
--     waits for the insert's commit and then finds it named;
--   * a row that is named cannot be deleted;
--   * the keys and references involved never change (stricter than a
--     foreign key, which lets a key change to one that exists; the hub
--     changes none of them).
-- Writers run READ COMMITTED, where each check sees every committed row.
-- Each function reads the tables of the schema it was made in (one
-- practice's, in a deployment of several), whatever the caller's
-- search_path.
-- SQLite keeps its foreign keys (../0024_batch_references.sql). The store
-- conformance suite attacks each reference on both engines
-- (tests/store_conformance.rs).

ALTER TABLE envelopes DROP CONSTRAINT envelopes_seq_fkey;
ALTER TABLE envelopes DROP CONSTRAINT envelopes_thread_id_fkey;
ALTER TABLE threads DROP CONSTRAINT threads_patient_id_fkey;

-- A check looks each row's reference up by key, as a foreign key does,
-- but in one query for the statement (a subquery that locks rows is run
-- once per outer row, never turned into a join that scans the table). It
-- is planned anew each time (EXECUTE), for the table as large as it is
-- then: a plan kept from the first batch, made when the tables were
-- small, scanned them whole once they had grown.
CREATE FUNCTION envelopes_name_stored_rows() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    threads_named boolean;
    changes_named boolean;
BEGIN
    EXECUTE 'SELECT (SELECT count(*) FROM (SELECT DISTINCT thread_id FROM new_rows) AS n,
                        LATERAL (SELECT 1 FROM threads WHERE id = n.thread_id FOR KEY SHARE) AS named)
                    = (SELECT count(DISTINCT thread_id) FROM new_rows),
                    (SELECT count(*) FROM new_rows AS n,
                        LATERAL (SELECT 1 FROM changes WHERE seq = n.seq FOR KEY SHARE) AS named)
                    = (SELECT count(*) FROM new_rows)'
        INTO threads_named, changes_named;
    IF NOT threads_named THEN
        RAISE foreign_key_violation USING MESSAGE = 'an envelope names a thread that is not stored';
    END IF;
    IF NOT changes_named THEN
        RAISE foreign_key_violation USING MESSAGE = 'an envelope names a change-log entry that is not stored';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER envelopes_name_stored_rows AFTER INSERT ON envelopes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION envelopes_name_stored_rows();

CREATE FUNCTION threads_name_stored_channels() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    channels_named boolean;
BEGIN
    EXECUTE 'SELECT (SELECT count(*) FROM (SELECT DISTINCT patient_id FROM new_rows) AS n,
                        LATERAL (SELECT 1 FROM patient_channels WHERE patient_id = n.patient_id
                                 FOR KEY SHARE) AS named)
                    = (SELECT count(DISTINCT patient_id) FROM new_rows)'
        INTO channels_named;
    IF NOT channels_named THEN
        RAISE foreign_key_violation USING MESSAGE = 'a thread names a patient channel that is not stored';
    END IF;
    RETURN NULL;
END;
$$;

-- On INSERT ... ON CONFLICT DO UPDATE, `new_rows` holds the rows inserted
-- (an updated row keeps its patient: see the key triggers below).
CREATE TRIGGER threads_name_stored_channels AFTER INSERT ON threads
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION threads_name_stored_channels();

CREATE FUNCTION threads_named_stay() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM envelopes WHERE thread_id IN (SELECT id FROM old_rows)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a thread an envelope names cannot be deleted';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER threads_named_stay AFTER DELETE ON threads
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION threads_named_stay();

CREATE FUNCTION changes_named_stay() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM envelopes WHERE seq IN (SELECT seq FROM old_rows)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a change-log entry an envelope names cannot be deleted';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER changes_named_stay AFTER DELETE ON changes
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION changes_named_stay();

CREATE FUNCTION patient_channels_named_stay() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM threads WHERE patient_id IN (SELECT patient_id FROM old_rows)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a patient channel a thread names cannot be deleted';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER patient_channels_named_stay AFTER DELETE ON patient_channels
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION patient_channels_named_stay();

CREATE FUNCTION references_never_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE foreign_key_violation USING MESSAGE = 'a stored key or reference never changes';
END;
$$;

-- Fired only for a row whose key or reference would change (never, by the
-- hub), so an update costs nothing more.
CREATE TRIGGER envelopes_references_stay BEFORE UPDATE OF seq, thread_id ON envelopes
    FOR EACH ROW WHEN (OLD.seq IS DISTINCT FROM NEW.seq OR OLD.thread_id IS DISTINCT FROM NEW.thread_id)
    EXECUTE FUNCTION references_never_change();
CREATE TRIGGER threads_references_stay BEFORE UPDATE OF id, patient_id ON threads
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.patient_id IS DISTINCT FROM NEW.patient_id)
    EXECUTE FUNCTION references_never_change();
CREATE TRIGGER changes_key_stays BEFORE UPDATE OF seq ON changes
    FOR EACH ROW WHEN (OLD.seq IS DISTINCT FROM NEW.seq)
    EXECUTE FUNCTION references_never_change();
CREATE TRIGGER patient_channels_key_stays BEFORE UPDATE OF patient_id ON patient_channels
    FOR EACH ROW WHEN (OLD.patient_id IS DISTINCT FROM NEW.patient_id)
    EXECUTE FUNCTION references_never_change();
