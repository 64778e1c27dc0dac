-- The practice's renewal questions (issue 25 point 4a): the newest set an
-- admin published, as signed with the practice key (the hub checks the
-- signature; patients' browsers check it again under the key their invite
-- pinned). One row: a newer version replaces it.
-- (PostgreSQL twin of ../0021_renewal_questions.sql. The code always gives
-- id = 1, so it is not an identity column.)
CREATE TABLE renewal_questions (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL CHECK (version >= 1),
    body BYTEA NOT NULL,
    signature BYTEA NOT NULL CHECK (octet_length(signature) = 64),
    published_by_device TEXT NOT NULL,
    published_at_us BIGINT NOT NULL
);
