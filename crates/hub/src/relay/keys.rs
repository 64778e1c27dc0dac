//! `GET /v1/practice/keys` (public): the practice id and the pools' public
//! sealing keys, as published by an admin device (table `pool_keys`, owned
//! by auth).

use axum::extract::State;
use axum::Json;
use rusqlite::{Connection, OptionalExtension};
use sealbox_model::hub_api::{Base64Bytes, PoolPublicKey, PracticeKeys};
use sealbox_model::pool::Pool;

use super::store::from_key;
use crate::db::{practice, DbError};
use crate::http::ApiError;
use crate::state::AppState;

/// The current public key of each pool (none before auth's table exists).
pub fn published_pool_keys(conn: &Connection) -> Result<Vec<PoolPublicKey>, DbError> {
    let exists: Option<i64> = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pool_keys'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT pool, x25519_public, MAX(key_version) FROM pool_keys GROUP BY pool ORDER BY pool",
    )?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)))?;
    rows.map(|row| {
        let (pool, key, version) = row?;
        Ok(PoolPublicKey {
            pool: from_key::<Pool>(&pool, "pool")?,
            x25519_public: Base64Bytes(key),
            key_version: u32::try_from(version).map_err(|_| DbError::Corrupt { what: "key version" })?,
        })
    })
    .collect()
}

/// `GET /v1/practice/keys`.
pub async fn get_keys(State(state): State<AppState>) -> Result<Json<PracticeKeys>, ApiError> {
    let keys = state
        .db
        .call(|conn| {
            let practice = practice::get(conn)?.ok_or_else(|| ApiError::not_found("no practice yet"))?;
            Ok::<_, ApiError>(PracticeKeys { practice_id: practice.id, pools: published_pool_keys(conn)? })
        })
        .await?;
    Ok(Json(keys))
}
