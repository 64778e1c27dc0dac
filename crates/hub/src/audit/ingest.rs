//! `POST /v1/audit/segments`: the caller's device pushes the next links of
//! its chain. The hub checks that they continue what it holds (no gap, no
//! fork), that every hash matches its fields and every link names the
//! device, and that the device's Ed25519 key signed the segment; then it
//! stores links and segment in one transaction. Every link must name the
//! caller (or Sealbox itself, `system`) as its actor (a device cannot put
//! a colleague's name on an event) and carry a time between the device's enrolment and a few
//! minutes past the hub's clock. Re-sending a segment the
//! hub already holds (an acknowledgement lost on the way) is answered with
//! the same head.

use axum::extract::State;
use axum::Json;
use sealbox_crypto::audit_chain::{verify_links, Link, SegmentHead, GENESIS};
use sealbox_crypto::ed25519_dalek::VerifyingKey;
use sealbox_model::actor::SYSTEM_ACTOR;
use sealbox_model::hub_api::{AuditHead, AuditLinkRecord, AuditSegment, Base64Bytes, MAX_AUDIT_LINKS};

use crate::args;
use crate::auth::Principal;
use crate::db::sql::{begin, Sql};
use crate::db::{time, DbError};
use crate::http::json::StrictJson;
use crate::http::problem::ApiError;
use crate::state::AppState;

/// Longest actor, device, action or object.
const MAX_FIELD: usize = 200;

/// How far a link's time may run ahead of the hub's clock (or before the
/// device's enrolment): clocks drift, but not by more.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// Refuses a link whose actor is neither the caller nor Sealbox itself
/// ([`SYSTEM_ACTOR`]: the device recording that the hub refused an action)
/// or whose time is outside `[enrolled - skew, now + skew]` (milliseconds
/// since the epoch).
fn check_actor_and_time(
    i: usize,
    l: &Link,
    caller: &str,
    enrolled_ms: i64,
    now_ms: i64,
) -> Result<(), ApiError> {
    if l.actor != caller && l.actor != SYSTEM_ACTOR {
        return Err(ApiError::forbidden(format!("links[{i}].actor is not the signed-in member of staff")));
    }
    if l.at_ms > now_ms.saturating_add(CLOCK_SKEW_MS) || l.at_ms < enrolled_ms.saturating_sub(CLOCK_SKEW_MS) {
        return Err(ApiError::field(
            format!("links[{i}].at_ms"),
            "is outside the device's enrolment and the hub's clock (check the workstation's clock)",
        ));
    }
    Ok(())
}

fn link(i: usize, r: &AuditLinkRecord) -> Result<Link, ApiError> {
    for (name, value) in
        [("actor", &r.actor), ("device", &r.device), ("action", &r.action), ("object", &r.object)]
    {
        if value.is_empty() || value.len() > MAX_FIELD {
            return Err(ApiError::field(format!("links[{i}].{name}"), format!("1 to {MAX_FIELD} bytes")));
        }
    }
    Link::try_from(r).map_err(|field| ApiError::field(format!("links[{i}].{field}"), "32 bytes"))
}

/// The last link the hub holds of `device` (`(0, GENESIS)` before any).
pub fn head(conn: &dyn Sql, device: &str) -> Result<(u64, [u8; 32]), DbError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_opt(
            "SELECT seq, hash FROM audit_links WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1",
            args![device],
        )?
        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    match row {
        None => Ok((0, GENESIS)),
        Some((seq, hash)) => Ok((
            u64::try_from(seq).map_err(|_| DbError::Corrupt { what: "audit seq" })?,
            hash.try_into().map_err(|_| DbError::Corrupt { what: "audit hash" })?,
        )),
    }
}

fn stored_hash(conn: &dyn Sql, device: &str, seq: u64) -> Result<Option<Vec<u8>>, DbError> {
    conn.query_opt("SELECT hash FROM audit_links WHERE device_id = ?1 AND seq = ?2", args![device, seq])?
        .map(|r| r.get(0))
        .transpose()
}

/// `GET /v1/audit/head`: the last link the hub holds of the caller's
/// device's chain, so a device whose acknowledgement was lost resumes after
/// it instead of sending a fork.
pub async fn my_head(State(state): State<AppState>, who: Principal) -> Result<Json<AuditHead>, ApiError> {
    let device = who.device_id;
    let (seq, hash) = state.db.read(move |conn| head(conn, &device)).await?;
    Ok(Json(AuditHead { seq, hash: Base64Bytes(hash.to_vec()) }))
}

/// The handler.
pub async fn push_segment(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(req): StrictJson<AuditSegment>,
) -> Result<Json<AuditHead>, ApiError> {
    if req.links.is_empty() || req.links.len() > MAX_AUDIT_LINKS {
        return Err(ApiError::field("links", format!("1 to {MAX_AUDIT_LINKS} links")));
    }
    let links = req.links.iter().enumerate().map(|(i, r)| link(i, r)).collect::<Result<Vec<_>, _>>()?;
    let signature: [u8; 64] =
        req.signature.as_slice().try_into().map_err(|_| ApiError::field("signature", "64 bytes"))?;
    let now = time::to_db(state.now());
    let now_ms = state.now().as_millisecond();
    let device = who.device_id;
    let caller = who.staff.id.0;
    let head = state
        .db
        .call(move |conn| {
            let row: Option<(Option<Vec<u8>>, i64)> = conn
                .query_opt(
                    "SELECT ed25519_public, created_at_us FROM devices WHERE id = ?1 AND revoked_at_us IS NULL",
                    args![device],
                )?
                .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?)))
                .transpose()?;
            let (key, enrolled_us) = row.ok_or_else(|| ApiError::forbidden("this device has no signing key here"))?;
            let key = key.ok_or_else(|| ApiError::forbidden("this device has no signing key here"))?;
            for (i, l) in links.iter().enumerate() {
                check_actor_and_time(i, l, &caller, enrolled_us / 1000, now_ms)?;
            }
            let key = <[u8; 32]>::try_from(key.as_slice())
                .ok()
                .and_then(|k| VerifyingKey::from_bytes(&k).ok())
                .ok_or(DbError::Corrupt { what: "device signing key" })?;
            let (Some(first), Some(last)) = (links.first(), links.last()) else {
                return Err(ApiError::field("links", "at least one link"));
            };
            let held = head(conn, &device)?;
            // Already held, byte for byte: a retry after a lost reply.
            if last.seq <= held.0 && stored_hash(conn, &device, last.seq)?.as_deref() == Some(last.hash.as_slice()) {
                return Ok(held);
            }
            if first.seq > held.0 + 1 {
                return Err(ApiError::conflict(
                    "audit_gap",
                    "links[0].seq",
                    format!("the hub holds this device's chain up to {}; links are missing before it", held.0),
                ));
            }
            if first.seq <= held.0 || first.prev_hash != held.1 {
                return Err(ApiError::conflict(
                    "audit_fork",
                    "links[0]",
                    format!("does not continue the chain the hub holds (up to {})", held.0),
                ));
            }
            let new_head = verify_links(&device, held, &links)
                .map_err(|b| ApiError::field(format!("links (seq {})", b.seq), b.reason))?;
            let segment = SegmentHead {
                device: &device,
                first_seq: first.seq,
                last_seq: last.seq,
                prev_hash: first.prev_hash,
                last_hash: last.hash,
            };
            segment.verify(&key, &signature).map_err(|_| ApiError::field("signature", "does not verify"))?;
            let tx = begin(conn)?;
            for l in &links {
                tx.execute(
                    "INSERT INTO audit_links (device_id, seq, at_ms, actor, device, action, object,
                                              prev_hash, hash, received_at_us)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    args![
                        device,
                        i64::try_from(l.seq).map_err(|_| ApiError::field("links.seq", "too large"))?,
                        l.at_ms,
                        l.actor,
                        l.device,
                        l.action,
                        l.object,
                        l.prev_hash,
                        l.hash,
                        now
                    ],
                )?;
            }
            tx.execute(
                "INSERT INTO audit_segments (device_id, first_seq, last_seq, prev_hash, last_hash, signature,
                                             received_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![device, first.seq, last.seq, first.prev_hash, last.hash, signature, now],
            )?;
            tx.commit()?;
            Ok::<_, ApiError>(new_head)
        })
        .await?;
    Ok(Json(AuditHead { seq: head.0, hash: Base64Bytes(head.1.to_vec()) }))
}
