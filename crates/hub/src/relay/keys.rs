//! `GET /v1/practice/keys` (public): the practice id and the pools' public
//! sealing keys, as published by an admin device (table `pool_keys`, owned
//! by auth).

use axum::extract::State;
use axum::Json;
use sealbox_model::hub_api::{Base64Bytes, PoolPublicKey, PracticeKeys};
use sealbox_model::pool::Pool;

use super::store::from_key;
use crate::args;
use crate::db::sql::Sql;
use crate::db::{practice, DbError};
use crate::http::ApiError;
use crate::state::AppState;

/// The current public key of each pool (its highest version).
pub fn published_pool_keys(conn: &dyn Sql) -> Result<Vec<PoolPublicKey>, DbError> {
    conn.query_map(
        "SELECT k.pool, k.x25519_public, k.key_version FROM pool_keys k
         WHERE k.key_version = (SELECT MAX(m.key_version) FROM pool_keys m WHERE m.pool = k.pool)
         ORDER BY k.pool",
        args![],
        |r| {
            Ok(PoolPublicKey {
                pool: from_key::<Pool>(&r.get::<String>(0)?, "pool")?,
                x25519_public: Base64Bytes(r.get(1)?),
                key_version: u32::try_from(r.get::<i64>(2)?)
                    .map_err(|_| DbError::Corrupt { what: "key version" })?,
            })
        },
    )
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
