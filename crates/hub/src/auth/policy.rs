//! The practice's security policy: the newest row of `practice_policy`, or
//! the defaults. Served at `GET /v1/practice/policy` and with every
//! enrolment challenge (what patients' pages need of it at `GET
//! /v1/patient/policy`); set by `sealbox-hub policy`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use sealbox_model::hub_api::{PatientPolicy, PracticePolicy};
use sealbox_model::jiff::Timestamp;

use super::PendingPrincipal;
use crate::args;
use crate::db::sql::{Sql, SqlRow};
use crate::db::{time, DbError};
use crate::http::ApiError;
use crate::state::AppState;

/// The policy in force.
pub fn get(conn: &dyn Sql) -> Result<PracticePolicy, DbError> {
    let row = conn
        .query_opt(
            "SELECT max_idle_secs, reauth_secs, allow_weaker_keys, max_offline_secs, allow_demo_keys,
                    lock_on_key_removal, patient_sign_out_secs
             FROM practice_policy ORDER BY id DESC LIMIT 1",
            args![],
        )?
        .map(|r| {
            Ok::<_, DbError>(PracticePolicy {
                max_idle_secs: secs(&r, 0)?,
                reauth_secs: secs(&r, 1)?,
                allow_weaker_keys: r.get(2)?,
                max_offline_secs: secs(&r, 3)?,
                allow_demo_keys: r.get(4)?,
                lock_on_key_removal: r.get(5)?,
                patient_sign_out_secs: secs(&r, 6)?,
            })
        })
        .transpose()?;
    Ok(row.unwrap_or_default())
}

/// Column `index` of `row` as a count of seconds (a `u32`).
fn secs(row: &SqlRow, index: usize) -> Result<u32, DbError> {
    u32::try_from(row.get::<i64>(index)?).map_err(|_| DbError::Column { index })
}

/// Puts `policy` in force (its bounds checked by the caller and again by
/// the table), recording who set it.
pub fn set(conn: &dyn Sql, policy: PracticePolicy, set_by: &str, now: Timestamp) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO practice_policy (max_idle_secs, reauth_secs, allow_weaker_keys, max_offline_secs,
                                      allow_demo_keys, lock_on_key_removal, patient_sign_out_secs,
                                      set_by, set_at_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            policy.max_idle_secs,
            policy.reauth_secs,
            policy.allow_weaker_keys,
            policy.max_offline_secs,
            policy.allow_demo_keys,
            policy.lock_on_key_removal,
            policy.patient_sign_out_secs,
            set_by,
            time::to_db(now)
        ],
    )?;
    Ok(())
}

/// `GET /v1/practice/policy`: for any signed-in member of staff, on an
/// approved device or one still waiting (its unlock checks its key mode
/// against the policy; the policy holds nothing about patients).
pub async fn get_policy(
    State(state): State<AppState>,
    _who: PendingPrincipal,
) -> Result<Json<PracticePolicy>, ApiError> {
    Ok(Json(state.db.read(|conn| Ok::<_, ApiError>(get(conn)?)).await?))
}

/// `GET /v1/patient/policy`: what a patient's browser needs of the
/// policy (when to sign itself out), for a patient's channel.
pub async fn get_patient_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<PatientPolicy>, ApiError> {
    crate::relay::patient::channel(&state, &headers).await?;
    let policy = state.db.read(|conn| Ok::<_, ApiError>(get(conn)?)).await?;
    Ok(Json(PatientPolicy { sign_out_secs: policy.patient_sign_out_secs }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_policy_is_in_force_and_the_table_keeps_the_bounds() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::db::migrate(&conn).unwrap();
        assert_eq!(get(&conn).unwrap(), PracticePolicy::default());
        let now = Timestamp::from_second(1_750_000_000).unwrap();
        let strict = PracticePolicy {
            max_idle_secs: 120,
            reauth_secs: 3600,
            allow_weaker_keys: false,
            max_offline_secs: 7_200,
            allow_demo_keys: false,
            lock_on_key_removal: false,
            patient_sign_out_secs: 300,
        };
        set(&conn, strict, "admin", now).unwrap();
        assert_eq!(get(&conn).unwrap(), strict, "the patients' sign-out is kept and read back");
        let relaxed = PracticePolicy { allow_weaker_keys: true, ..strict };
        set(&conn, relaxed, "admin", now).unwrap();
        assert_eq!(get(&conn).unwrap(), relaxed);
        let demo = PracticePolicy { allow_demo_keys: true, ..relaxed };
        set(&conn, demo, "admin", now).unwrap();
        assert_eq!(get(&conn).unwrap(), demo, "the demo-key permission is kept and read back");
        let pulled = PracticePolicy { lock_on_key_removal: true, ..relaxed };
        set(&conn, pulled, "admin", now).unwrap();
        assert_eq!(get(&conn).unwrap(), pulled, "the lock on a pulled key is kept and read back");
        set(&conn, relaxed, "admin", now).unwrap();
        let out_of_bounds = PracticePolicy { max_idle_secs: 901, ..strict };
        assert!(set(&conn, out_of_bounds, "admin", now).is_err(), "the table refuses what validate() would");
        let too_long_offline = PracticePolicy { max_offline_secs: 1_209_601, ..strict };
        assert!(set(&conn, too_long_offline, "admin", now).is_err());
        let patients_too_long = PracticePolicy { patient_sign_out_secs: 901, ..strict };
        assert!(set(&conn, patients_too_long, "admin", now).is_err());
        assert_eq!(get(&conn).unwrap(), relaxed);
    }
}
