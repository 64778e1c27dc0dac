//! `GET /v1/sync?cursor=N&limit=M`: the next page of the change log after
//! a cursor: envelopes, applied actions and the current metadata of every
//! thread they touch.

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use rusqlite::Connection;
use sealbox_model::hub_api::{Cursor, SyncPage};
use std::collections::BTreeSet;

use super::patient::page_limit;
use super::store;
use crate::auth::Principal;
use crate::http::query::parse_u64_params;
use crate::http::ApiError;
use crate::state::AppState;

/// Reads the page after `after` with at most `limit` changes.
pub fn read_page(conn: &Connection, after: u64, limit: u32) -> Result<SyncPage, ApiError> {
    let tx = conn.unchecked_transaction()?;
    if after > store::latest_seq(&tx)? {
        return Err(ApiError::field("cursor", "is ahead of the hub's change log"));
    }
    let mut changes = store::changes_after(&tx, after, limit.saturating_add(1))?;
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let Some(&(upto, _)) = changes.last() else {
        return Ok(SyncPage {
            envelopes: Vec::new(),
            threads: Vec::new(),
            actions: Vec::new(),
            next_cursor: Cursor(after),
            more: false,
        });
    };
    let envelopes = store::envelopes_between(&tx, after, upto)?;
    let actions = store::actions_between(&tx, after, upto)?;
    let ids: BTreeSet<_> = changes.iter().map(|(_, t)| *t).collect();
    let mut threads = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = store::load_thread(&tx, id)? {
            threads.push(store::thread_meta(&tx, row)?);
        }
    }
    tx.commit()?;
    Ok(SyncPage { envelopes, threads, actions, next_cursor: Cursor(upto), more })
}

/// `GET /v1/sync`.
pub async fn get_sync(
    State(state): State<AppState>,
    _who: Principal,
    uri: Uri,
) -> Result<Json<SyncPage>, ApiError> {
    let [cursor, limit] = parse_u64_params(uri.query(), ["cursor", "limit"])?;
    let limit = page_limit(limit)?;
    let after = cursor.unwrap_or(0);
    let page = state.db.read(move |conn| read_page(conn, after, limit)).await?;
    Ok(Json(page))
}
