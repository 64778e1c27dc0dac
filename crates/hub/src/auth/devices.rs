//! Devices: each uploads its X25519 + Ed25519 public keys; a practice
//! admin approves it and stores pool private keys sealed to it (opaque
//! blobs); the device fetches its blobs; an admin can revoke it (its
//! sessions end and its blobs are deleted).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use sealbox_model::hub_api::Base64Bytes;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;

use super::api::{DeviceInfo, DeviceKeys, DeviceList, SealedPoolKey, SealedPoolKeys};
use super::invites::role_from_key;
use super::{session, PendingPrincipal, Principal};
use crate::args;
use crate::db::sql::{begin, Sql};
use crate::db::{time, DbError};
use crate::http::{ApiError, StrictJson};
use crate::relay::store::from_key;
use crate::state::AppState;

/// Largest sealed pool-key blob.
pub const MAX_SEALED_BYTES: usize = 4096;
/// Most blobs in one upload.
pub const MAX_SEALED_PER_UPLOAD: usize = 64;

fn check_key(field: &str, key: &Base64Bytes) -> Result<(), ApiError> {
    if key.0.len() == 32 {
        Ok(())
    } else {
        Err(ApiError::field(field, "must be 32 bytes"))
    }
}

/// A device row, for checks.
struct Row {
    keys: Option<(Vec<u8>, Vec<u8>)>,
    approved: bool,
    revoked: bool,
}

fn load(conn: &dyn Sql, id: &str) -> Result<Option<Row>, DbError> {
    conn.query_opt(
        "SELECT x25519_public, ed25519_public, approved_at_us IS NOT NULL, revoked_at_us IS NOT NULL
         FROM devices WHERE id = ?1",
        args![id],
    )?
    .map(|r| {
        let x: Option<Vec<u8>> = r.get(0)?;
        let e: Option<Vec<u8>> = r.get(1)?;
        Ok(Row { keys: x.zip(e), approved: r.get(2)?, revoked: r.get(3)? })
    })
    .transpose()
}

/// `POST /v1/devices/keys`: the caller's device registers its public keys.
/// Re-sending the same keys is fine; changing them after approval is not.
/// The practice's first admin device is approved here (nobody else could
/// approve it: its invite came from the hub's console); every later device,
/// an admin's too, waits for an approved admin.
pub async fn upload_keys(
    State(state): State<AppState>,
    PendingPrincipal(who): PendingPrincipal,
    StrictJson(req): StrictJson<DeviceKeys>,
) -> Result<StatusCode, ApiError> {
    check_key("x25519_public", &req.x25519_public)?;
    check_key("ed25519_public", &req.ed25519_public)?;
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let row = load(conn, &who.device_id)?.ok_or_else(|| ApiError::not_found("no such device"))?;
            let new = (req.x25519_public.0, req.ed25519_public.0);
            if row.approved && row.keys.as_ref().is_some_and(|held| *held != new) {
                return Err(ApiError::conflict(
                    "device_keys_fixed",
                    "x25519_public",
                    "this device is approved; its keys cannot change",
                ));
            }
            conn.execute(
                "UPDATE devices SET x25519_public = ?2, ed25519_public = ?3 WHERE id = ?1",
                args![who.device_id, new.0, new.1],
            )?;
            if !row.approved && who.require_admin().is_ok() && !approved_admin_exists(conn)? {
                conn.execute(
                    "UPDATE devices SET approved_at_us = ?2, approved_by = 'first-admin' WHERE id = ?1",
                    args![who.device_id, time::to_db(now)],
                )?;
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// Whether the practice has an approved, unrevoked practice-admin device.
fn approved_admin_exists(conn: &dyn Sql) -> Result<bool, DbError> {
    conn.query_value(
        "SELECT EXISTS (SELECT 1 FROM devices d JOIN staff st ON st.id = d.staff_id
         WHERE st.role = ?1 AND d.approved_at_us IS NOT NULL AND d.revoked_at_us IS NULL)",
        args![Role::PracticeAdmin.key()],
    )
}

/// `GET /v1/devices` (admin): every device with its public keys.
pub async fn list(State(state): State<AppState>, who: Principal) -> Result<Json<DeviceList>, ApiError> {
    who.require_admin()?;
    let devices = state
        .db
        .call(|conn| {
            let rows = conn.query_map(
                "SELECT d.id, d.staff_id, s.role, d.name, d.x25519_public, d.ed25519_public,
                        d.approved_at_us IS NOT NULL, d.revoked_at_us IS NOT NULL
                 FROM devices d JOIN staff s ON s.id = d.staff_id ORDER BY d.created_at_us, d.id",
                args![],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<String>(3)?,
                        r.get::<Option<Vec<u8>>>(4)?,
                        r.get::<Option<Vec<u8>>>(5)?,
                        r.get::<bool>(6)?,
                        r.get::<bool>(7)?,
                    ))
                },
            )?;
            rows.into_iter()
                .map(|(id, user_id, role, name, x, e, approved, revoked)| {
                    Ok(DeviceInfo {
                        id,
                        user_id,
                        role: role_from_key(&role)?,
                        name,
                        keys: x.zip(e).map(|(x, e)| DeviceKeys {
                            x25519_public: Base64Bytes(x),
                            ed25519_public: Base64Bytes(e),
                        }),
                        approved,
                        revoked,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Json(DeviceList { devices }))
}

/// `POST /v1/devices/{id}/approve` (admin): the device may receive pool keys.
pub async fn approve(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let row = load(conn, &id)?.ok_or_else(|| ApiError::not_found("no such device"))?;
            if row.revoked {
                return Err(ApiError::conflict("device_revoked", "id", "device is revoked"));
            }
            if row.keys.is_none() {
                return Err(ApiError::conflict("device_keys_missing", "id", "device has not uploaded its keys"));
            }
            conn.execute(
                "UPDATE devices SET approved_at_us = COALESCE(approved_at_us, ?2), approved_by = COALESCE(approved_by, ?3)
                 WHERE id = ?1",
                args![id, time::to_db(now), who.device_id],
            )?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// `PUT /v1/devices/{id}/pool-keys` (admin): pool private keys sealed to
/// that (approved) device. Each must be for a published pool key version.
pub async fn put_pool_keys(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    StrictJson(req): StrictJson<SealedPoolKeys>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if req.keys.is_empty() || req.keys.len() > MAX_SEALED_PER_UPLOAD {
        return Err(ApiError::field("keys", format!("1 to {MAX_SEALED_PER_UPLOAD} sealed keys")));
    }
    for (i, k) in req.keys.iter().enumerate() {
        if k.sealed.0.is_empty() || k.sealed.0.len() > MAX_SEALED_BYTES {
            return Err(ApiError::field(
                format!("keys[{i}].sealed"),
                format!("1 to {MAX_SEALED_BYTES} bytes"),
            ));
        }
    }
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let row = load(conn, &id)?.ok_or_else(|| ApiError::not_found("no such device"))?;
            if row.revoked || !row.approved {
                return Err(ApiError::conflict("device_not_approved", "id", "device is not approved (or revoked)"));
            }
            let tx = begin(conn)?;
            let t: &dyn Sql = &tx;
            for (i, k) in req.keys.iter().enumerate() {
                let published = t.query_opt(
                    "SELECT 1 FROM pool_keys WHERE pool = ?1 AND key_version = ?2",
                    args![k.pool.key(), k.key_version],
                )?;
                if published.is_none() {
                    return Err(ApiError::conflict(
                        "pool_key_unpublished",
                        &format!("keys[{i}].key_version"),
                        "publish this pool key version first",
                    ));
                }
                tx.execute(
                    "INSERT INTO device_pool_keys (device_id, pool, key_version, sealed, sealed_by_device, at_us)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (device_id, pool, key_version)
                     DO UPDATE SET sealed = excluded.sealed, sealed_by_device = excluded.sealed_by_device,
                                   at_us = excluded.at_us",
                    args![id, k.pool.key(), k.key_version, k.sealed.0, who.device_id, time::to_db(now)],
                )?;
            }
            tx.commit()?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// `GET /v1/devices/me/pool-keys`: the caller's device's sealed blobs.
pub async fn my_pool_keys(
    State(state): State<AppState>,
    PendingPrincipal(who): PendingPrincipal,
) -> Result<Json<SealedPoolKeys>, ApiError> {
    let keys = state
        .db
        .call(move |conn| {
            let row = load(conn, &who.device_id)?.ok_or_else(|| ApiError::not_found("no such device"))?;
            if !row.approved {
                return Err(ApiError::forbidden("this device is not approved yet"));
            }
            let rows = conn.query_map(
                "SELECT pool, key_version, sealed FROM device_pool_keys WHERE device_id = ?1
                 ORDER BY pool, key_version",
                args![who.device_id],
                |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<Vec<u8>>(2)?)),
            )?;
            rows.into_iter()
                .map(|(pool, version, sealed)| {
                    Ok(SealedPoolKey {
                        pool: from_key::<Pool>(&pool, "pool")?,
                        key_version: u32::try_from(version)
                            .map_err(|_| DbError::Corrupt { what: "key version" })?,
                        sealed: Base64Bytes(sealed),
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Json(SealedPoolKeys { keys }))
}

/// `POST /v1/devices/{id}/revoke` (admin): ends the device's sessions,
/// deletes its sealed pool keys and refuses its logins from now on.
pub async fn revoke(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    let now = state.now();
    state
        .db
        .call(move |conn| {
            load(conn, &id)?.ok_or_else(|| ApiError::not_found("no such device"))?;
            let tx = begin(conn)?;
            tx.execute(
                "UPDATE devices SET revoked_at_us = COALESCE(revoked_at_us, ?2) WHERE id = ?1",
                args![id, time::to_db(now)],
            )?;
            session::end_for_device(&tx, &id, now)?;
            super::counts_token::revoke_for_device(&tx, &id, now)?;
            tx.execute("DELETE FROM device_pool_keys WHERE device_id = ?1", args![id])?;
            tx.execute("DELETE FROM practice_key_shares WHERE device_id = ?1", args![id])?;
            tx.commit()?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
