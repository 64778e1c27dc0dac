//! Running sync: send the outbox, pull pages until the hub's head, then
//! follow the event stream and pull on each event; on trouble, back off
//! with jitter and resume from the cursor stored in the cache. The status
//! (online / offline since T / N actions queued) is published for the UI.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use sealbox_model::hub_api::{Cursor, SyncPage};
use sealbox_model::jiff::Timestamp;
use tokio::sync::watch;

use super::apply::Applied;
use super::client::{HubClient, PAGE_LIMIT};
use super::keys::PoolKeyring;
use super::outbox::{self, Sent};
use super::plan::{open_page_until, plan_opened, Opened, TriageRules};
use super::{lock, SharedStore, SyncError};
use crate::audit;
use crate::notify::Arrivals;
use crate::store::{Store, StoreError};
use sealbox_crypto::ed25519_dalek::SigningKey;

/// What the UI shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncStatus {
    /// The last sync step reached the hub.
    pub online: bool,
    /// Offline since: the first failure after being online (or at start).
    pub offline_since: Option<Timestamp>,
    /// Actions waiting in the outbox.
    pub queued: usize,
    /// The last complete pull.
    pub last_synced: Option<Timestamp>,
}

/// The first retry delay after the hub is lost.
pub const RETRY_BASE: Duration = Duration::from_millis(500);
/// The longest retry delay.
pub const RETRY_CAP: Duration = Duration::from_secs(60);

/// The delay before reconnect attempt `attempt` (0-based): `base` doubling
/// to at most [`RETRY_CAP`], times a jitter factor in [0.5, 1.0] (`unit` in
/// [0, 1]), so a practice's desktops do not all return at once.
pub fn backoff(base: Duration, attempt: u32, unit: f64) -> Duration {
    let delay = base.saturating_mul(1u32 << attempt.min(16)).min(RETRY_CAP);
    delay.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

/// One clinician device's sync.
#[derive(Debug)]
pub struct Engine {
    hub: HubClient,
    keys: Arc<PoolKeyring>,
    rules: Arc<TriageRules>,
    page_limit: u32,
    retry_base: Duration,
    arrivals: Option<tokio::sync::mpsc::UnboundedSender<Arrivals>>,
    audit_key: Option<SigningKey>,
    /// Held while sending: two engines of one desk (the follow loop's and
    /// an action's) must not push the same audit links at once.
    send_gate: Arc<tokio::sync::Mutex<()>>,
}

/// What a pull did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pulled {
    /// Pages applied.
    pub pages: usize,
    /// Sum over the pages.
    pub applied: Applied,
    /// The new patient messages, by queue and urgency: what a blind
    /// notification may say about them.
    pub arrivals: Arrivals,
}

impl Engine {
    /// An engine for `hub` with this device's pool keys.
    pub fn new(hub: HubClient, keys: PoolKeyring, rules: impl Into<Arc<TriageRules>>) -> Self {
        Engine {
            hub,
            keys: Arc::new(keys),
            rules: rules.into(),
            page_limit: PAGE_LIMIT,
            retry_base: RETRY_BASE,
            arrivals: None,
            audit_key: None,
            send_gate: Arc::default(),
        }
    }

    /// Shares `gate` with the other engines of the same cache.
    pub fn with_send_gate(mut self, gate: Arc<tokio::sync::Mutex<()>>) -> Self {
        self.send_gate = gate;
        self
    }

    /// Asks for at most `limit` changes per page (1..=500; default 500).
    pub fn with_page_limit(mut self, limit: u32) -> Self {
        self.page_limit = limit.clamp(1, PAGE_LIMIT);
        self
    }

    /// Starts retry delays at `base` instead of [`RETRY_BASE`].
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// The hub connection.
    pub fn hub(&self) -> &HubClient {
        &self.hub
    }

    /// Pulls pages from the cursor in the cache until the hub has no more;
    /// each page is applied with its cursor in one transaction, so an
    /// interrupted pull resumes where the last committed page ended.
    ///
    /// Pipelined: page N+1 is fetched while page N is opened, and opened
    /// (on the blocking pool, all cores) while page N is stored, so the
    /// cache is locked only for planning and writing, never for crypto.
    pub async fn pull(&self, store: &SharedStore, now: Timestamp) -> Result<Pulled, SyncError> {
        let mut pulled = Pulled::default();
        let mut cursor = stored_cursor(&lock(store))?;
        let first = self.hub.sync_page(cursor, self.page_limit).await?;
        let mut opening = self.open_in_background(first);
        loop {
            let (more, next_cursor) = (opening.more, opening.next_cursor);
            let fetched_next =
                if more { Some(self.hub.sync_page(next_cursor, self.page_limit).await) } else { None };
            let (page, opened) = opening.finish().await?;
            let next = match fetched_next {
                Some(Ok(next_page)) => Some(Ok(self.open_in_background(next_page))),
                Some(Err(e)) => Some(Err(e)),
                None => None,
            };
            let applied = self.apply(store, cursor, &page, opened, now, &mut pulled)?;
            pulled.pages += 1;
            pulled.applied.messages += applied.messages;
            pulled.applied.threads += applied.threads;
            pulled.applied.unreadable += applied.unreadable;
            pulled.applied.not_for_this_device += applied.not_for_this_device;
            pulled.applied.patient_changes += applied.patient_changes;
            pulled.applied.patient_key_changes += applied.patient_key_changes;
            match next {
                None => return Ok(pulled),
                // The page before was stored; the failed fetch is retried
                // from its cursor.
                Some(Err(e)) => return Err(e),
                Some(Ok(next)) => {
                    cursor = next_cursor;
                    opening = next;
                }
            }
        }
    }

    /// Starts opening `page`'s envelopes on the blocking pool. A blocking
    /// task cannot be aborted: dropping the [`Opening`] (the sync dropped
    /// at lock) sets its stop flag, and the task stops within a few
    /// envelopes and drops its handle on the pool keys.
    fn open_in_background(&self, page: SyncPage) -> Opening {
        let (keys, rules) = (Arc::clone(&self.keys), Arc::clone(&self.rules));
        let (more, next_cursor) = (page.more, page.next_cursor);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::task::spawn_blocking(move || {
            let opened = open_page_until(&page.envelopes, &keys, &rules, &flag);
            drop(keys);
            (page, opened)
        });
        Opening { more, next_cursor, task, _stop: StopOnDrop(stop) }
    }

    /// Plans and applies one opened page under one lock: an action queued
    /// meanwhile is seen by the plan, so its local state stands.
    fn apply(
        &self,
        store: &SharedStore,
        cursor: Cursor,
        page: &SyncPage,
        opened: Vec<Opened>,
        now: Timestamp,
        pulled: &mut Pulled,
    ) -> Result<Applied, SyncError> {
        let ids: BTreeSet<_> = page
            .threads
            .iter()
            .map(|t| t.thread_id)
            .chain(page.envelopes.iter().map(|e| e.thread_id))
            .collect();
        let mut store = lock(store);
        if stored_cursor(&store)? != cursor {
            return Err(SyncError::Protocol("another pull moved the cursor"));
        }
        let known = store.known_threads(ids)?;
        let plan = plan_opened(page, opened, &self.rules, &known);
        pulled.arrivals.merge(&Arrivals::from_plan(&plan));
        Ok(store.apply_page(&plan, now)?)
    }

    /// Sends each sync's new arrivals (counts only) to `tx`, for the blind
    /// notifier.
    pub fn with_arrivals(mut self, tx: tokio::sync::mpsc::UnboundedSender<Arrivals>) -> Self {
        self.arrivals = Some(tx);
        self
    }

    /// Pushes the device's audit chain on every sync, in segments signed
    /// with `key` (the device's Ed25519 key).
    pub fn with_audit(mut self, key: SigningKey) -> Self {
        self.audit_key = Some(key);
        self
    }

    /// Sends the audit chain, then the outbox: an action may need the
    /// views the chain records (the hub refuses a refill approval without
    /// them).
    pub async fn send(&self, store: &SharedStore, now: Timestamp) -> Result<Sent, SyncError> {
        let _sending = self.send_gate.lock().await;
        if let Some(key) = &self.audit_key {
            audit::push(store, &self.hub, key).await?;
        }
        outbox::send(store, &self.hub, now).await
    }

    /// Sends the audit chain and the outbox, then pulls (which also brings
    /// the hub's state of any thread where an action lost a race). A hub
    /// that refuses the audit chain (a gap or a fork: the chain here was
    /// altered) stops the sync with that error.
    pub async fn sync_once(&self, store: &SharedStore, now: Timestamp) -> Result<(Sent, Pulled), SyncError> {
        let sent = self.send(store, now).await?;
        let pulled = self.pull(store, now).await?;
        if let Some(tx) = self.arrivals.as_ref().filter(|_| pulled.arrivals.total() > 0) {
            // A closed receiver only means nobody is notifying any more.
            let _ = tx.send(pulled.arrivals);
        }
        Ok((sent, pulled))
    }

    /// Syncs, then follows the event stream, syncing on each event, until
    /// `stop` turns true or the session ends. Network trouble is retried
    /// with [`backoff`]; `status` follows every change. `now` is the clock.
    pub async fn follow(
        &self,
        store: &SharedStore,
        now: &(dyn Fn() -> Timestamp + Sync),
        status: &watch::Sender<SyncStatus>,
        mut stop: watch::Receiver<bool>,
        stall: Duration,
    ) -> Result<(), SyncError> {
        let mut attempt = 0u32;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let run = async {
                self.sync_once(store, now()).await?;
                publish(status, store, true, now())?;
                attempt = 0;
                let mut events = self.hub.events().await?;
                while events.next(stall).await?.is_some() {
                    self.sync_once(store, now()).await?;
                    publish(status, store, true, now())?;
                }
                Err(SyncError::Unreachable("the event stream ended"))
            };
            let result: Result<(), SyncError> = tokio::select! {
                r = run => r,
                _ = stop.changed() => return Ok(()),
            };
            match result {
                Err(e) if e.is_transient() => {
                    publish(status, store, false, now())?;
                    let pause = backoff(self.retry_base, attempt, rand::random::<f64>());
                    attempt = attempt.saturating_add(1);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return Ok(()),
                    }
                }
                Err(e) => {
                    publish(status, store, false, now())?;
                    return Err(e);
                }
                Ok(()) => {}
            }
        }
    }
}

/// A page being opened on the blocking pool.
struct Opening {
    more: bool,
    next_cursor: Cursor,
    task: tokio::task::JoinHandle<(SyncPage, Vec<Opened>)>,
    _stop: StopOnDrop,
}

impl Opening {
    /// The flag its blocking task looks at (tests).
    #[cfg(test)]
    fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self._stop.0)
    }
}

/// Sets its flag when dropped: the opening it belongs to is not wanted.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Opening {
    async fn finish(self) -> Result<(SyncPage, Vec<Opened>), SyncError> {
        // Opening catches its workers' panics; a failed task is a defect.
        let Opening { task, _stop: stop, .. } = self;
        let opened = task.await.map_err(|_| SyncError::Opening);
        drop(stop);
        opened
    }
}

/// The cursor the cache holds (0 before the first pull).
pub fn stored_cursor(store: &Store) -> Result<Cursor, SyncError> {
    match store.sync_cursor()? {
        None => Ok(Cursor(0)),
        Some(text) => {
            text.parse().map(Cursor).map_err(|_| SyncError::Store(StoreError::Decode("sync cursor")))
        }
    }
}

fn publish(
    status: &watch::Sender<SyncStatus>,
    store: &SharedStore,
    online: bool,
    now: Timestamp,
) -> Result<(), SyncError> {
    let queued = lock(store).outbox()?.len();
    status.send_modify(|s| {
        if online {
            s.online = true;
            s.offline_since = None;
            s.last_synced = Some(now);
        } else if s.online || s.offline_since.is_none() {
            s.online = false;
            s.offline_since = Some(now);
        }
        s.queued = queued;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealbox_model::hub_api::{Base64Bytes, EnvelopeRecord, Sender};
    use sealbox_model::ids::{MessageId, ThreadId};
    use sealbox_model::pool::Pool;

    fn page(n: u64) -> SyncPage {
        let at = Timestamp::from_second(1_763_974_800).unwrap_or_default();
        SyncPage {
            envelopes: (1..=n)
                .map(|i| EnvelopeRecord {
                    seq: i,
                    thread_id: ThreadId(i),
                    message_id: MessageId(i),
                    sender: Sender::Patient,
                    received_at: at,
                    envelope: Base64Bytes(vec![0x5a; 64]),
                })
                .collect(),
            threads: Vec::new(),
            actions: Vec::new(),
            next_cursor: Cursor(n),
            more: false,
        }
    }

    fn engine() -> Engine {
        let keys =
            PoolKeyring::new("p", [(Pool::Gp, sealbox_crypto::x25519_dalek::StaticSecret::from([3u8; 32]))]);
        let hub = HubClient::new("http://127.0.0.1:9", String::new()).unwrap();
        Engine::new(hub, keys, TriageRules::uk_default().unwrap())
    }

    #[test]
    fn a_stopped_opening_opens_nothing_more() {
        let e = engine();
        let p = page(100);
        let stopped = open_page_until(&p.envelopes, &e.keys, &e.rules, &AtomicBool::new(true));
        assert_eq!(stopped.len(), 100, "every envelope accounted for");
        assert!(stopped.iter().all(|o| matches!(o, Err(r) if r == "opening stopped at lock")));
        let opened = open_page_until(&p.envelopes, &e.keys, &e.rules, &AtomicBool::new(false));
        assert!(opened.iter().all(|o| matches!(o, Err(r) if r != "opening stopped at lock")));
    }

    /// A sync dropped at lock drops its page being opened: that must tell
    /// the blocking task to stop, so it lets go of the pool keys.
    #[tokio::test]
    async fn dropping_an_opening_tells_its_blocking_task_to_stop() {
        let e = engine();
        let opening = e.open_in_background(page(10));
        let flag = opening.stop_flag();
        assert!(!flag.load(std::sync::atomic::Ordering::Relaxed));
        drop(opening);
        assert!(flag.load(std::sync::atomic::Ordering::Relaxed));
        // A finished opening is not reported as stopped.
        let done = e.open_in_background(page(3)).finish().await.unwrap();
        assert!(done.1.iter().all(|o| matches!(o, Err(r) if r != "opening stopped at lock")));
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_jitters_down_to_half() {
        assert_eq!(backoff(RETRY_BASE, 0, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(RETRY_BASE, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(RETRY_BASE, 3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(RETRY_BASE, 30, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(RETRY_BASE, 3, 0.0), Duration::from_secs(2));
        assert!(backoff(RETRY_BASE, 5, 0.3) < backoff(RETRY_BASE, 5, 0.9));
        assert_eq!(backoff(Duration::from_millis(10), 2, 1.0), Duration::from_millis(40));
    }
}
