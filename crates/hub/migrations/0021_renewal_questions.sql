-- The practice's renewal questions (issue 25 point 4a): the newest set an
-- admin published, as signed with the practice key (the hub checks the
-- signature; patients' browsers check it again under the key their invite
-- pinned). One row: a newer version replaces it.
CREATE TABLE renewal_questions (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL CHECK (version >= 1),
    body BLOB NOT NULL,
    signature BLOB NOT NULL CHECK (length(signature) = 64),
    published_by_device TEXT NOT NULL,
    published_at_us INTEGER NOT NULL
) STRICT;
