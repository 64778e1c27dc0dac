//! Every enrolment and login attempt is recorded (time, user if known,
//! device if known, client address, outcome); a user can read their own.

use axum::extract::State;
use axum::Json;
use sealbox_model::jiff::Timestamp;

use super::api::{LoginHistory, LoginRecord};
use super::Principal;
use crate::args;
use crate::db::sql::Sql;
use crate::db::{time, DbError};
use crate::http::ApiError;
use crate::state::AppState;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Succeeded.
    Ok,
    /// Signature, challenge, user or invite check failed.
    Failed,
    /// Refused before checking: too many failures.
    Throttled,
    /// The authenticator's counter went backwards (possible clone).
    CounterRegression,
    /// The challenge was unknown, used or expired (e.g. a replay).
    StaleChallenge,
    /// The device is revoked.
    Revoked,
    /// A key the practice's policy refuses (the demo's software key).
    KeyRefused,
}

impl Outcome {
    /// Stored form.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Throttled => "throttled",
            Outcome::CounterRegression => "counter_regression",
            Outcome::StaleChallenge => "stale_challenge",
            Outcome::Revoked => "revoked",
            Outcome::KeyRefused => "key_refused",
        }
    }
}

/// One attempt to record.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// `login` or `enrol`.
    pub kind: &'a str,
    /// The user, when known.
    pub staff_id: Option<&'a str>,
    /// The device, when known.
    pub device_id: Option<&'a str>,
    /// Client address.
    pub address: &'a str,
    /// What happened.
    pub outcome: Outcome,
}

/// Records an attempt.
pub fn record(conn: &dyn Sql, a: Attempt<'_>, now: Timestamp) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO login_attempts (at_us, kind, staff_id, device_id, address, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![time::to_db(now), a.kind, a.staff_id, a.device_id, a.address, a.outcome.key()],
    )?;
    Ok(())
}

/// How many attempts `GET /v1/me/logins` returns.
pub const HISTORY_LIMIT: i64 = 200;

/// A user's attempts, newest first.
pub fn history(conn: &dyn Sql, staff_id: &str) -> Result<Vec<LoginRecord>, DbError> {
    conn.query_map(
        "SELECT at_us, kind, device_id, address, outcome FROM login_attempts
         WHERE staff_id = ?1 ORDER BY id DESC LIMIT ?2",
        args![staff_id, HISTORY_LIMIT],
        |r| {
            Ok(LoginRecord {
                at: time::from_db(r.get(0)?)?.to_string(),
                kind: r.get(1)?,
                device_id: r.get(2)?,
                address: r.get(3)?,
                outcome: r.get(4)?,
            })
        },
    )
}

/// `GET /v1/me/logins`.
pub async fn get_history(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<LoginHistory>, ApiError> {
    let id = who.staff.id.0.clone();
    let attempts = state.db.call(move |conn| Ok::<_, ApiError>(history(conn, &id)?)).await?;
    Ok(Json(LoginHistory { attempts }))
}
