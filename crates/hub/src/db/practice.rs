//! The practice a database (SQLite file or PostgreSQL schema) holds: one
//! each (a deployment serving several has a database per practice, see
//! `crate::practices`).

use super::sql::{Sql, SqlRow, Statement};
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
    create_as(conn, &new_id(), name, now)
}

/// A fresh random practice id: `prac-` and 16 hex digits.
pub fn new_id() -> String {
    let mut raw = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!("prac-{}", hex(&raw))
}

/// Whether `id` is of [`new_id`]'s form.
pub fn is_id(id: &str) -> bool {
    id.strip_prefix("prac-")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// Creates the practice with the id `id` (see [`new_id`]).
pub fn create_as(conn: &dyn Sql, id: &str, name: &str, now: Timestamp) -> Result<Practice, PracticeError> {
    if get(conn)?.is_some() {
        return Err(PracticeError::Exists);
    }
    let id = id.to_owned();
    conn.execute(
        "INSERT INTO practice (id, name, created_at_us) VALUES (?1, ?2, ?3)",
        args![id, name, time::to_db(now)],
    )?;
    Ok(Practice { id, name: name.to_owned() })
}

/// The practice, if created.
pub fn get(conn: &dyn Sql) -> Result<Option<Practice>, DbError> {
    from_rows(conn.query(GET, args![])?)
}

/// What [`get`] runs.
const GET: &str = "SELECT id, name FROM practice";

/// [`get`]'s statement, to run with others.
pub fn get_query() -> Statement {
    Statement::kept(GET.into(), &[])
}

/// The practice [`get_query`]'s `rows` hold, if any.
pub fn from_rows(rows: Vec<SqlRow>) -> Result<Option<Practice>, DbError> {
    rows.into_iter().next().map(|r| Ok(Practice { id: r.get(0)?, name: r.get(1)? })).transpose()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
