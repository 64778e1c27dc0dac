-- The practice's audit trail: every device's hash chain (sealbox-crypto
-- audit_chain), as pushed in signed segments. Append-only: the triggers
-- refuse every UPDATE and DELETE, so no code path can rewrite history;
-- `sealbox-hub audit verify` finds what was changed behind their back.

CREATE TABLE audit_links (
    device_id TEXT NOT NULL REFERENCES devices (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    device TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    received_at_us INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) STRICT;

CREATE INDEX audit_links_actor ON audit_links (actor, at_ms);
CREATE INDEX audit_links_object ON audit_links (object);
CREATE INDEX audit_links_time ON audit_links (at_ms);

CREATE TABLE audit_segments (
    device_id TEXT NOT NULL REFERENCES devices (id),
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    last_hash BLOB NOT NULL CHECK (length(last_hash) = 32),
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    received_at_us INTEGER NOT NULL,
    PRIMARY KEY (device_id, first_seq)
) STRICT;

CREATE TRIGGER audit_links_no_update BEFORE UPDATE ON audit_links
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_links_no_delete BEFORE DELETE ON audit_links
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_segments_no_update BEFORE UPDATE ON audit_segments
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_segments_no_delete BEFORE DELETE ON audit_segments
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Each `sealbox-hub audit export`: who ran it, for which window, how many
-- events left the hub. Append-only too.
CREATE TABLE audit_exports (
    id INTEGER PRIMARY KEY,
    at_us INTEGER NOT NULL,
    run_by TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('csv', 'json')),
    rows INTEGER NOT NULL
) STRICT;

CREATE TRIGGER audit_exports_no_update BEFORE UPDATE ON audit_exports
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_exports_no_delete BEFORE DELETE ON audit_exports
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
