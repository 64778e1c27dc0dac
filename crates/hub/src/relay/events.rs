//! Push: `GET /v1/events` streams server-sent events. Writers call
//! [`EventBus::changed`]; a publisher task coalesces what changed, counts the
//! waiting threads per pool (keeping them in memory: [`Backlog`]) and
//! broadcasts one [`PushEvent`] (ids and counts
//! only, never content), rendered once per role: each reader gets only the
//! threads its role may read and only its own pool's count. Each SSE
//! event's `id` is the change-log seq. A stream ends soon after its token
//! stops standing (sign-out, expiry, revocation): it is rechecked every
//! `HubConfig::stream_recheck`.

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{PoolCounts, PushEvent};
use sealbox_model::ids::ThreadId;
use sealbox_model::permissions::can_read_thread;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, Notify};
use tokio_stream::wrappers::BroadcastStream;

use super::backlog::{bump, waiting_counts, Backlog};
use super::store;
use crate::auth::EventsReader;
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
    let mut backlog = Backlog::default();
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
            .read_for_push(move |conn| {
                let counted = backlog.update(conn, &ids);
                Ok::<_, DbError>((backlog, counted))
            })
            .await;
        let counted = match read {
            Ok((kept, counted)) => {
                backlog = kept;
                counted
            }
            // The task died with the backlog: start again from a full load.
            Err(e) => {
                backlog = Backlog::default();
                Err(e)
            }
        };
        match counted {
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
