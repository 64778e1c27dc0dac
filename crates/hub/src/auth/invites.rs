//! Enrolment invites: one-time, expiring, stored as SHA-256 of the code.

use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;

use super::secret;
use crate::args;
use crate::db::sql::Sql;
use crate::db::{time, DbError};

/// How long an invite stays valid by default.
pub const DEFAULT_TTL: SignedDuration = SignedDuration::from_hours(72);

/// An invite that may still be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// SHA-256 of the code.
    pub code_sha256: [u8; 32],
    /// Role the new member of staff gets.
    pub role: Role,
    /// Their name (staff, not patient, data).
    pub name: String,
    /// Their professional registration, if they have one.
    pub registration: Option<Registration>,
}

/// Why an invite cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// Not a code this hub issued.
    #[error("unknown invite code")]
    Unknown,
    /// Used already.
    #[error("invite code already used")]
    Used,
    /// Too old.
    #[error("invite code expired")]
    Expired,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Issues an invite; returns the code (shown once, stored hashed).
pub fn issue(
    conn: &dyn Sql,
    role: Role,
    name: &str,
    registration: Option<&Registration>,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<String, DbError> {
    let code = secret::invite_code();
    let expires = now.checked_add(ttl).unwrap_or(now);
    conn.execute(
        "INSERT INTO invites (code_sha256, role, name, registration, created_at_us, expires_at_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![
            secret::sha256(&code),
            role.key(),
            name,
            registration.map(Registration::as_str),
            time::to_db(now),
            time::to_db(expires)
        ],
    )?;
    Ok(code)
}

/// Looks up a typed code that is still usable at `now`.
pub fn find_usable(conn: &dyn Sql, typed: &str, now: Timestamp) -> Result<Invite, InviteError> {
    let code = secret::normalise_invite(typed).ok_or(InviteError::Unknown)?;
    let hash = secret::sha256(&code);
    type Row = (String, String, i64, Option<i64>, Option<String>);
    let row: Option<Row> = conn
        .query_opt(
            "SELECT role, name, expires_at_us, used_at_us, registration FROM invites WHERE code_sha256 = ?1",
            args![hash],
        )?
        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .transpose()?;
    let (role, name, expires, used, registration) = row.ok_or(InviteError::Unknown)?;
    if used.is_some() {
        return Err(InviteError::Used);
    }
    if time::to_db(now) >= expires {
        return Err(InviteError::Expired);
    }
    let registration = registration
        .map(|r| Registration::parse(&r).map_err(|_| DbError::Corrupt { what: "registration" }))
        .transpose()?;
    Ok(Invite { code_sha256: hash, role: role_from_key(&role)?, name, registration })
}

/// Marks an invite used by `staff_id`; fails if it was used meanwhile.
pub fn mark_used(
    conn: &dyn Sql,
    code_sha256: &[u8; 32],
    staff_id: &str,
    now: Timestamp,
) -> Result<(), InviteError> {
    let n = conn.execute(
        "UPDATE invites SET used_at_us = ?2, used_by = ?3 WHERE code_sha256 = ?1 AND used_at_us IS NULL
             AND expires_at_us > ?2",
        args![code_sha256, time::to_db(now), staff_id],
    )?;
    if n == 1 {
        Ok(())
    } else {
        Err(InviteError::Used)
    }
}

/// Parses a stored role.
pub fn role_from_key(key: &str) -> Result<Role, DbError> {
    Role::ALL.iter().copied().find(|r| r.key() == key).ok_or(DbError::Corrupt { what: "role" })
}
