//! The practice's signed key directory at the hub: `PUT
//! /v1/practice/signing-key` (the first admin, once), `POST /v1/directory`
//! (admins append signed statements), `GET /v1/directory?after=N` (staff,
//! and patients' channels).
//!
//! The hub checks each statement as a device would (`sealbox_crypto::
//! directory`: the next in the chain, signed by the practice key) so an
//! honest hub holds only a valid chain; the devices check it again against
//! the key they pinned, so a hub that does not is caught.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use ed25519_dalek::VerifyingKey;
use sealbox_crypto::directory::{Directory, Statement};
use sealbox_model::hub_api::{
    Base64Bytes, DirectoryPage, DirectoryPost, PracticeSigningKey, StatementRecord, MAX_STATEMENTS_PER_POST,
};

use super::{PendingPrincipal, Principal};
use crate::args;
use crate::db::sql::{begin, Sql};
use crate::db::{practice, time, DbError};
use crate::http::query::parse_u64_params;
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// The practice key's public half, once set.
pub fn signing_key(conn: &dyn Sql) -> Result<Option<VerifyingKey>, DbError> {
    let bytes: Option<Vec<u8>> = conn
        .query_opt("SELECT ed25519_public FROM practice_signing_key WHERE id = 1", args![])?
        .map(|r| r.get(0))
        .transpose()?;
    bytes
        .map(|b| {
            <[u8; 32]>::try_from(b.as_slice())
                .ok()
                .and_then(|b| VerifyingKey::from_bytes(&b).ok())
                .ok_or(DbError::Corrupt { what: "practice signing key" })
        })
        .transpose()
}

/// The statements after `after`, as stored.
pub fn statements_after(conn: &dyn Sql, after: u64) -> Result<Vec<StatementRecord>, DbError> {
    conn.query_map("SELECT statement FROM directory WHERE seq > ?1 ORDER BY seq", args![after], |r| {
        serde_json::from_str(&r.get::<String>(0)?)
            .map_err(|_| DbError::Corrupt { what: "directory statement" })
    })
}

/// `PUT /v1/practice/signing-key`: an admin sets the practice key's public
/// half. Once set it does not change (the same key again is accepted).
pub async fn put_signing_key(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(req): StrictJson<PracticeSigningKey>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    let key: [u8; 32] = req
        .ed25519_public
        .0
        .as_slice()
        .try_into()
        .map_err(|_| ApiError::field("ed25519_public", "must be 32 bytes"))?;
    VerifyingKey::from_bytes(&key).map_err(|_| ApiError::field("ed25519_public", "not an Ed25519 key"))?;
    let now = state.now();
    state
        .db
        .call(move |conn| match signing_key(conn)? {
            Some(held) if held.as_bytes() == &key => Ok(StatusCode::NO_CONTENT),
            Some(_) => Err(ApiError::conflict(
                "signing_key_set",
                "ed25519_public",
                "the practice key is set already and does not change",
            )),
            None => {
                conn.execute(
                    "INSERT INTO practice_signing_key (id, ed25519_public, set_by_device, set_at_us)
                         VALUES (1, ?1, ?2, ?3)",
                    args![key, who.device_id, time::to_db(now)],
                )?;
                Ok(StatusCode::CREATED)
            }
        })
        .await
}

/// `POST /v1/directory`: an admin appends statements, all or none. Each
/// must be the next in the chain and signed by the practice key.
pub async fn post_statements(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(req): StrictJson<DirectoryPost>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if req.statements.is_empty() || req.statements.len() > MAX_STATEMENTS_PER_POST {
        return Err(ApiError::field("statements", format!("1 to {MAX_STATEMENTS_PER_POST} statements")));
    }
    let incoming = req
        .statements
        .iter()
        .map(|r| {
            Statement::try_from(r)
                .map_err(|what| ApiError::field("statements", format!("{what}: wrong length")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let key = signing_key(conn)?.ok_or_else(|| {
                ApiError::conflict("no_signing_key", "statements", "the practice key is not set yet")
            })?;
            let practice = practice::get(conn)?.ok_or_else(|| ApiError::forbidden("no practice"))?;
            let held = statements_after(conn, 0)?
                .iter()
                .map(Statement::try_from)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| DbError::Corrupt { what: "directory statement" })?;
            let mut dir = Directory::replay(&practice.id, key, &held)
                .map_err(|_| DbError::Corrupt { what: "directory chain" })?;
            let tx = begin(conn)?;
            for (s, record) in incoming.iter().zip(&req.statements) {
                dir.apply(s).map_err(|e| ApiError::conflict("statement_refused", "statements", e.to_string()))?;
                let json = serde_json::to_string(record).map_err(|e| ApiError::internal(&e))?;
                tx.execute(
                    "INSERT INTO directory (seq, statement, added_by_device, added_at_us) VALUES (?1, ?2, ?3, ?4)",
                    args![s.seq, json, who.device_id, time::to_db(now)],
                )?;
            }
            tx.commit()?;
            Ok(StatusCode::CREATED)
        })
        .await
}

/// `GET /v1/directory?after=N`: the practice key the hub holds and the
/// statements after `N`, for any signed-in member of staff (a device
/// waiting for approval included: it checks who approves it) and for a
/// patient's channel (patients seal only to pool keys signed in it).
pub async fn get_statements(
    State(state): State<AppState>,
    staff: Result<PendingPrincipal, ApiError>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<DirectoryPage>, ApiError> {
    if let Err(refused) = staff {
        if crate::relay::patient::channel(&state, &headers).await.is_err() {
            return Err(refused);
        }
    }
    let [after] = parse_u64_params(uri.query(), ["after"])?;
    let page = state
        .db
        .read(move |conn| {
            let practice_key = signing_key(conn)?.map(|k| Base64Bytes(k.as_bytes().to_vec()));
            let statements = statements_after(conn, after.unwrap_or(0))?;
            Ok::<_, ApiError>(DirectoryPage { practice_key, statements })
        })
        .await?;
    Ok(Json(page))
}
