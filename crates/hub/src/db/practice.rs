//! The one practice this hub serves.

use super::sql::Sql;
use crate::args;
use rand::RngCore;
use sealbox_model::jiff::Timestamp;

use super::{time, DbError};

/// The practice row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    /// Random id bound into every envelope (`prac-` + 16 hex digits).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Creating the practice failed.
#[derive(Debug, thiserror::Error)]
pub enum PracticeError {
    /// There is one already.
    #[error("this hub already has a practice")]
    Exists,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates the practice with a fresh random id (inside the caller's
/// transaction if they hold one).
pub fn create(conn: &dyn Sql, name: &str, now: Timestamp) -> Result<Practice, PracticeError> {
    if get(conn)?.is_some() {
        return Err(PracticeError::Exists);
    }
    let mut raw = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let id = format!("prac-{}", hex(&raw));
    conn.execute(
        "INSERT INTO practice (id, name, created_at_us) VALUES (?1, ?2, ?3)",
        args![id, name, time::to_db(now)],
    )?;
    Ok(Practice { id, name: name.to_owned() })
}

/// The practice, if created.
pub fn get(conn: &dyn Sql) -> Result<Option<Practice>, DbError> {
    let row = conn.query_opt("SELECT id, name FROM practice", args![])?;
    row.map(|r| Ok(Practice { id: r.get(0)?, name: r.get(1)? })).transpose()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
