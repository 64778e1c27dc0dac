//! Sessions: an opaque 256-bit bearer token (stored as SHA-256) that ends
//! after 15 minutes without a request or 12 hours after login, whichever
//! comes first (NIST SP 800-63B AAL3 reauthentication limits).

use sealbox_model::actor::StaffRef;
use sealbox_model::jiff::{SignedDuration, Timestamp};

use super::invites::role_from_key;
use super::secret;
use crate::args;
use crate::db::sql::Sql;
use crate::db::{time, DbError};

/// Idle limit.
pub const IDLE: SignedDuration = SignedDuration::from_mins(15);
/// Absolute limit.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(12);

/// Why a session is no longer usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No request for [`IDLE`].
    Idle,
    /// [`ABSOLUTE`] since login.
    Absolute,
}

/// The session rule: is a session created at `created` and last used at
/// `last_seen` still live at `now`?
pub fn check(created: Timestamp, last_seen: Timestamp, now: Timestamp) -> Result<(), Ended> {
    if now.duration_since(created) >= ABSOLUTE {
        return Err(Ended::Absolute);
    }
    if now.duration_since(last_seen) >= IDLE {
        return Err(Ended::Idle);
    }
    Ok(())
}

/// A live session's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Staff and role.
    pub staff: StaffRef,
    /// Device.
    pub device_id: String,
    /// Whether a practice admin has approved the device.
    pub approved: bool,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Unknown, logged out, or its device/user revoked.
    #[error("not a valid session")]
    Invalid,
    /// Timed out.
    #[error("session expired")]
    Expired(Ended),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Opens a session; returns the token (shown once).
pub fn create(conn: &dyn Sql, staff_id: &str, device_id: &str, now: Timestamp) -> Result<String, DbError> {
    let token = secret::session_token();
    conn.execute(
        "INSERT INTO sessions (token_sha256, staff_id, device_id, created_at_us, last_seen_us)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        args![secret::sha256(&token), staff_id, device_id, time::to_db(now)],
    )?;
    Ok(token)
}

/// A session not ended, of an unrevoked device and an active user.
struct Row {
    staff_id: String,
    role: String,
    device_id: String,
    created: Timestamp,
    last_seen: Timestamp,
    approved: bool,
}

fn open_session(conn: &dyn Sql, hash: &[u8; 32]) -> Result<Option<Row>, DbError> {
    conn.query_opt(
        "SELECT s.staff_id, st.role, s.device_id, s.created_at_us, s.last_seen_us, d.approved_at_us IS NOT NULL
         FROM sessions s JOIN staff st ON st.id = s.staff_id JOIN devices d ON d.id = s.device_id
         WHERE s.token_sha256 = ?1 AND s.ended_at_us IS NULL
           AND d.revoked_at_us IS NULL AND st.disabled_at_us IS NULL",
        args![hash],
    )?
    .map(|r| {
        Ok(Row {
            staff_id: r.get(0)?,
            role: r.get(1)?,
            device_id: r.get(2)?,
            created: time::from_db(r.get(3)?)?,
            last_seen: time::from_db(r.get(4)?)?,
            approved: r.get(5)?,
        })
    })
    .transpose()
}

/// Checks a token and, if live, records `now` as its last use.
pub fn touch(conn: &dyn Sql, token: &str, now: Timestamp) -> Result<Owner, SessionError> {
    let hash = secret::sha256(token);
    let row = open_session(conn, &hash)?.ok_or(SessionError::Invalid)?;
    if let Err(why) = check(row.created, row.last_seen, now) {
        conn.execute(
            "UPDATE sessions SET ended_at_us = ?2 WHERE token_sha256 = ?1",
            args![hash, time::to_db(now)],
        )?;
        return Err(SessionError::Expired(why));
    }
    conn.execute(
        "UPDATE sessions SET last_seen_us = CASE WHEN last_seen_us > ?2 THEN last_seen_us ELSE ?2 END
         WHERE token_sha256 = ?1",
        args![hash, time::to_db(now)],
    )?;
    Ok(Owner {
        staff: StaffRef::new(row.staff_id, role_from_key(&row.role)?),
        device_id: row.device_id,
        approved: row.approved,
    })
}

/// Whether `token` is a live session at `now` of an approved device,
/// without counting as a use: how an open event stream learns that its
/// session has ended.
pub fn stands(conn: &dyn Sql, token: &str, now: Timestamp) -> Result<bool, DbError> {
    Ok(open_session(conn, &secret::sha256(token))?
        .is_some_and(|row| row.approved && check(row.created, row.last_seen, now).is_ok()))
}

/// Ends the session of `token` (logout). Returns whether one was live.
pub fn end(conn: &dyn Sql, token: &str, now: Timestamp) -> Result<bool, DbError> {
    let n = conn.execute(
        "UPDATE sessions SET ended_at_us = ?2 WHERE token_sha256 = ?1 AND ended_at_us IS NULL",
        args![secret::sha256(token), time::to_db(now)],
    )?;
    Ok(n > 0)
}

/// Ends every session of a device (revocation).
pub fn end_for_device(conn: &dyn Sql, device_id: &str, now: Timestamp) -> Result<u64, DbError> {
    conn.execute(
        "UPDATE sessions SET ended_at_us = ?2 WHERE device_id = ?1 AND ended_at_us IS NULL",
        args![device_id, time::to_db(now)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_750_000_000 + secs).unwrap()
    }

    #[test]
    fn idle_limit_is_fifteen_minutes() {
        assert_eq!(check(at(0), at(0), at(14 * 60 + 59)), Ok(()));
        assert_eq!(check(at(0), at(0), at(15 * 60)), Err(Ended::Idle));
        assert_eq!(check(at(0), at(600), at(600 + 14 * 60)), Ok(()));
    }

    #[test]
    fn absolute_limit_is_twelve_hours_even_when_active() {
        let created = at(0);
        let almost = at(12 * 3600 - 1);
        assert_eq!(check(created, almost, almost), Ok(()));
        assert_eq!(check(created, at(12 * 3600), at(12 * 3600)), Err(Ended::Absolute));
    }
}
