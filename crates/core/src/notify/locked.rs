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
