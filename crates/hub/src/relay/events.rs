//! Push: `GET /v1/events` streams server-sent events. Writers call
//! [`EventBus::changed`]; a publisher task coalesces what changed, counts the
//! waiting threads per pool and broadcasts one [`PushEvent`] (ids and counts
//! only, never content), rendered once per role: each reader gets only the
//! threads its role may read and only its own pool's count. Each SSE
//! event's `id` is the change-log seq. A stream ends soon after its token
//! stops standing (sign-out, expiry, revocation): it is rechecked every
//! `HubConfig::stream_recheck`.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{CategoryCount, PoolCounts, PushEvent};
use sealbox_model::ids::ThreadId;
use sealbox_model::permissions::{can_read_thread, pools_that_can_read};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, Notify};
use tokio_stream::wrappers::BroadcastStream;

use super::store::{self, from_key};
use crate::args;
use crate::auth::EventsReader;
use crate::db::sql::{list, Param, Sql, ToParam};
use crate::db::DbError;
use crate::http::ApiError;
use crate::state::AppState;

/// An event serialised once per role, shared by every subscriber's stream
/// of that role (with a thousand clients, rendering per subscriber was the
/// publisher's main cost).
#[derive(Debug)]
pub struct Rendered {
    seq: u64,
    json: Vec<(Role, String)>,
    /// When the first change it tells of was committed (push latency).
    since: Instant,
}

/// `event` as `role` may see it: the threads of categories it may read,
/// and the count of its own pool only.
pub fn for_role(event: &PushEvent, categories: &[(ThreadId, Category)], role: Role) -> PushEvent {
    let thread_ids = event
        .thread_ids
        .iter()
        .filter(|t| categories.iter().any(|(id, c)| id == *t && can_read_thread(role, *c)))
        .copied()
        .collect();
    let mut pools = PoolCounts::default();
    let own = match role.pool() {
        Pool::Gp => event.pools.gp,
        Pool::Nurse => event.pools.nurse,
        Pool::Pharmacy => event.pools.pharmacy,
        Pool::Admin => event.pools.admin,
    };
    bump(&mut pools, role.pool(), own);
    let waiting = event.waiting.iter().filter(|c| can_read_thread(role, c.category)).copied().collect();
    PushEvent { seq: event.seq, thread_ids, pools, waiting }
}

impl Rendered {
    fn new(e: &PushEvent, categories: &[(ThreadId, Category)], since: Instant) -> Self {
        let json = Role::ALL
            .iter()
            .map(|r| {
                (*r, serde_json::to_string(&for_role(e, categories, *r)).unwrap_or_else(|_| "{}".to_owned()))
            })
            .collect();
        Rendered { seq: e.seq, json, since }
    }

    fn sse(&self, role: Role) -> Event {
        let json = self.json.iter().find(|(r, _)| *r == role).map_or("{}", |(_, j)| j.as_str());
        Event::default().event("change").id(self.seq.to_string()).data(json)
    }
}

#[derive(Debug, Default)]
struct Pending {
    seq: u64,
    threads: BTreeSet<ThreadId>,
    /// When the first of them was committed.
    since: Option<Instant>,
}

/// What the bus holds between publications.
#[derive(Debug, Default)]
struct Collected {
    pending: Pending,
    /// The seqs passed on lately: a change told twice (by the node that
    /// wrote it, then by the fan-out that heard it) is passed on once.
    told: BTreeSet<u64>,
}

/// How many recent seqs the bus remembers.
const TOLD: usize = 4096;

/// The fan-out of push events.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Rendered>>,
    collected: Arc<Mutex<Collected>>,
    wake: Arc<Notify>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(256);
        EventBus { tx, collected: Arc::new(Mutex::new(Collected::default())), wake: Arc::new(Notify::new()) }
    }

    /// Records that `thread` changed at `seq` (call after commit); a seq
    /// told already is ignored.
    pub fn changed(&self, seq: u64, thread: ThreadId) {
        let mut c = self.collected.lock().unwrap_or_else(|e| e.into_inner());
        if !c.told.insert(seq) {
            return;
        }
        if c.told.len() > TOLD {
            c.told.pop_first();
        }
        let p = &mut c.pending;
        p.seq = p.seq.max(seq);
        p.threads.insert(thread);
        p.since.get_or_insert_with(Instant::now);
        drop(c);
        self.wake.notify_one();
    }

    /// A receiver of future events, each rendered once for every subscriber.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Rendered>> {
        self.tx.subscribe()
    }

    fn take(&self) -> Pending {
        std::mem::take(&mut self.collected.lock().unwrap_or_else(|e| e.into_inner()).pending)
    }
}

/// Runs the publisher until the runtime stops: waits for changes, publishes
/// one event for all of them, then waits `push_coalesce` before the next.
pub async fn run_publisher(state: AppState) {
    let bus = state.events.clone();
    loop {
        bus.wake.notified().await;
        let pending = bus.take();
        if pending.threads.is_empty() {
            continue;
        }
        let since = pending.since.unwrap_or_else(Instant::now);
        let threads: Vec<ThreadId> = pending.threads.into_iter().collect();
        let ids = threads.clone();
        let read = state
            .db
            .read_for_push(move |conn| Ok::<_, ApiError>((waiting_counts(conn)?, categories(conn, &ids)?)))
            .await;
        match read {
            Ok(((pools, waiting), categories)) => {
                let event = PushEvent { seq: pending.seq, thread_ids: threads, pools, waiting };
                // No subscribers is fine.
                let _ = bus.tx.send(Arc::new(Rendered::new(&event, &categories, since)));
            }
            Err(e) => eprintln!("sealbox-hub: push: {e}"),
        }
        tokio::time::sleep(state.config.push_coalesce).await;
    }
}

fn bump(counts: &mut PoolCounts, pool: Pool, by: u64) {
    let slot = match pool {
        Pool::Gp => &mut counts.gp,
        Pool::Nurse => &mut counts.nurse,
        Pool::Pharmacy => &mut counts.pharmacy,
        Pool::Admin => &mut counts.admin,
    };
    *slot = slot.saturating_add(by);
}

/// Open threads waiting per pool: new or triaged threads each pool may read,
/// plus threads assigned to the pool.
pub fn pool_counts(conn: &dyn Sql) -> Result<PoolCounts, DbError> {
    Ok(waiting_counts(conn)?.0)
}

/// What a push counts, from one query: open threads waiting per pool (new
/// or triaged threads each pool may read, plus threads assigned to the
/// pool), and threads new or triaged (not assigned) per category, in
/// [`Category::ALL`] order, categories with none left out.
pub fn waiting_counts(conn: &dyn Sql) -> Result<(PoolCounts, Vec<CategoryCount>), DbError> {
    let rows = conn.query_map(
        "SELECT state_kind, category, queue_pool, COUNT(*) FROM threads
         WHERE state_kind IN ('new', 'triaged', 'assigned') GROUP BY state_kind, category, queue_pool",
        args![],
        |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?, r.get::<u64>(3)?)),
    )?;
    let mut pools = PoolCounts::default();
    let mut categories: Vec<CategoryCount> = Vec::new();
    for (kind, category, queue, n) in rows {
        if kind == "assigned" {
            if let Some(q) = queue {
                bump(&mut pools, from_key::<Pool>(&q, "queue pool")?, n);
            }
            continue;
        }
        let category: Category = from_key(&category, "category")?;
        for pool in pools_that_can_read(category) {
            bump(&mut pools, pool, n);
        }
        match categories.iter_mut().find(|c| c.category == category) {
            Some(c) => c.count = c.count.saturating_add(n),
            None => categories.push(CategoryCount { category, count: n }),
        }
    }
    categories.sort_by_key(|c| Category::ALL.iter().position(|k| *k == c.category));
    Ok((pools, categories))
}

/// The categories of `threads` (those the hub knows): a query per
/// thousand threads, not one each (a busy second's publication names
/// hundreds).
fn categories(conn: &dyn Sql, threads: &[ThreadId]) -> Result<Vec<(ThreadId, Category)>, DbError> {
    let mut out = Vec::with_capacity(threads.len());
    for chunk in threads.chunks(1000) {
        let params: Vec<Param<'_>> = chunk.iter().map(|t| t.0.param()).collect();
        let sql = format!("SELECT id, category FROM threads WHERE id IN ({})", list(chunk.len(), 1));
        for row in conn.query_rows(&sql, &params, chunk.len())? {
            out.push((ThreadId(row.get(0)?), from_key(&row.get::<String>(1)?, "category")?));
        }
    }
    Ok(out)
}

/// `GET /v1/events`: first the current position and counts, then an event
/// whenever something changes, until the reader's token no longer stands.
pub async fn get_events(
    State(state): State<AppState>,
    who: EventsReader,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let role = who.role;
    let rx = state.events.subscribe();
    let first = state
        .db
        .call(|conn| {
            let (pools, waiting) = waiting_counts(conn)?;
            Ok::<_, ApiError>(PushEvent {
                seq: store::latest_seq(conn)?,
                thread_ids: Vec::new(),
                pools,
                waiting,
            })
        })
        .await?;
    let head = stream::once(async move { Ok(Rendered::new(&first, &[], Instant::now()).sse(role)) });
    // Counted while the stream is open; each event's latency observed as
    // it is handed to the stream.
    let open = state.metrics.stream_opened();
    let metrics = state.metrics.clone();
    // A lagging subscriber skips to the next event; it syncs by cursor anyway.
    let tail = BroadcastStream::new(rx).filter_map(move |item| {
        let _open = &open;
        let event = item.ok().map(|e| {
            metrics.pushed(e.since);
            Ok(e.sse(role))
        });
        async move { event }
    });
    let ended = token_ended(state.clone(), who);
    Ok(Sse::new(head.chain(tail).take_until(ended))
        .keep_alive(KeepAlive::new().interval(state.config.keep_alive)))
}

/// Resolves once `who`'s token no longer stands (checked every
/// `stream_recheck`), or the hub cannot tell.
async fn token_ended(state: AppState, who: EventsReader) {
    let mut tick = tokio::time::interval(state.config.stream_recheck);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let (reader, now) = (who.clone(), state.now());
        match state.db.read(move |conn| Ok::<_, ApiError>(reader.still_stands(conn, now)?)).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_told_twice_is_passed_on_once() {
        let bus = EventBus::new();
        bus.changed(1, ThreadId(7));
        bus.changed(2, ThreadId(10));
        let first = bus.take();
        assert_eq!(
            (first.seq, first.threads.into_iter().collect::<Vec<_>>()),
            (2, vec![ThreadId(7), ThreadId(10)])
        );
        // The fan-out hearing the node's own change, after it was passed on.
        bus.changed(1, ThreadId(7));
        assert!(bus.take().threads.is_empty());
        bus.changed(3, ThreadId(7));
        assert_eq!(bus.take().threads.into_iter().collect::<Vec<_>>(), vec![ThreadId(7)]);
    }
}
