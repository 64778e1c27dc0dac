//! `GET /v1/sync?cursor=N&limit=M`: the next page of the change log after
//! a cursor: envelopes, applied actions and the current metadata of every
//! thread they touch, of the threads the caller's role may read
//! (`permissions::can_read_thread`); the cursor moves past the others.

use std::collections::HashSet;
use std::sync::Arc;

use crate::db::sql::{begin_read_with, Sql};
use crate::db::DbError;
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
    /// The log's latest seq when the page was read.
    latest: u64,
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

    /// How many changes the log held past the page's cursor when it was
    /// read (how far behind its reader was).
    pub fn behind(&self, after: u64) -> u64 {
        self.latest.saturating_sub(after)
    }

    /// The page as its wire type (tests and tools).
    pub fn to_page(&self) -> Result<SyncPage, serde_json::Error> {
        serde_json::from_slice(&self.to_json()?)
    }
}

/// Reads the page after `after` with at most `limit` changes, taking
/// envelopes' JSON from `cache` and filling it with what it lacks. Only
/// threads `role` may read are in it. In one snapshot, read with two
/// sendings of statements (two round trips on PostgreSQL, where one at a
/// time were seven): the log's latest seq and its next changes with the
/// transaction's start; then what the changes touch with its end.
pub fn read_page(
    conn: &dyn Sql,
    cache: &EnvelopeJsonCache,
    role: Role,
    after: u64,
    limit: u32,
) -> Result<PageJson, ApiError> {
    let first = vec![store::latest_seq_query(), store::changes_after_query(after, limit.saturating_add(1))];
    let (tx, read) = begin_read_with(conn, first)?;
    let mut read = read.into_iter();
    let mut next = || read.next().ok_or(DbError::NoRow);
    let latest = store::latest_seq_from(next()?)?;
    if after > latest {
        return Err(ApiError::field("cursor", "is ahead of the hub's change log"));
    }
    let mut changes = store::changes_from(next()?)?;
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let Some(upto) = changes.last().map(|c| c.seq) else {
        tx.commit()?;
        let next_cursor = Cursor(after);
        return Ok(PageJson {
            envelopes: Vec::new(),
            threads: Vec::new(),
            actions: Vec::new(),
            next_cursor,
            more,
            latest,
        });
    };
    // The envelopes' JSON comes from the cache when it holds every one of
    // the page's (readable or not: which are is known only with the
    // threads, read together with them).
    let cached: Option<Vec<(u64, Arc<[u8]>)>> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Envelope)
        .map(|c| cache.get(c.seq).map(|json| (c.seq, json)))
        .collect();
    let mut reads = vec![store::thread_metas_query(after, upto), store::actions_between_query(after, upto)];
    if cached.is_none() {
        reads.push(store::envelopes_between_query(after, upto));
    }
    let mut read = tx.commit_with(reads)?.into_iter();
    let mut next = || read.next().ok_or(DbError::NoRow);
    let mut threads = store::thread_metas_from(next()?)?;
    threads.retain(|t| can_read_thread(role, t.category));
    let readable: HashSet<ThreadId> = threads.iter().map(|t| t.thread_id).collect();
    let mut actions = store::actions_from(next()?)?;
    actions.retain(|a| readable.contains(&a.thread_id));
    let by_thread: std::collections::HashMap<u64, ThreadId> =
        changes.iter().map(|c| (c.seq, c.thread)).collect();
    let envelopes = match cached {
        Some(cached) => cached
            .into_iter()
            .filter(|(seq, _)| by_thread.get(seq).is_some_and(|t| readable.contains(t)))
            .map(|(_, json)| json)
            .collect(),
        None => {
            let mut envelopes = Vec::new();
            for record in store::envelope_records_from(next()?)? {
                // Cached for every reader; sent only to those who may read it.
                let json = cache.insert(&record).map_err(|e| ApiError::internal(&e))?;
                if readable.contains(&record.thread_id) {
                    envelopes.push(json);
                }
            }
            envelopes
        }
    };
    Ok(PageJson { envelopes, threads, actions, next_cursor: Cursor(upto), more, latest })
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
            let page = read_page(conn, &cache, role, after, limit)?;
            Ok::<_, ApiError>((page.to_json().map_err(|e| ApiError::internal(&e))?, page.behind(after)))
        })
        .await?;
    // Counted as a number only: how far behind this reader was.
    state.metrics.sync_lag.observe(behind as f64);
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}
