//! Timestamps are stored as INTEGER microseconds since the Unix epoch.

use sealbox_model::jiff::Timestamp;

use super::DbError;

/// To the stored form.
pub fn to_db(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// From the stored form.
pub fn from_db(us: i64) -> Result<Timestamp, DbError> {
    Timestamp::from_microsecond(us).map_err(|_| DbError::Corrupt { what: "timestamp" })
}
