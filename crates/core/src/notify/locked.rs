//! While Sealbox is locked: the session is gone and nothing can be
//! decrypted, but the hub's event stream — held with the counts-only token
//! — still says how many threads wait. Growth becomes a blind notification.
//!
//! On a shared workstation each clinician who locked here left a
//! counts-only token of their own ([`LockedRoom`]); the hub renders each
//! stream for its role (the categories that role may read, its own pool's
//! assigned threads). [`LockedWatch`] reads them all and counts each
//! waiting thread once — by category, so a refill a GP and a pharmacist
//! may both read is one new message, not two — and never says whose.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use sealbox_model::category::Category;
use sealbox_model::hub_api::{PoolCounts, PushEvent};
use sealbox_model::jiff::Timestamp;
use sealbox_model::permissions::can_read_thread;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use tokio::sync::watch;

use super::desktop::NotificationSink;
use super::{Arrivals, BlindNotification, BlindNotifier};
use crate::sync::client::{EventStream, HubClient};
use crate::sync::SyncError;
use crate::workstation::CountsOnly;

/// What a locked workstation may count: each clinician who locked here
/// since the app started keeps their role and their counts-only client
/// (12 hours, `GET /v1/events` only). The notifications count what the
/// workstation's clinicians together may read, and never say whose.
#[derive(Debug, Default)]
pub struct LockedRoom {
    /// Per clinician (staff id), oldest lock first.
    seats: Vec<(String, CountsOnly)>,
}

impl LockedRoom {
    /// Keeps what `user`'s lock left (replacing what their last one did).
    pub fn keep(&mut self, user: &str, counts: CountsOnly) {
        self.seats.retain(|(u, _)| u != user);
        self.seats.push((user.to_owned(), counts));
    }

    /// Forgets `user` (removed from this workstation).
    pub fn forget(&mut self, user: &str) {
        self.seats.retain(|(u, _)| u != user);
    }

    /// The streams to read: one per practice hub and role (the newest
    /// client for it: two GPs here read the same stream).
    pub fn streams(&self) -> Vec<(HubClient, Role)> {
        let mut out: Vec<(HubClient, Role)> = Vec::new();
        for (_, counts) in self.seats.iter().rev() {
            if !out.iter().any(|(hub, role)| hub.base() == counts.hub.base() && *role == counts.role) {
                out.push((counts.hub.clone(), counts.role));
            }
        }
        out
    }
}

/// What the streams last said, each waiting thread once: unassigned ones
/// by category (the same number on every stream that reports it), assigned
/// ones by the pool they wait in (each stream reports its own pool's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Waiting {
    by_category: BTreeMap<Category, u64>,
    assigned: BTreeMap<Pool, u64>,
}

impl Waiting {
    /// Takes in `event`, read on a stream of `role`: every category the
    /// role may read is in it (left out: none wait).
    fn update(&mut self, role: Role, event: &PushEvent) {
        let mut unassigned = 0u64;
        for category in Category::ALL.into_iter().filter(|c| can_read_thread(role, *c)) {
            let n = event.waiting.iter().find(|c| c.category == category).map_or(0, |c| c.count);
            self.by_category.insert(category, n);
            unassigned = unassigned.saturating_add(n);
        }
        let own = pool_count(&event.pools, role.pool());
        // A hub that sends no categories: the pool's count is all there is.
        self.assigned.insert(role.pool(), own.saturating_sub(unassigned));
    }

    /// What grew from `before`: unassigned threads in the queue their
    /// category lands in, assigned ones in their pool.
    fn arrivals_since(&self, before: &Waiting) -> Arrivals {
        let mut out = Arrivals::default();
        let grew = |now: u64, then: Option<&u64>| then.map_or(0, |t| now.saturating_sub(*t));
        for (category, n) in &self.by_category {
            for _ in 0..grew(*n, before.by_category.get(category)) {
                out.add(Pool::home_of(*category), false);
            }
        }
        for (pool, n) in &self.assigned {
            for _ in 0..grew(*n, before.assigned.get(pool)) {
                out.add(*pool, false);
            }
        }
        out
    }
}

fn pool_count(c: &PoolCounts, pool: Pool) -> u64 {
    match pool {
        Pool::Gp => c.gp,
        Pool::Nurse => c.nurse,
        Pool::Pharmacy => c.pharmacy,
        Pool::Admin => c.admin,
    }
}

/// A locked desktop's view of the hub's waiting counts. `connect` reads
/// each stream's first event (the baseline); `run` notifies of growth after
/// it.
#[derive(Debug)]
pub struct LockedWatch {
    streams: Vec<(EventStream, Role)>,
    waiting: Waiting,
}

impl LockedWatch {
    /// Opens the event stream of each counts-only client (with the role it
    /// counts for) and takes the current counts as the baseline.
    pub async fn connect(clients: &[(HubClient, Role)], stall: Duration) -> Result<Self, SyncError> {
        let mut streams = Vec::with_capacity(clients.len());
        let mut waiting = Waiting::default();
        for (hub, role) in clients {
            let mut events = hub.events().await?;
            let first = events.next(stall).await?.ok_or(SyncError::Unreachable("the event stream ended"))?;
            waiting.update(*role, &first);
            streams.push((events, *role));
        }
        Ok(LockedWatch { streams, waiting })
    }

    /// Notifies through `sink` of newly waiting threads until `stop` turns
    /// true; returns the notifications shown. A notification service that
    /// fails is skipped: the next one may work, and nothing clinical is at
    /// stake. Any stream ending or failing ends the watch (the shell says so
    /// on stderr; the next unlock starts afresh).
    pub async fn run(
        self,
        notifier: &mut BlindNotifier,
        sink: &(dyn NotificationSink + Sync),
        now: &(dyn Fn() -> Timestamp + Sync),
        mut stop: watch::Receiver<bool>,
        stall: Duration,
    ) -> Result<Vec<BlindNotification>, SyncError> {
        let LockedWatch { mut streams, mut waiting } = self;
        let mut shown = Vec::new();
        let mut show = |n: Option<BlindNotification>| {
            if let Some(n) = n {
                let _ = sink.show(&n);
                shown.push(n);
            }
        };
        loop {
            // Held-back arrivals are shown when their window ends, events or not.
            let wait = notifier
                .due()
                .map(|due| Duration::try_from(due.duration_since(now())).unwrap_or(Duration::ZERO))
                .unwrap_or(stall);
            tokio::select! {
                (role, event) = next_of_any(&mut streams, stall) => {
                    let Some(event) = event? else { return Err(SyncError::Unreachable("the event stream ended")) };
                    let before = waiting.clone();
                    waiting.update(role, &event);
                    let arrivals = waiting.arrivals_since(&before);
                    if arrivals.total() > 0 {
                        show(notifier.arrived(arrivals, false, now()));
                    }
                }
                _ = tokio::time::sleep(wait), if notifier.due().is_some() => show(notifier.tick(false, now())),
                _ = stop.changed() => return Ok(shown),
            }
        }
    }
}

/// The next event of whichever stream has one first, with that stream's
/// role. (`EventStream::next` keeps what it has read in the stream, so the
/// calls not chosen lose nothing when dropped.) No stream: never.
async fn next_of_any(
    streams: &mut [(EventStream, Role)],
    stall: Duration,
) -> (Role, Result<Option<PushEvent>, SyncError>) {
    type Next<'a> = Pin<Box<dyn Future<Output = Result<Option<PushEvent>, SyncError>> + Send + 'a>>;
    let mut calls: Vec<(Role, Next<'_>)> =
        streams.iter_mut().map(|(s, role)| (*role, Box::pin(s.next(stall)) as Next<'_>)).collect();
    std::future::poll_fn(|cx| {
        for (role, call) in &mut calls {
            if let Poll::Ready(event) = call.as_mut().poll(cx) {
                return Poll::Ready((*role, event));
            }
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sealbox_model::hub_api::CategoryCount;

    use super::*;

    fn counts(hub: &str, role: Role) -> CountsOnly {
        CountsOnly { hub: HubClient::new(hub, "counts-only".to_owned()).unwrap(), role }
    }

    #[test]
    fn a_locked_room_reads_one_stream_per_hub_and_role_and_forgets_a_removed_clinician() {
        let mut room = LockedRoom::default();
        assert!(room.streams().is_empty(), "nobody locked here yet: nothing to count");
        room.keep("gp", counts("http://127.0.0.1:9001", Role::Gp));
        room.keep("pharmacist", counts("http://127.0.0.1:9001", Role::Pharmacist));
        room.keep("locum", counts("http://127.0.0.1:9001", Role::Gp));
        let roles: Vec<Role> = room.streams().iter().map(|(_, r)| *r).collect();
        assert_eq!(roles, [Role::Gp, Role::Pharmacist], "two GPs read one stream");
        room.keep("navigator", counts("http://127.0.0.1:9002", Role::CareNavigator));
        assert_eq!(room.streams().len(), 3, "another practice's hub is a stream of its own");
        room.forget("pharmacist");
        room.forget("navigator");
        let roles: Vec<Role> = room.streams().iter().map(|(_, r)| *r).collect();
        assert_eq!(roles, [Role::Gp], "a removed clinician's role is still counted");
    }

    fn event(pools: PoolCounts, waiting: &[(Category, u64)]) -> PushEvent {
        PushEvent {
            seq: 1,
            thread_ids: Vec::new(),
            pools,
            waiting: waiting
                .iter()
                .map(|(category, count)| CategoryCount { category: *category, count: *count })
                .collect(),
        }
    }

    #[test]
    fn a_thread_two_roles_may_read_is_counted_once_and_assigned_ones_in_their_pool() {
        use Category::*;
        let mut w = Waiting::default();
        // The GP's stream: every category; the pharmacist's: the clinical ones.
        w.update(
            Role::Gp,
            &event(PoolCounts { gp: 3, ..Default::default() }, &[(RepeatPrescription, 1), (AdminFitNote, 1)]),
        );
        w.update(
            Role::Pharmacist,
            &event(PoolCounts { pharmacy: 1, ..Default::default() }, &[(RepeatPrescription, 1)]),
        );
        let before = w.clone();
        // A new refill: both streams say so; it is one message.
        w.update(
            Role::Pharmacist,
            &event(PoolCounts { pharmacy: 2, ..Default::default() }, &[(RepeatPrescription, 2)]),
        );
        let first = w.arrivals_since(&before);
        let before = w.clone();
        w.update(
            Role::Gp,
            &event(PoolCounts { gp: 4, ..Default::default() }, &[(RepeatPrescription, 2), (AdminFitNote, 1)]),
        );
        let second = w.arrivals_since(&before);
        assert_eq!((first.total(), second.total()), (1, 0), "the refill counted once");
        // A thread assigned to the GP pool (gp grows, no category does).
        let before = w.clone();
        w.update(
            Role::Gp,
            &event(PoolCounts { gp: 5, ..Default::default() }, &[(RepeatPrescription, 2), (AdminFitNote, 1)]),
        );
        assert_eq!(w.arrivals_since(&before).total(), 1);
        // The last fit note taken: the category is left out of the next
        // event, and a new one after it is growth from none.
        let before = w.clone();
        w.update(Role::Gp, &event(PoolCounts { gp: 4, ..Default::default() }, &[(RepeatPrescription, 2)]));
        assert_eq!(w.arrivals_since(&before).total(), 0);
        let before = w.clone();
        w.update(
            Role::Gp,
            &event(PoolCounts { gp: 5, ..Default::default() }, &[(RepeatPrescription, 2), (AdminFitNote, 1)]),
        );
        assert_eq!(w.arrivals_since(&before).total(), 1, "a fit note after none waited");
        // A hub that sends no categories: the pool's count is all there is.
        let mut old = Waiting::default();
        old.update(Role::Nurse, &event(PoolCounts { nurse: 2, ..Default::default() }, &[]));
        let before = old.clone();
        old.update(Role::Nurse, &event(PoolCounts { nurse: 4, ..Default::default() }, &[]));
        assert_eq!(old.arrivals_since(&before).total(), 2);
    }
}
