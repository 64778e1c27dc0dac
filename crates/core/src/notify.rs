//! Blind notifications: one code path, whose inputs are counts, pool names
//! and an urgency count ([`Arrivals`]) — types that cannot carry a patient
//! name, a medication or message text. Templates only ("Sealbox: 3 new
//! messages (1 urgent)"); coalesced to at most one per 30 s unless
//! something urgent arrives; none while Sealbox's window has focus. A
//! setting may turn them off; nothing can make them richer.
//!
//! - [`BlindNotifier`]: the pure rules (clock passed in).
//! - [`locked`]: counting from the hub's events while locked.
//! - [`desktop`]: the OS sink (notify-rust over D-Bus on Linux).

pub mod desktop;
pub mod locked;

use sealbox_model::hub_api::PoolCounts;
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::pool::Pool;

use crate::sync::plan::PagePlan;
use crate::time::after;

/// At most one notification per this long, unless urgent.
pub const COALESCE: SignedDuration = SignedDuration::from_secs(30);

/// New patient messages: how many per pool, how many urgent. Nothing else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arrivals {
    by_pool: [u32; 4],
    urgent: u32,
}

fn slot(pool: Pool) -> usize {
    match pool {
        Pool::Gp => 0,
        Pool::Nurse => 1,
        Pool::Pharmacy => 2,
        Pool::Admin => 3,
    }
}

impl Arrivals {
    /// One new message in `pool`'s queue.
    pub fn add(&mut self, pool: Pool, urgent: bool) {
        self.by_pool[slot(pool)] = self.by_pool[slot(pool)].saturating_add(1);
        self.urgent = self.urgent.saturating_add(u32::from(urgent));
    }

    /// Adds `other`.
    pub fn merge(&mut self, other: &Arrivals) {
        for (a, b) in self.by_pool.iter_mut().zip(other.by_pool) {
            *a = a.saturating_add(b);
        }
        self.urgent = self.urgent.saturating_add(other.urgent);
    }

    /// All of them.
    pub fn total(&self) -> u32 {
        self.by_pool.iter().fold(0u32, |a, b| a.saturating_add(*b))
    }

    /// How many are urgent.
    pub fn urgent(&self) -> u32 {
        self.urgent
    }

    /// The patient messages a synced page brought, by their thread's queue
    /// and red flag (unlocked: the device has opened them).
    pub fn from_plan(plan: &PagePlan) -> Arrivals {
        let mut out = Arrivals::default();
        for (thread, message) in &plan.messages {
            if !message.is_from_patient() {
                continue;
            }
            if let Some(t) = plan.threads.iter().find(|t| t.record.id == *thread) {
                out.add(t.record.pool, t.record.urgent);
            }
        }
        out
    }

    /// Growth of the waiting counts in the hub's events for `pools` (locked:
    /// no decryption, so no urgency either).
    pub fn from_waiting(before: &PoolCounts, after: &PoolCounts, pools: &[Pool]) -> Arrivals {
        let count = |c: &PoolCounts, p: Pool| match p {
            Pool::Gp => c.gp,
            Pool::Nurse => c.nurse,
            Pool::Pharmacy => c.pharmacy,
            Pool::Admin => c.admin,
        };
        let mut out = Arrivals::default();
        for pool in pools {
            let grew = count(after, *pool).saturating_sub(count(before, *pool));
            out.by_pool[slot(*pool)] = u32::try_from(grew).unwrap_or(u32::MAX);
        }
        out
    }
}

/// A notification as shown: fixed text with numbers and pool names. Built
/// only by [`BlindNotifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindNotification {
    summary: String,
    body: String,
}

impl BlindNotification {
    /// "Sealbox: 3 new messages (1 urgent)".
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// "In the GP and nurse queues."
    pub fn body(&self) -> &str {
        &self.body
    }

    fn render(a: &Arrivals) -> BlindNotification {
        let n = a.total();
        let plural = if n == 1 { "message" } else { "messages" };
        let summary = if a.urgent > 0 {
            format!("Sealbox: {n} new {plural} ({} urgent)", a.urgent)
        } else {
            format!("Sealbox: {n} new {plural}")
        };
        let names: Vec<&str> = Pool::ALL
            .iter()
            .filter(|p| a.by_pool[slot(**p)] > 0)
            .map(|p| match p {
                Pool::Gp => "GP",
                Pool::Nurse => "nurse",
                Pool::Pharmacy => "pharmacy",
                Pool::Admin => "admin",
            })
            .collect();
        let body = match names.as_slice() {
            [] => String::new(),
            [one] => format!("In the {one} queue."),
            [rest @ .., last] => format!("In the {} and {last} queues.", rest.join(", ")),
        };
        BlindNotification { summary, body }
    }
}

/// The rules: coalescing, focus, the off switch.
#[derive(Debug, Clone)]
pub struct BlindNotifier {
    enabled: bool,
    pending: Arrivals,
    last_shown: Option<Timestamp>,
}

impl BlindNotifier {
    /// On or off (the user's setting).
    pub fn new(enabled: bool) -> Self {
        BlindNotifier { enabled, pending: Arrivals::default(), last_shown: None }
    }

    /// Turns notifications on or off.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if !enabled {
            self.pending = Arrivals::default();
        }
    }

    /// New arrivals at `now`. Returns what to show now, if anything; what
    /// is held back is shown by [`BlindNotifier::tick`] at [`BlindNotifier::due`].
    pub fn arrived(
        &mut self,
        arrivals: Arrivals,
        focused: bool,
        now: Timestamp,
    ) -> Option<BlindNotification> {
        if !self.enabled || focused {
            // The clinician is looking at the inbox (or wants none).
            self.pending = Arrivals::default();
            return None;
        }
        self.pending.merge(&arrivals);
        let urgent_now = arrivals.urgent > 0;
        self.show_if(urgent_now, now)
    }

    /// When held-back arrivals may be shown (None: nothing held back).
    pub fn due(&self) -> Option<Timestamp> {
        if self.pending.total() == 0 {
            return None;
        }
        Some(self.last_shown.map_or(Timestamp::MIN, |t| after(t, COALESCE)))
    }

    /// The timer for [`BlindNotifier::due`] fired.
    pub fn tick(&mut self, focused: bool, now: Timestamp) -> Option<BlindNotification> {
        if !self.enabled || focused {
            self.pending = Arrivals::default();
            return None;
        }
        self.show_if(false, now)
    }

    fn show_if(&mut self, urgent: bool, now: Timestamp) -> Option<BlindNotification> {
        if self.pending.total() == 0 {
            return None;
        }
        let window_over = self.last_shown.is_none_or(|t| now >= after(t, COALESCE));
        if !(urgent || window_over) {
            return None;
        }
        let shown = BlindNotification::render(&self.pending);
        self.pending = Arrivals::default();
        self.last_shown = Some(now);
        Some(shown)
    }
}

#[cfg(test)]
mod tests;
