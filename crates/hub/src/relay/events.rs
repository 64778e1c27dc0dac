//! Push: `GET /v1/events` streams server-sent events. Writers call
//! [`EventBus::changed`]; a publisher task coalesces what changed, counts the
//! waiting threads per pool and broadcasts one [`PushEvent`] (ids and counts
//! only, never content). Each SSE event's `id` is the change-log seq.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use rusqlite::Connection;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{PoolCounts, PushEvent};
use sealbox_model::ids::ThreadId;
use sealbox_model::permissions::pools_that_can_read;
use sealbox_model::pool::Pool;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, Notify};
use tokio_stream::wrappers::BroadcastStream;

use super::store::{self, from_key};
use crate::auth::EventsReader;
use crate::db::DbError;
use crate::http::ApiError;
use crate::state::AppState;

/// An event serialised once, shared by every subscriber's stream (with a
/// thousand clients, rendering per subscriber was the publisher's main cost).
#[derive(Debug)]
pub struct Rendered {
    seq: u64,
    json: String,
}

impl Rendered {
    fn new(e: &PushEvent) -> Self {
        Rendered { seq: e.seq, json: serde_json::to_string(e).unwrap_or_else(|_| "{}".to_owned()) }
    }

    fn sse(&self) -> Event {
        Event::default().event("change").id(self.seq.to_string()).data(self.json.as_str())
    }
}

#[derive(Debug, Default)]
struct Pending {
    seq: u64,
    threads: BTreeSet<ThreadId>,
}

/// The fan-out of push events.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Rendered>>,
    pending: Arc<Mutex<Pending>>,
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
        EventBus { tx, pending: Arc::new(Mutex::new(Pending::default())), wake: Arc::new(Notify::new()) }
    }

    /// Records that `thread` changed at `seq` (call after commit).
    pub fn changed(&self, seq: u64, thread: ThreadId) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.seq = p.seq.max(seq);
        p.threads.insert(thread);
        drop(p);
        self.wake.notify_one();
    }

    /// A receiver of future events, each rendered once for every subscriber.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Rendered>> {
        self.tx.subscribe()
    }

    fn take(&self) -> Pending {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
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
        match state.db.read_for_push(|conn| pool_counts(conn).map_err(ApiError::from)).await {
            Ok(pools) => {
                let event =
                    PushEvent { seq: pending.seq, thread_ids: pending.threads.into_iter().collect(), pools };
                // No subscribers is fine.
                let _ = bus.tx.send(Arc::new(Rendered::new(&event)));
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
pub fn pool_counts(conn: &Connection) -> Result<PoolCounts, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT state_kind, category, queue_pool, COUNT(*) FROM threads
         WHERE state_kind IN ('new', 'triaged', 'assigned') GROUP BY state_kind, category, queue_pool",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut counts = PoolCounts::default();
    for row in rows {
        let (kind, category, queue, n) = row?;
        let n = u64::try_from(n).unwrap_or(0);
        if kind == "assigned" {
            if let Some(q) = queue {
                bump(&mut counts, from_key::<Pool>(&q, "queue pool")?, n);
            }
        } else {
            let category: Category = from_key(&category, "category")?;
            for pool in pools_that_can_read(category) {
                bump(&mut counts, pool, n);
            }
        }
    }
    Ok(counts)
}

/// `GET /v1/events`: first the current position and counts, then an event
/// whenever something changes.
pub async fn get_events(
    State(state): State<AppState>,
    _who: EventsReader,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let rx = state.events.subscribe();
    let first = state
        .db
        .call(|conn| {
            Ok::<_, ApiError>(PushEvent {
                seq: store::latest_seq(conn)?,
                thread_ids: Vec::new(),
                pools: pool_counts(conn)?,
            })
        })
        .await?;
    let head = stream::once(async move { Ok(Rendered::new(&first).sse()) });
    // A lagging subscriber skips to the next event; it syncs by cursor anyway.
    let tail = BroadcastStream::new(rx).filter_map(|item| async move { item.ok().map(|e| Ok(e.sse())) });
    Ok(Sse::new(head.chain(tail)).keep_alive(KeepAlive::new().interval(state.config.keep_alive)))
}
