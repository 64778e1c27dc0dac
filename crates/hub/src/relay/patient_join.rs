//! Patients joining with the practice's invite (issue 25): `sealbox-hub
//! patient-invite` ([`invite`]), or a care navigator's workstation
//! (`POST /v1/patient/invites`, [`post_invite`]), stores the invite's
//! lookup and the practice's identity tag; `POST /v1/patient/join` checks
//! the patient's tag against it and opens the channel with the browser's
//! public keys. The code never reaches the hub, nor who the patient is
//! from a workstation (`sealbox_crypto::patient_invite`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sealbox_crypto::patient_invite::{InviteCode, InviteLink, PatientIdentity};
use sealbox_model::hub_api::{
    ChannelToken, PatientInviteIssued, PatientInviteRequest, PatientJoinRequest, PatientJoined,
    MAX_JOIN_ATTEMPTS,
};
use sealbox_model::ids::PatientId;
use sealbox_model::jiff::{SignedDuration, Timestamp};

use super::store::sha256;
use crate::args;
use crate::auth::secret;
use crate::auth::Principal;
use crate::db::sql::{begin, Backend, Sql};
use crate::db::time::{from_db, to_db};
use crate::db::DbError;
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// How long an invite stands unless the practice says otherwise.
pub const DEFAULT_TTL: SignedDuration = SignedDuration::from_hours(14 * 24);

/// Stores an invite: its `lookup`, the practice's `identity_tag`, and the
/// patient it re-issues a channel for (a lost device), if any.
fn issue(
    conn: &dyn Sql,
    lookup: &[u8; 32],
    identity_tag: &[u8; 32],
    replaces: Option<&PatientId>,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<Timestamp, DbError> {
    let expires = now.checked_add(ttl).unwrap_or(now);
    conn.execute(
        "INSERT INTO patient_invites (lookup, identity_tag, patient_id, created_at_us, expires_at_us)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![lookup, identity_tag, replaces.map(|p| p.0.as_str()), to_db(now), to_db(expires)],
    )?;
    Ok(expires)
}

/// Why an invite could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum InviteRefused {
    /// No practice on this hub.
    #[error("this hub has no practice yet (sealbox-hub init-practice)")]
    NoPractice,
    /// The link must carry the practice key.
    #[error("the practice has no practice key yet: a practice admin sets the practice up first")]
    NoPracticeKey,
    /// `replaces` names no patient with a channel.
    #[error("no patient {0} here")]
    UnknownPatient(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A new invite for `identity` (re-issuing the channel of `replaces`, a
/// patient who lost their device): stores its lookup and the identity
/// tag, and returns the link for the patient (with the practice id and
/// key) and when it expires.
pub fn invite(
    conn: &dyn Sql,
    identity: &PatientIdentity,
    replaces: Option<&PatientId>,
    now: Timestamp,
    ttl: SignedDuration,
) -> Result<(InviteLink, Timestamp), InviteRefused> {
    let practice = crate::db::practice::get(conn)?.ok_or(InviteRefused::NoPractice)?;
    let practice_key = crate::auth::directory::signing_key(conn)?.ok_or(InviteRefused::NoPracticeKey)?;
    if let Some(p) = replaces {
        if !has_channel(conn, p)? {
            return Err(InviteRefused::UnknownPatient(p.0.clone()));
        }
    }
    let code = InviteCode::generate();
    let expires = issue(conn, &code.lookup(), &code.tag(identity), replaces, now, ttl)?;
    Ok((InviteLink { code, practice: practice.id, practice_key }, expires))
}

/// `POST /v1/patient/invites`: a care navigator's (or practice
/// manager's) workstation stores an invite it made. The hub gets only the
/// lookup and the identity tag; the code and who the patient is stay on
/// the workstation.
pub async fn post_invite(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(req): StrictJson<PatientInviteRequest>,
) -> Result<Response, ApiError> {
    if !who.staff.role.may_invite_patients() {
        return Err(ApiError::forbidden("only care navigators and practice managers invite patients"));
    }
    let lookup = key32("lookup", req.lookup.as_slice())?;
    let tag = key32("identity_tag", req.identity_tag.as_slice())?;
    if !(1..=90).contains(&req.valid_days) {
        return Err(ApiError::field("valid_days", "must be 1 to 90"));
    }
    let ttl = SignedDuration::from_hours(24 * i64::from(req.valid_days));
    let now = state.now();
    let expires_at = state
        .db
        .call(move |conn| {
            if let Some(p) = &req.replaces {
                if !has_channel(conn, p)? {
                    return Err(ApiError::field("replaces", "names no patient with a channel here"));
                }
            }
            let taken =
                conn.query_opt("SELECT 1 FROM patient_invites WHERE lookup = ?1", args![lookup])?.is_some();
            if taken {
                return Err(ApiError::conflict("invite_exists", "lookup", "an invite with this code exists"));
            }
            Ok(issue(conn, &lookup, &tag, req.replaces.as_ref(), now, ttl)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(PatientInviteIssued { expires_at })).into_response())
}

/// Whether a patient has a channel (for re-issuing one).
pub fn has_channel(conn: &dyn Sql, patient: &PatientId) -> Result<bool, DbError> {
    Ok(conn.query_opt("SELECT 1 FROM patient_channels WHERE patient_id = ?1", args![patient.0])?.is_some())
}

/// Why joining was refused. None says which details were wrong.
#[derive(Debug)]
enum Refused {
    Unknown,
    Used,
    Expired,
    Locked,
    Mismatch { tries_left: u32 },
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        const ASK: &str = "ask your practice for a new invite";
        match r {
            Refused::Unknown => ApiError::new(
                StatusCode::NOT_FOUND,
                "invite_unknown",
                format!("this invite is not known; {ASK}"),
            ),
            Refused::Used => {
                ApiError::new(StatusCode::GONE, "invite_used", format!("this invite has been used; {ASK}"))
            }
            Refused::Expired => {
                ApiError::new(StatusCode::GONE, "invite_expired", format!("this invite has expired; {ASK}"))
            }
            Refused::Locked => ApiError::new(
                StatusCode::GONE,
                "invite_locked",
                format!("the details were wrong too many times; {ASK}"),
            ),
            Refused::Mismatch { tries_left } => ApiError::new(
                StatusCode::FORBIDDEN,
                "details_mismatch",
                format!(
                    "the name and date of birth do not match the practice's records; {tries_left} tr{} left",
                    if tries_left == 1 { "y" } else { "ies" }
                ),
            ),
        }
    }
}

fn key32(field: &str, bytes: &[u8]) -> Result<[u8; 32], ApiError> {
    bytes.try_into().map_err(|_| ApiError::field(field, "must be 32 bytes"))
}

/// `POST /v1/patient/join`.
pub async fn post_join(
    State(state): State<AppState>,
    StrictJson(req): StrictJson<PatientJoinRequest>,
) -> Result<Response, ApiError> {
    let lookup = key32("lookup", req.lookup.as_slice())?;
    let tag = key32("identity_tag", req.identity_tag.as_slice())?;
    let alternative = req
        .identity_tag_without_nhs
        .as_ref()
        .map(|t| key32("identity_tag_without_nhs", t.as_slice()))
        .transpose()?;
    let ed = key32("ed25519_public", req.ed25519_public.as_slice())?;
    if ed25519_dalek::VerifyingKey::from_bytes(&ed).is_err() {
        return Err(ApiError::field("ed25519_public", "is not an Ed25519 public key"));
    }
    let x = key32("x25519_public", req.x25519_public.as_slice())?;
    let email = match req.notify_email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if e.len() <= 254 && crate::notice::smtp::parse_address(e).is_some() => Some(e.to_owned()),
        Some(_) => return Err(ApiError::field("notify_email", "is not an e-mail address")),
        None => None,
    };
    let now = state.now();
    let tags = Tags { typed: tag, without_nhs: alternative };
    let joined =
        state.db.call(move |conn| join(conn, &lookup, &tags, &ed, &x, email.as_deref(), now)).await?;
    Ok((StatusCode::CREATED, Json(joined)).into_response())
}

/// The tags a patient's join carries: of what they typed, and of their
/// name and date of birth alone when they typed an NHS number too.
struct Tags {
    typed: [u8; 32],
    without_nhs: Option<[u8; 32]>,
}

impl Tags {
    /// Whether either matches the practice's tag (each compared in
    /// constant time): the NHS number is the patient's to give, unless the
    /// practice's invite included it.
    fn matches(&self, stored: &[u8]) -> bool {
        let typed = constant_time_eq(stored, &self.typed);
        let without = self.without_nhs.is_some_and(|t| constant_time_eq(stored, &t));
        typed | without
    }
}

/// Checks the invite and opens (or re-opens) the patient's channel, in one
/// transaction: a wrong tag counts against the invite, a right one uses it.
fn join(
    conn: &dyn Sql,
    lookup: &[u8; 32],
    tags: &Tags,
    ed25519_public: &[u8; 32],
    x25519_public: &[u8; 32],
    notify_email: Option<&str>,
    now: Timestamp,
) -> Result<PatientJoined, ApiError> {
    let tx = begin(conn)?;
    let t: &dyn Sql = &tx;
    // On PostgreSQL the invite's row is locked until the commit, so two
    // guesses at once (on two hub nodes) count as two, as SQLite's single
    // writer makes them.
    let lock = if t.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
    type Row = (Vec<u8>, Option<String>, i64, Option<i64>, u32);
    let row: Option<Row> = t
        .query_opt(
            &format!(
                "SELECT identity_tag, patient_id, expires_at_us, used_at_us, failed_attempts
                 FROM patient_invites WHERE lookup = ?1{lock}"
            ),
            args![lookup],
        )?
        .map(|r| {
            let failed = u32::try_from(r.get::<i64>(4)?).unwrap_or(u32::MAX);
            Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, failed))
        })
        .transpose()?;
    let (stored_tag, replaces, expires, used, failed) = row.ok_or(Refused::Unknown)?;
    if used.is_some() {
        return Err(Refused::Used.into());
    }
    if failed >= MAX_JOIN_ATTEMPTS {
        return Err(Refused::Locked.into());
    }
    if now >= from_db(expires)? {
        return Err(Refused::Expired.into());
    }
    if !tags.matches(&stored_tag) {
        tx.execute(
            "UPDATE patient_invites SET failed_attempts = failed_attempts + 1 WHERE lookup = ?1",
            args![lookup],
        )?;
        tx.commit()?;
        return Err(Refused::Mismatch { tries_left: MAX_JOIN_ATTEMPTS.saturating_sub(failed + 1) }.into());
    }
    let token = URL_SAFE_NO_PAD.encode(secret::random::<32>());
    let token_hash = sha256(token.as_bytes());
    let patient_id = match replaces {
        // A lost device: the same patient, a new channel; the old token
        // and keys stop working here.
        Some(id) => {
            tx.execute(
                "UPDATE patient_channels SET token_sha256 = ?2, ed25519_public = ?3, x25519_public = ?4,
                        created_at_us = ?5, revoked_at_us = NULL
                 WHERE patient_id = ?1",
                args![id, token_hash, ed25519_public, x25519_public, to_db(now)],
            )?;
            PatientId(id)
        }
        None => {
            let id = PatientId(secret::prefixed_id("pt"));
            tx.execute(
                "INSERT INTO patient_channels (patient_id, token_sha256, ed25519_public, x25519_public, created_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                args![id.0, token_hash, ed25519_public, x25519_public, to_db(now)],
            )
            ?;
            id
        }
    };
    tx.execute("UPDATE patient_invites SET used_at_us = ?2 WHERE lookup = ?1", args![lookup, to_db(now)])?;
    match notify_email {
        Some(email) => crate::notice::set_contact(&tx, &patient_id, email, now)?,
        // Joining again without one: no notices to the old address.
        None => {
            tx.execute("DELETE FROM patient_notices WHERE patient_id = ?1", args![patient_id.0])?;
            tx.execute("DELETE FROM patient_contacts WHERE patient_id = ?1", args![patient_id.0])?;
        }
    }
    tx.commit()?;
    Ok(PatientJoined { patient_id, channel_token: ChannelToken(token) })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
