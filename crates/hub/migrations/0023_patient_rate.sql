-- Each patient channel's token bucket, for hubs whose nodes share it
-- (PostgreSQL: relay/rate_limit.rs). One process serving a SQLite file
-- keeps its buckets in memory, so on SQLite the table stays empty.
-- Tokens are counted in millionths.
CREATE TABLE patient_rate (
    patient_id TEXT PRIMARY KEY NOT NULL REFERENCES patient_channels (patient_id),
    tokens_micro INTEGER NOT NULL CHECK (tokens_micro >= 0),
    at_us INTEGER NOT NULL
) STRICT;
