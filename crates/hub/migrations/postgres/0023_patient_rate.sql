-- Each patient channel's token bucket, shared by every hub node
-- (relay/rate_limit.rs). Tokens are counted in millionths.
-- (PostgreSQL twin of ../0023_patient_rate.sql.)
CREATE TABLE patient_rate (
    patient_id TEXT PRIMARY KEY NOT NULL REFERENCES patient_channels (patient_id),
    tokens_micro BIGINT NOT NULL CHECK (tokens_micro >= 0),
    at_us BIGINT NOT NULL
);
