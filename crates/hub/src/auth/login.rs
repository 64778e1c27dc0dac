//! Login with a security key → a session. `POST /v1/login/start`,
//! `POST /v1/login/finish`, `POST /v1/logout`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use sealbox_model::jiff::Timestamp;
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication};

use super::api::{LoginChallenge, LoginFinish, LoginStart, Session};
use super::attempts::{self, Attempt, Outcome};
use super::ceremony::{self, Ceremony};
use super::ceremony_errors as err;
use super::counts_token;
use super::invites::role_from_key;
use super::principal::{bearer, ClientAddr};
use super::session;
use super::throttle::{self, Subject};
use super::PendingPrincipal;
use crate::args;
use crate::db::sql::{begin, Sql};
use crate::db::{practice, time, DbError};
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

fn record(
    conn: &dyn Sql,
    address: &str,
    staff_id: Option<&str>,
    device_id: Option<&str>,
    outcome: Outcome,
    now: Timestamp,
) -> Result<(), DbError> {
    attempts::record(conn, Attempt { kind: "login", staff_id, device_id, address, outcome }, now)
}

/// 429 if the address, or (when known) the user from this address, is
/// throttled; records it.
fn check_throttle(
    conn: &dyn Sql,
    address: &str,
    staff_id: Option<&str>,
    now: Timestamp,
) -> Result<(), ApiError> {
    let mut wait = throttle::check(conn, Subject::Address(address), now)?;
    if let Some(id) = staff_id {
        wait = wait.max(throttle::check(conn, Subject::UserAt(id, address), now)?);
    }
    if let Some(secs) = wait {
        record(conn, address, staff_id, None, Outcome::Throttled, now)?;
        return Err(err::throttled(secs));
    }
    Ok(())
}

/// `POST /v1/login/start`.
pub async fn start(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    StrictJson(req): StrictJson<LoginStart>,
) -> Result<Json<LoginChallenge>, ApiError> {
    let now = state.now();
    let webauthn = state.config.webauthn.build().map_err(|e| err::internal(&e))?;
    let challenge = state
        .db
        .call(move |conn| {
            check_throttle(conn, &address, None, now)?;
            let staff_id: Option<String> = match (&req.user_id, &req.username) {
                (Some(id), None) => conn
                    .query_opt("SELECT id FROM staff WHERE id = ?1 AND disabled_at_us IS NULL", args![id])?
                    .map(|r| r.get(0))
                    .transpose()?,
                (None, Some(name)) => conn
                    .query_opt(
                        "SELECT id FROM staff WHERE username = ?1 AND disabled_at_us IS NULL",
                        args![name],
                    )?
                    .map(|r| r.get(0))
                    .transpose()?,
                _ => return Err(ApiError::field("user_id", "give exactly one of user_id or username")),
            };
            // An unknown name, or one with no key at all, gets a decoy
            // challenge of the same shape (see decoy.rs): nothing tells
            // who works here.
            let passkeys = match &staff_id {
                Some(id) => {
                    check_throttle(conn, &address, Some(id), now)?;
                    login_passkeys(conn, id)?
                }
                None => Vec::new(),
            };
            let (options, state, staff_id) = match staff_id.filter(|_| !passkeys.is_empty()) {
                Some(id) => {
                    let (options, auth) =
                        webauthn.start_passkey_authentication(&passkeys).map_err(|e| err::internal(&e))?;
                    (options, serde_json::to_string(&auth).map_err(|e| err::internal(&e))?, Some(id))
                }
                None => {
                    let typed = req.user_id.as_deref().or(req.username.as_deref()).unwrap_or("");
                    (super::decoy::challenge(conn, &webauthn, typed)?, String::new(), None)
                }
            };
            let ceremony =
                Ceremony { state, invite_sha256: None, staff_id, device_name: None, username: None };
            let ceremony_id = ceremony::put(conn, "login", &ceremony, now)?;
            Ok::<_, ApiError>(LoginChallenge { ceremony_id, options })
        })
        .await?;
    Ok(Json(challenge))
}

/// The passkeys a login challenges for `staff_id`: its active ones, or,
/// when every one is revoked, the revoked ones, so the holder of one (and
/// only they) learns at finish that it was revoked.
fn login_passkeys(conn: &dyn Sql, staff_id: &str) -> Result<Vec<Passkey>, ApiError> {
    Ok(conn.query_map(
        "SELECT passkey FROM devices WHERE staff_id = ?1
           AND (revoked_at_us IS NULL OR NOT EXISTS (
                SELECT 1 FROM devices a WHERE a.staff_id = ?1 AND a.revoked_at_us IS NULL))
         ORDER BY id",
        args![staff_id],
        |r| {
            serde_json::from_str::<Passkey>(&r.get::<String>(0)?)
                .map_err(|_| DbError::Corrupt { what: "passkey" })
        },
    )?)
}

/// `POST /v1/login/finish`.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    StrictJson(req): StrictJson<LoginFinish>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let now = state.now();
    let webauthn = state.config.webauthn.build().map_err(|e| err::internal(&e))?;
    let session = state
        .db
        .call(move |conn| {
            let Some(c) = ceremony::take(conn, "login", &req.ceremony_id, now)? else {
                record(conn, &address, None, None, Outcome::StaleChallenge, now)?;
                return Err(err::stale_challenge());
            };
            let Some(staff_id) = c.staff_id else {
                // A decoy challenge (an unknown name): it fails as a wrong
                // signature does.
                check_throttle(conn, &address, None, now)?;
                record(conn, &address, None, None, Outcome::Failed, now)?;
                return Err(err::not_verified());
            };
            check_throttle(conn, &address, Some(&staff_id), now)?;
            let auth: PasskeyAuthentication =
                serde_json::from_str(&c.state).map_err(|e| err::internal(&e))?;
            let Ok(result) = webauthn.finish_passkey_authentication(&req.credential, &auth) else {
                record(conn, &address, Some(&staff_id), None, Outcome::Failed, now)?;
                return Err(err::not_verified());
            };
            let cred_id: &[u8] = result.cred_id().as_ref();
            let device: Option<(String, String, i64, Option<i64>, bool)> = conn
                .query_opt(
                    "SELECT id, passkey, sign_count, revoked_at_us, demo_key FROM devices
                     WHERE credential_id = ?1 AND staff_id = ?2",
                    args![cred_id, staff_id],
                )?
                .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .transpose()?;
            let Some((device_id, passkey_json, stored_count, revoked, demo_key)) = device else {
                record(conn, &address, Some(&staff_id), None, Outcome::Failed, now)?;
                return Err(err::not_verified());
            };
            if revoked.is_some() {
                record(conn, &address, Some(&staff_id), Some(&device_id), Outcome::Revoked, now)?;
                return Err(ApiError::unauthorized("this device has been revoked"));
            }
            // Enrolled with the demo key while the practice allowed it: no
            // longer, once it stops.
            if demo_key && !super::policy::get(conn)?.allow_demo_keys {
                record(conn, &address, Some(&staff_id), Some(&device_id), Outcome::KeyRefused, now)?;
                return Err(err::demo_key_refused());
            }
            // The signature counter must move forward (a clone or a replay
            // of an older assertion would not): checked against the stored
            // counter now, not the one copied into the challenge state.
            let counter = i64::from(result.counter());
            if (counter > 0 || stored_count > 0) && counter <= stored_count {
                record(conn, &address, Some(&staff_id), Some(&device_id), Outcome::CounterRegression, now)?;
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "counter_regression",
                    "the security key's signature counter went backwards",
                ));
            }
            if !result.user_verified() {
                record(conn, &address, Some(&staff_id), Some(&device_id), Outcome::Failed, now)?;
                return Err(ApiError::unauthorized("user verification is required"));
            }
            let mut passkey: Passkey =
                serde_json::from_str(&passkey_json).map_err(|_| DbError::Corrupt { what: "passkey" })?;
            passkey.update_credential(&result);
            let passkey_json = serde_json::to_string(&passkey).map_err(|e| err::internal(&e))?;
            let role: String = conn.query_value("SELECT role FROM staff WHERE id = ?1", args![staff_id])?;
            let practice = practice::get(conn)?.ok_or_else(|| ApiError::unauthorized("no practice"))?;
            let tx = begin(conn)?;
            tx.execute(
                "UPDATE devices SET passkey = ?2, sign_count = ?3 WHERE id = ?1",
                args![device_id, passkey_json, counter],
            )?;
            let token = session::create(&tx, &staff_id, &device_id, now)?;
            let counts_token = counts_token::create(&tx, &staff_id, &device_id, now)?;
            record(&tx, &address, Some(&staff_id), Some(&device_id), Outcome::Ok, now)?;
            tx.commit()?;
            let expires = now.checked_add(session::ABSOLUTE).unwrap_or(now);
            Ok::<_, ApiError>(Session {
                token,
                counts_token,
                user_id: staff_id,
                role: role_from_key(&role)?,
                device_id,
                practice_id: practice.id,
                idle_timeout_secs: u64::try_from(session::IDLE.as_secs()).unwrap_or(0),
                expires_at: time::from_db(time::to_db(expires))?.to_string(),
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// `POST /v1/lock`: the workstation locked. Ends the caller's session but
/// keeps the device's counts-only token, so the locked desktop can still
/// count new messages for blind notifications (a lock is not a sign-out).
pub async fn lock(
    State(state): State<AppState>,
    _who: PendingPrincipal,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    end_session(&state, &headers, None).await
}

/// `POST /v1/logout`: signs out: ends the caller's session and the
/// device's counts-only tokens.
pub async fn logout(
    State(state): State<AppState>,
    PendingPrincipal(who): PendingPrincipal,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    end_session(&state, &headers, Some(who.device_id)).await
}

/// Ends the session whose token `headers` carry, and the counts-only
/// tokens of `device` if given.
async fn end_session(
    state: &AppState,
    headers: &HeaderMap,
    device: Option<String>,
) -> Result<StatusCode, ApiError> {
    let token = bearer(headers).ok_or_else(|| ApiError::unauthorized("sign in first"))?.to_owned();
    let now = state.now();
    state
        .db
        .call(move |conn| {
            session::end(conn, &token, now)?;
            if let Some(device) = device {
                counts_token::revoke_for_device(conn, &device, now)?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
