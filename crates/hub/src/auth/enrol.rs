//! Enrolment: an invite code + a security key (user verification
//! required) → a member of staff and a device.
//! `POST /v1/enrol/start`, `POST /v1/enrol/finish`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{AttestedPasskeyRegistration, Passkey, PasskeyRegistration, Uuid};

use super::api::{EnrolChallenge, EnrolFinish, EnrolStart, Enrolled};
use super::attempts::{self, Attempt, Outcome};
use super::ceremony::{self, Ceremony};
use super::ceremony_errors as err;
use super::principal::ClientAddr;
use super::rp::AttestationPolicy;
use super::throttle::{self, Subject};
use super::{invites, secret};
use crate::args;
use crate::db::sql::{begin, Sql};
use crate::db::{time, DbError};
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// The registration state kept between start and finish.
#[derive(Serialize, Deserialize)]
struct EnrolState {
    user_uuid: Uuid,
    role: Role,
    name: String,
    #[serde(default)]
    registration: Option<Registration>,
    reg: RegState,
}

#[derive(Serialize, Deserialize)]
enum RegState {
    Any(PasskeyRegistration),
    Attested(AttestedPasskeyRegistration),
}

/// Checks a short display/login text.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    let n = text.chars().count();
    if n == 0 || n > max || text.trim() != text || text.chars().any(char::is_control) {
        return Err(ApiError::field(
            field,
            format!("1 to {max} characters, no control characters or edge spaces"),
        ));
    }
    Ok(())
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::field("username", "1 to 64 of a-z, 0-9, '.', '_', '-'"))
    }
}

fn username_taken(conn: &dyn Sql, username: &str) -> Result<bool, DbError> {
    Ok(conn.query_opt("SELECT 1 FROM staff WHERE username = ?1", args![username])?.is_some())
}

fn record(
    conn: &dyn Sql,
    address: &str,
    staff_id: Option<&str>,
    device_id: Option<&str>,
    outcome: Outcome,
    now: sealbox_model::jiff::Timestamp,
) -> Result<(), DbError> {
    attempts::record(conn, Attempt { kind: "enrol", staff_id, device_id, address, outcome }, now)
}

/// `POST /v1/enrol/start`.
pub async fn start(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    StrictJson(req): StrictJson<EnrolStart>,
) -> Result<Json<EnrolChallenge>, ApiError> {
    check_text("device_name", &req.device_name, 100)?;
    if let Some(u) = &req.username {
        check_username(u)?;
    }
    let now = state.now();
    let rp = state.config.webauthn.clone();
    let webauthn = rp.build().map_err(|e| err::internal(&e))?;
    let challenge = state
        .db
        .call(move |conn| {
            if let Some(secs) = throttle::check(conn, Subject::Address(&address), now)? {
                record(conn, &address, None, None, Outcome::Throttled, now)?;
                return Err(err::throttled(secs));
            }
            let invite = match invites::find_usable(conn, &req.invite_code, now) {
                Ok(invite) => invite,
                Err(e) => {
                    record(conn, &address, None, None, Outcome::Failed, now)?;
                    return Err(err::invite(e));
                }
            };
            let staff_id = secret::prefixed_id("staff");
            let username = req.username.clone().unwrap_or_else(|| staff_id.clone());
            if username_taken(conn, &username)? {
                return Err(ApiError::conflict("username_taken", "username", "already in use"));
            }
            let user_uuid = Uuid::from_bytes(secret::random::<16>());
            let (options, reg) = match &rp.attestation {
                AttestationPolicy::Any => webauthn
                    .start_passkey_registration(user_uuid, &username, &invite.name, None)
                    .map(|(o, r)| (o, RegState::Any(r))),
                AttestationPolicy::TrustedCas(cas) => webauthn
                    .start_attested_passkey_registration(
                        user_uuid,
                        &username,
                        &invite.name,
                        None,
                        (**cas).clone(),
                        None,
                    )
                    .map(|(o, r)| (o, RegState::Attested(r))),
            }
            .map_err(|e| err::internal(&e))?;
            let held = EnrolState {
                user_uuid,
                role: invite.role,
                name: invite.name,
                registration: invite.registration,
                reg,
            };
            let ceremony = Ceremony {
                state: serde_json::to_string(&held).map_err(|e| err::internal(&e))?,
                invite_sha256: Some(invite.code_sha256.to_vec()),
                staff_id: Some(staff_id),
                device_name: Some(req.device_name),
                username: Some(username),
            };
            let ceremony_id = ceremony::put(conn, "enrol", &ceremony, now)?;
            let policy = super::policy::get(conn)?;
            Ok(EnrolChallenge { ceremony_id, options, policy })
        })
        .await?;
    Ok(Json(challenge))
}

/// `POST /v1/enrol/finish`.
pub async fn finish(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    StrictJson(req): StrictJson<EnrolFinish>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let now = state.now();
    let webauthn = state.config.webauthn.build().map_err(|e| err::internal(&e))?;
    let enrolled = state
        .db
        .call(move |conn| {
            if let Some(secs) = throttle::check(conn, Subject::Address(&address), now)? {
                record(conn, &address, None, None, Outcome::Throttled, now)?;
                return Err(err::throttled(secs));
            }
            let Some(c) = ceremony::take(conn, "enrol", &req.ceremony_id, now)? else {
                record(conn, &address, None, None, Outcome::StaleChallenge, now)?;
                return Err(err::stale_challenge());
            };
            let (Some(invite_hash), Some(staff_id), Some(device_name), Some(username)) =
                (c.invite_sha256, c.staff_id, c.device_name, c.username)
            else {
                return Err(ApiError::from(DbError::Corrupt { what: "ceremony" }));
            };
            let invite_hash: [u8; 32] =
                invite_hash.try_into().map_err(|_| ApiError::from(DbError::Corrupt { what: "ceremony" }))?;
            let held: EnrolState = serde_json::from_str(&c.state).map_err(|e| err::internal(&e))?;
            let verified: Result<Passkey, _> = match &held.reg {
                RegState::Any(r) => webauthn.finish_passkey_registration(&req.credential, r),
                RegState::Attested(r) => {
                    webauthn.finish_attested_passkey_registration(&req.credential, r).map(Passkey::from)
                }
            };
            let passkey = match verified {
                Ok(p) => p,
                Err(_) => {
                    record(conn, &address, Some(&staff_id), None, Outcome::Failed, now)?;
                    return Err(err::not_verified());
                }
            };
            // The demo's software key only where the practice allows it.
            let demo_key = super::key_kind::is_demo_key(&req.credential);
            if demo_key && !super::policy::get(conn)?.allow_demo_keys {
                record(conn, &address, Some(&staff_id), None, Outcome::KeyRefused, now)?;
                return Err(err::demo_key_refused());
            }
            let device_id = secret::prefixed_id("dev");
            let passkey_json = serde_json::to_string(&passkey).map_err(|e| err::internal(&e))?;
            let tx = begin(conn)?;
            invites::mark_used(&tx, &invite_hash, &staff_id, now).map_err(err::invite)?;
            if username_taken(&tx, &username)? {
                return Err(ApiError::conflict("username_taken", "username", "already in use"));
            }
            tx.execute(
                "INSERT INTO staff (id, webauthn_uuid, username, name, role, registration, created_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![
                    staff_id,
                    held.user_uuid.to_string(),
                    username,
                    held.name,
                    held.role.key(),
                    held.registration.as_ref().map(Registration::as_str),
                    time::to_db(now)
                ],
            )?;
            let cred_id: &[u8] = passkey.cred_id().as_ref();
            let inserted = tx.execute(
                "INSERT INTO devices (id, staff_id, name, credential_id, passkey, demo_key, created_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT DO NOTHING",
                args![device_id, staff_id, device_name, cred_id, passkey_json, demo_key, time::to_db(now)],
            )?;
            if inserted == 0 {
                return Err(ApiError::conflict(
                    "credential_exists",
                    "credential",
                    "this security key is enrolled",
                ));
            }
            record(&tx, &address, Some(&staff_id), Some(&device_id), Outcome::Ok, now)?;
            tx.commit()?;
            Ok::<_, ApiError>(Enrolled {
                user_id: staff_id,
                username,
                name: held.name,
                registration: held.registration,
                role: held.role,
                device_id,
                passkey,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(enrolled)))
}
