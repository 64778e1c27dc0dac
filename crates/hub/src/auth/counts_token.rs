//! Counts-only tokens. Issued with every session and valid for the same 12
//! hours, but accepted by `GET /v1/events` alone: a locked desktop, which
//! has dropped its session, keeps one to count new messages for blind
//! notifications. Stored hashed; ended by sign-out (`POST /v1/logout`), by
//! revoking the device, and by the device's next login (which issues the
//! one that replaces it). Locking (`POST /v1/lock`) keeps it.

use sealbox_model::jiff::Timestamp;

use sealbox_model::role::Role;

use super::invites::role_from_key;
use super::{secret, session};
use crate::args;
use crate::db::sql::Sql;
use crate::db::{time, DbError};

/// Issues a token for `staff_id` on `device_id`; returns it (shown once).
pub fn create(conn: &dyn Sql, staff_id: &str, device_id: &str, now: Timestamp) -> Result<String, DbError> {
    // One live counts-only token per device: the new one replaces any other.
    revoke_for_device(conn, device_id, now)?;
    let token = secret::session_token();
    let expires = now.checked_add(session::ABSOLUTE).unwrap_or(now);
    conn.execute(
        "INSERT INTO counts_tokens (token_sha256, staff_id, device_id, created_at_us, expires_at_us)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![secret::sha256(&token), staff_id, device_id, time::to_db(now), time::to_db(expires)],
    )?;
    Ok(token)
}

/// The role behind `token` if it is a live counts-only token of an
/// approved, unrevoked device and an active member of staff.
pub fn valid(conn: &dyn Sql, token: &str, now: Timestamp) -> Result<Option<Role>, DbError> {
    let row: Option<(i64, Option<i64>, String)> = conn
        .query_opt(
            "SELECT c.expires_at_us, c.revoked_at_us, st.role FROM counts_tokens c
             JOIN devices d ON d.id = c.device_id JOIN staff st ON st.id = c.staff_id
             WHERE c.token_sha256 = ?1 AND d.approved_at_us IS NOT NULL AND d.revoked_at_us IS NULL
               AND st.disabled_at_us IS NULL",
            args![secret::sha256(token)],
        )?
        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()?;
    match row {
        Some((expires, None, role)) if time::to_db(now) < expires => Ok(Some(role_from_key(&role)?)),
        _ => Ok(None),
    }
}

/// Ends every counts-only token of `device_id`.
pub fn revoke_for_device(conn: &dyn Sql, device_id: &str, now: Timestamp) -> Result<u64, DbError> {
    conn.execute(
        "UPDATE counts_tokens SET revoked_at_us = ?2 WHERE device_id = ?1 AND revoked_at_us IS NULL",
        args![device_id, time::to_db(now)],
    )
}
