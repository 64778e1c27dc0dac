-- Sealbox cache, schema version 2: full-text search, drafts, quarantine.

-- Contentless FTS5 index (the text itself stays in `parts`); rowid is the
-- message_key. Lives inside the encrypted database like everything else.
CREATE VIRTUAL TABLE message_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_fts WHERE rowid = old.message_key;
END;

-- Index the messages cached under version 1: free text, medication items and
-- notes shared into the medication part.
INSERT INTO message_fts(rowid, body)
SELECT p.message_key, group_concat(t.value, ' ')
FROM parts p, json_tree(p.body_json) t
WHERE t.type = 'text' AND (
       (p.kind = 'free_text' AND t.fullkey = '$.value')
    OR (p.kind = 'medication_request' AND (t.path = '$.value.items' OR t.key = 'text'))
)
GROUP BY p.message_key;

CREATE TABLE drafts (
    thread_key INTEGER PRIMARY KEY REFERENCES threads(thread_key) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- Items from the hub that could not be opened or parsed, kept for support.
CREATE TABLE quarantine (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    object_id TEXT NOT NULL,
    reason    TEXT NOT NULL,
    payload   BLOB NOT NULL
);
