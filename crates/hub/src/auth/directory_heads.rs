//! Directory heads: `POST /v1/directory/heads` (a device's signed claim of
//! the head it verified; only its own, and never moving back) and `GET
//! /v1/directory/heads` (every device's newest). Devices check the others'
//! claims against their own chain (`sealbox_crypto::directory::HeadClaim`),
//! so a hub showing two devices two histories is caught; it can withhold
//! claims but not forge them.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use sealbox_crypto::directory::HeadClaim;
use sealbox_model::hub_api::{Base64Bytes, HeadRecord, HeadsPage};

use super::Principal;
use crate::args;
use crate::db::{practice, time};
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// `POST /v1/directory/heads`: the caller's device's claim, signed with its
/// Ed25519 key as uploaded.
pub async fn post_head(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(req): StrictJson<HeadRecord>,
) -> Result<StatusCode, ApiError> {
    if req.device != who.device_id {
        return Err(ApiError::forbidden("a device posts only its own directory head"));
    }
    let claim = HeadClaim::try_from(&req).map_err(|what| ApiError::field(what, "wrong length"))?;
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let practice = practice::get(conn)?.ok_or_else(|| ApiError::forbidden("no practice"))?;
            let key: Option<Vec<u8>> = match conn
                .query_opt("SELECT ed25519_public FROM devices WHERE id = ?1", args![claim.device])?
            {
                Some(row) => row.get(0)?,
                None => None,
            };
            let key: [u8; 32] = key
                .and_then(|k| k.as_slice().try_into().ok())
                .ok_or_else(|| ApiError::conflict("no_device_keys", "device", "upload the device's keys first"))?;
            if !claim.verify(&practice.id, &key) {
                return Err(ApiError::field("signature", "not this device's signature"));
            }
            let seq = i64::try_from(claim.seq).map_err(|_| ApiError::field("seq", "too large"))?;
            conn.execute(
                "INSERT INTO directory_heads (device_id, seq, hash, signature, at_us) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (device_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
                     signature = excluded.signature, at_us = excluded.at_us
                 WHERE excluded.seq >= directory_heads.seq",
                args![claim.device, seq, claim.hash, claim.signature, time::to_db(now)],
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// `GET /v1/directory/heads`: every device's newest claim, for staff and
/// for a patient's channel (a patient holds no head of its own: the chain
/// it is served must reach every head a device signed).
pub async fn get_heads(
    State(state): State<AppState>,
    staff: Result<Principal, ApiError>,
    headers: HeaderMap,
) -> Result<Json<HeadsPage>, ApiError> {
    if let Err(refused) = staff {
        if crate::relay::patient::channel(&state, &headers).await.is_err() {
            return Err(refused);
        }
    }
    let heads = state
        .db
        .read(|conn| {
            conn.query_map(
                "SELECT device_id, seq, hash, signature FROM directory_heads ORDER BY device_id",
                args![],
                |r| {
                    Ok(HeadRecord {
                        device: r.get(0)?,
                        seq: u64::try_from(r.get::<i64>(1)?).unwrap_or(0),
                        hash: Base64Bytes(r.get(2)?),
                        signature: Base64Bytes(r.get(3)?),
                    })
                },
            )
            .map_err(ApiError::from)
        })
        .await?;
    Ok(Json(HeadsPage { heads }))
}
