//! `PUT /v1/practice/keys/{pool}` (admin): publish a pool's X25519 public
//! key (served by the relay's `GET /v1/practice/keys`, which reads the
//! highest `key_version` per pool from table `pool_keys`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use sealbox_model::pool::Pool;

use super::api::PublishPoolKey;
use super::Principal;
use crate::args;
use crate::db::time;
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// `PUT /v1/practice/keys/{pool}`. Versions only go up; re-publishing the
/// same key under the current version is accepted (retry-safe).
pub async fn publish(
    State(state): State<AppState>,
    who: Principal,
    Path(pool): Path<String>,
    StrictJson(req): StrictJson<PublishPoolKey>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    let pool = Pool::ALL
        .iter()
        .copied()
        .find(|p| p.key() == pool)
        .ok_or_else(|| ApiError::not_found("no such pool"))?;
    if req.x25519_public.0.len() != 32 {
        return Err(ApiError::field("x25519_public", "must be 32 bytes"));
    }
    if req.key_version == 0 {
        return Err(ApiError::field("key_version", "must be 1 or more"));
    }
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let current: Option<(i64, Vec<u8>)> = conn
                .query_opt(
                    "SELECT key_version, x25519_public FROM pool_keys WHERE pool = ?1
                     ORDER BY key_version DESC LIMIT 1",
                    args![pool.key()],
                )
                .ok()
                .flatten()
                .and_then(|r| Some((r.get(0).ok()?, r.get(1).ok()?)));
            match current {
                Some((v, key)) if v == i64::from(req.key_version) && key == req.x25519_public.0 => {
                    return Ok(StatusCode::NO_CONTENT)
                }
                Some((v, _)) if v >= i64::from(req.key_version) => {
                    return Err(ApiError::conflict("stale_key_version", "key_version", format!("current version is {v}")))
                }
                _ => {}
            }
            conn.execute(
                "INSERT INTO pool_keys (pool, key_version, x25519_public, published_by_device, published_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                args![pool.key(), req.key_version, req.x25519_public.0, who.device_id, time::to_db(now)],
            )?;
            Ok(StatusCode::CREATED)
        })
        .await
}
