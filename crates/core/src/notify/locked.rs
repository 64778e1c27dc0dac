//! While Sealbox is locked: the session is gone and nothing can be
//! decrypted, but the hub's event stream — held with the counts-only token
//! — still says how many threads wait in each pool. Growth in this
//! device's pools becomes a blind notification.

use std::time::Duration;

use sealbox_model::hub_api::PoolCounts;
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;
use tokio::sync::watch;

use super::desktop::NotificationSink;
use super::{Arrivals, BlindNotification, BlindNotifier};
use crate::sync::client::{EventStream, HubClient};
use crate::sync::SyncError;
use crate::workstation::CountsOnly;

/// What a locked workstation may count: each clinician who locked here
/// since the app started keeps their pools and their counts-only client
/// (12 hours, `GET /v1/events` only). A notification counts the pools of
/// them all together — what the workstation's clinicians together may
/// read — and never says whose.
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

    /// What to watch: per practice hub, the newest counts-only client for
    /// it and the pools of every clinician on it, each pool once.
    pub fn watches(&self) -> Vec<(HubClient, Vec<Pool>)> {
        let mut out: Vec<(HubClient, Vec<Pool>)> = Vec::new();
        for (_, counts) in self.seats.iter().rev() {
            let at = match out.iter().position(|(hub, _)| hub.base() == counts.hub.base()) {
                Some(at) => at,
                None => {
                    out.push((counts.hub.clone(), Vec::new()));
                    out.len() - 1
                }
            };
            if let Some((_, pools)) = out.get_mut(at) {
                for pool in &counts.pools {
                    if !pools.contains(pool) {
                        pools.push(*pool);
                    }
                }
            }
        }
        for (_, pools) in &mut out {
            pools.sort_by_key(|p| Pool::ALL.iter().position(|q| q == p));
        }
        out
    }
}

/// A locked desktop's view of the hub's waiting counts. `connect` reads
/// the first event (the baseline); `run` notifies of growth after it.
#[derive(Debug)]
pub struct LockedWatch {
    events: EventStream,
    last: PoolCounts,
}

impl LockedWatch {
    /// Opens the event stream of `hub` (a client holding the counts-only
    /// token) and takes the current counts as the baseline.
    pub async fn connect(hub: &HubClient, stall: Duration) -> Result<Self, SyncError> {
        let mut events = hub.events().await?;
        let first = events.next(stall).await?.ok_or(SyncError::Unreachable("the event stream ended"))?;
        Ok(LockedWatch { events, last: first.pools })
    }

    /// Notifies through `sink` of new waiting threads in `pools` until
    /// `stop` turns true; returns the notifications shown. A notification
    /// service that fails is skipped: the next one may work, and nothing
    /// clinical is at stake.
    pub async fn run(
        mut self,
        pools: &[Pool],
        notifier: &mut BlindNotifier,
        sink: &(dyn NotificationSink + Sync),
        now: &(dyn Fn() -> Timestamp + Sync),
        mut stop: watch::Receiver<bool>,
        stall: Duration,
    ) -> Result<Vec<BlindNotification>, SyncError> {
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
                event = self.events.next(stall) => {
                    let Some(event) = event? else { return Err(SyncError::Unreachable("the event stream ended")) };
                    let arrivals = Arrivals::from_waiting(&self.last, &event.pools, pools);
                    if arrivals.total() > 0 {
                        show(notifier.arrived(arrivals, false, now()));
                    }
                    self.last = event.pools;
                }
                _ = tokio::time::sleep(wait), if notifier.due().is_some() => show(notifier.tick(false, now())),
                _ = stop.changed() => return Ok(shown),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn counts(hub: &str, pools: &[Pool]) -> CountsOnly {
        CountsOnly { hub: HubClient::new(hub, "counts-only".to_owned()).unwrap(), pools: pools.to_vec() }
    }

    #[test]
    fn a_locked_room_counts_everyone_s_pools_once_per_hub_and_forgets_a_removed_clinician() {
        let mut room = LockedRoom::default();
        assert!(room.watches().is_empty(), "nobody locked here yet: nothing to count");
        room.keep("gp", counts("http://127.0.0.1:9001", &[Pool::Gp, Pool::Nurse]));
        room.keep("pharmacist", counts("http://127.0.0.1:9001", &[Pool::Pharmacy, Pool::Gp]));
        let watches = room.watches();
        assert_eq!(watches.len(), 1, "one practice hub: one stream");
        assert_eq!(watches[0].1, [Pool::Gp, Pool::Nurse, Pool::Pharmacy]);

        // The GP locks again: their entry is replaced, not added.
        room.keep("gp", counts("http://127.0.0.1:9001", &[Pool::Gp]));
        assert_eq!(room.watches()[0].1, [Pool::Gp, Pool::Pharmacy]);

        // A seat on another practice's hub is counted on its own stream.
        room.keep("locum", counts("http://127.0.0.1:9002", &[Pool::Admin]));
        let watches = room.watches();
        assert_eq!(watches.len(), 2);
        assert!(watches.iter().any(|(hub, pools)| hub.base().ends_with(":9002") && pools == &[Pool::Admin]));

        room.forget("pharmacist");
        room.forget("locum");
        assert_eq!(room.watches()[0].1, [Pool::Gp], "a removed clinician's pools are still counted");
    }
}
