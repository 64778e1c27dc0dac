//! The practice key shared with a second admin's device (issue 21): `PUT
//! /v1/devices/{id}/practice-key` (an admin stores the key sealed to an
//! approved admin device) and `GET /v1/devices/me/practice-key` (that
//! device reads its share). The hub holds only the sealed blob; the device
//! keeps the key only if its public half is the one it pinned.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sealbox_model::hub_api::{Base64Bytes, SealedPracticeKey};
use sealbox_model::role::Role;

use super::Principal;
use crate::args;
use crate::db::{time, DbError};
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// Largest sealed share accepted, in bytes.
const MAX_SEALED_BYTES: usize = 4096;

/// `PUT /v1/devices/{id}/practice-key` (admin): the practice key sealed to
/// another admin's approved device.
pub async fn put_share(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    StrictJson(req): StrictJson<SealedPracticeKey>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if req.sealed.0.is_empty() || req.sealed.0.len() > MAX_SEALED_BYTES {
        return Err(ApiError::field("sealed", format!("1 to {MAX_SEALED_BYTES} bytes")));
    }
    let now = state.now();
    state
        .db
        .call(move |conn| {
            type Target = (String, bool, bool);
            let target: Option<Target> = conn
                .query_opt(
                    "SELECT s.role, d.approved_at_us IS NOT NULL, d.revoked_at_us IS NOT NULL
                     FROM devices d JOIN staff s ON s.id = d.staff_id WHERE d.id = ?1",
                    args![id],
                )?
                .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?)))
                .transpose()?;
            let (role, approved, revoked) = target.ok_or_else(|| ApiError::not_found("no such device"))?;
            if role != Role::PracticeAdmin.key() {
                return Err(ApiError::conflict("not_an_admin_device", "id", "only an admin's device holds the practice key"));
            }
            if revoked || !approved {
                return Err(ApiError::conflict("device_not_approved", "id", "device is not approved (or revoked)"));
            }
            conn.execute(
                "INSERT INTO practice_key_shares (device_id, sealed, shared_by_device, at_us) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device_id) DO UPDATE SET sealed = excluded.sealed,
                     shared_by_device = excluded.shared_by_device, at_us = excluded.at_us",
                args![id, req.sealed.0, who.device_id, time::to_db(now)],
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// `GET /v1/devices/me/practice-key`: the caller's device's share (404: none).
pub async fn my_share(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<SealedPracticeKey>, ApiError> {
    let sealed: Option<Vec<u8>> = state
        .db
        .read(move |conn| {
            conn.query_opt(
                "SELECT sealed FROM practice_key_shares WHERE device_id = ?1",
                args![who.device_id],
            )?
            .map(|r| r.get(0))
            .transpose()
            .map_err(ApiError::from)
        })
        .await?;
    let sealed = sealed.ok_or_else(|| ApiError::not_found("no practice key is shared with this device"))?;
    Ok(Json(SealedPracticeKey { sealed: Base64Bytes(sealed) }))
}
