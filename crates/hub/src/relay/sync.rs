//! `GET /v1/sync?cursor=N&limit=M`: the next page of the change log after
//! a cursor: envelopes, applied actions and the current metadata of every
//! thread they touch, of the threads the caller's role may read
//! (`permissions::can_read_thread`); the cursor moves past the others.

use std::collections::HashSet;
use std::sync::Arc;

use crate::db::sql::{begin_read, Sql};
use axum::extract::State;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use sealbox_model::hub_api::{ActionLogEntry, Cursor, SyncPage, ThreadMeta};
use sealbox_model::ids::ThreadId;
use sealbox_model::permissions::can_read_thread;
use sealbox_model::role::Role;

use super::envelope_json::EnvelopeJsonCache;
use super::patient::page_limit;
use super::store::{self, ChangeKind};
use crate::auth::Principal;
use crate::http::query::parse_u64_params;
use crate::http::ApiError;
use crate::state::AppState;

/// A page read from the change log, its envelopes already in JSON.
#[derive(Debug)]
pub struct PageJson {
    envelopes: Vec<Arc<[u8]>>,
    threads: Vec<ThreadMeta>,
    actions: Vec<ActionLogEntry>,
    next_cursor: Cursor,
    more: bool,
}

impl PageJson {
    /// The page's body: exactly the JSON of the equivalent [`SyncPage`].
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let size: usize = self.envelopes.iter().map(|e| e.len() + 1).sum();
        let mut out = Vec::with_capacity(size + 256 * self.threads.len() + 128);
        out.extend_from_slice(b"{\"envelopes\":[");
        for (i, envelope) in self.envelopes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(envelope);
        }
        out.extend_from_slice(b"],\"threads\":");
        serde_json::to_writer(&mut out, &self.threads)?;
        out.extend_from_slice(b",\"actions\":");
        serde_json::to_writer(&mut out, &self.actions)?;
        out.extend_from_slice(b",\"next_cursor\":");
        serde_json::to_writer(&mut out, &self.next_cursor)?;
        out.extend_from_slice(b",\"more\":");
        serde_json::to_writer(&mut out, &self.more)?;
        out.push(b'}');
        Ok(out)
    }

    /// The page as its wire type (tests and tools).
    pub fn to_page(&self) -> Result<SyncPage, serde_json::Error> {
        serde_json::from_slice(&self.to_json()?)
    }
}

/// Reads the page after `after` with at most `limit` changes, taking
/// envelopes' JSON from `cache` and filling it with what it lacks. Only
/// threads `role` may read are in it.
pub fn read_page(
    conn: &dyn Sql,
    cache: &EnvelopeJsonCache,
    role: Role,
    after: u64,
    limit: u32,
) -> Result<PageJson, ApiError> {
    let tx = begin_read(conn)?;
    if after > store::latest_seq(&tx)? {
        return Err(ApiError::field("cursor", "is ahead of the hub's change log"));
    }
    let mut changes = store::changes_after(&tx, after, limit.saturating_add(1))?;
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let Some(upto) = changes.last().map(|c| c.seq) else {
        let next_cursor = Cursor(after);
        return Ok(PageJson {
            envelopes: Vec::new(),
            threads: Vec::new(),
            actions: Vec::new(),
            next_cursor,
            more,
        });
    };
    let mut threads = store::thread_metas_between(&tx, after, upto)?;
    threads.retain(|t| can_read_thread(role, t.category));
    let readable: HashSet<ThreadId> = threads.iter().map(|t| t.thread_id).collect();
    let seqs: Vec<u64> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Envelope && readable.contains(&c.thread))
        .map(|c| c.seq)
        .collect();
    let mut envelopes: Vec<Arc<[u8]>> = seqs.iter().map_while(|seq| cache.get(*seq)).collect();
    if envelopes.len() < seqs.len() {
        envelopes.clear();
        for record in store::envelopes_between(&tx, after, upto)? {
            // Cached for every reader; sent only to those who may read it.
            let json = cache.insert(&record).map_err(|e| ApiError::internal(&e))?;
            if readable.contains(&record.thread_id) {
                envelopes.push(json);
            }
        }
    }
    let mut actions = store::actions_between(&tx, after, upto)?;
    actions.retain(|a| readable.contains(&a.thread_id));
    tx.commit()?;
    Ok(PageJson { envelopes, threads, actions, next_cursor: Cursor(upto), more })
}

/// `GET /v1/sync`. The page is read on the reader connection and its JSON
/// assembled on the blocking pool, off the async workers that fan events
/// out to every open stream.
pub async fn get_sync(State(state): State<AppState>, who: Principal, uri: Uri) -> Result<Response, ApiError> {
    let [cursor, limit] = parse_u64_params(uri.query(), ["cursor", "limit"])?;
    let limit = page_limit(limit)?;
    let after = cursor.unwrap_or(0);
    let cache = state.envelope_json.clone();
    let role = who.staff.role;
    let (body, behind) = state
        .db
        .read(move |conn| {
            let behind = store::latest_seq(conn)?.saturating_sub(after);
            let page = read_page(conn, &cache, role, after, limit)?;
            Ok::<_, ApiError>((page.to_json().map_err(|e| ApiError::internal(&e))?, behind))
        })
        .await?;
    // Counted as a number only: how far behind this reader was.
    state.metrics.sync_lag.observe(behind as f64);
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}
