//! WebAuthn ceremonies in flight, kept server-side: each challenge is used
//! at most once (taken = deleted) and expires after [`TTL`].

use sealbox_model::jiff::{SignedDuration, Timestamp};

use super::secret;
use crate::args;
use crate::db::sql::Sql;
use crate::db::{time, DbError};

/// How long a challenge may be answered.
pub const TTL: SignedDuration = SignedDuration::from_mins(5);

/// A stored ceremony.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// webauthn-rs state (JSON).
    pub state: String,
    /// Enrolment: the invite's hash.
    pub invite_sha256: Option<Vec<u8>>,
    /// The user (new for enrolment, known for login).
    pub staff_id: Option<String>,
    /// Enrolment: the device name.
    pub device_name: Option<String>,
    /// Enrolment: the login name.
    pub username: Option<String>,
}

/// Stores a ceremony; returns its id.
pub fn put(conn: &dyn Sql, kind: &str, c: &Ceremony, now: Timestamp) -> Result<String, DbError> {
    let id = secret::ceremony_id();
    // Forget abandoned ceremonies.
    conn.execute("DELETE FROM ceremonies WHERE expires_at_us <= ?1", args![time::to_db(now)])?;
    conn.execute(
        "INSERT INTO ceremonies (id, kind, state, invite_sha256, staff_id, device_name, username,
                                 created_at_us, expires_at_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            id,
            kind,
            c.state,
            c.invite_sha256,
            c.staff_id,
            c.device_name,
            c.username,
            time::to_db(now),
            time::to_db(now.checked_add(TTL).unwrap_or(now)),
        ],
    )?;
    Ok(id)
}

/// Takes (deletes and returns) a live ceremony of `kind`; `None` if it is
/// unknown, already used or expired.
pub fn take(conn: &dyn Sql, kind: &str, id: &str, now: Timestamp) -> Result<Option<Ceremony>, DbError> {
    let row = conn
        .query_opt(
            "DELETE FROM ceremonies WHERE id = ?1 AND kind = ?2
             RETURNING state, invite_sha256, staff_id, device_name, username, expires_at_us",
            args![id, kind],
        )?
        .map(|r| {
            Ok::<_, DbError>((
                Ceremony {
                    state: r.get(0)?,
                    invite_sha256: r.get(1)?,
                    staff_id: r.get(2)?,
                    device_name: r.get(3)?,
                    username: r.get(4)?,
                },
                r.get::<i64>(5)?,
            ))
        })
        .transpose()?;
    Ok(row.and_then(|(c, expires)| (time::to_db(now) < expires).then_some(c)))
}
