//! Failed unlocks: after five in a row, a growing wait before the next
//! attempt (30 s, doubling, at most 15 minutes). Every failure is kept —
//! while locked the cache cannot be written — and handed over at the next
//! successful unlock, to go into the audit chain.

use sealbox_model::jiff::{SignedDuration, Timestamp};

use crate::time::after;

/// Failures allowed before waits begin.
pub const FREE_ATTEMPTS: u32 = 5;
/// The first wait.
pub const FIRST_WAIT: SignedDuration = SignedDuration::from_secs(30);
/// The longest wait.
pub const LONGEST_WAIT: SignedDuration = SignedDuration::from_mins(15);

/// A failed attempt, for the audit log (no secrets; the reason is a key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedUnlock {
    /// When.
    pub at: Timestamp,
    /// "wrong_key", "wrong_pin", "cancelled", "hub_refused", ...
    pub reason: &'static str,
}

/// The unlock screen's guard.
#[derive(Debug, Clone, Default)]
pub struct UnlockThrottle {
    in_a_row: u32,
    wait_until: Option<Timestamp>,
    unaudited: Vec<FailedUnlock>,
}

/// Too soon: try again at this time. Shown on the lock page, so it says
/// when (UK time, to the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed attempts; try again at {}", shown(*at))]
pub struct TryLater {
    /// When the next attempt is allowed.
    pub at: Timestamp,
}

fn shown(at: Timestamp) -> String {
    match sealbox_model::calendar::uk_time_zone() {
        Ok(tz) => at.to_zoned(tz).strftime("%H:%M:%S").to_string(),
        Err(_) => format!("{} UTC", at.strftime("%H:%M:%S")),
    }
}

impl UnlockThrottle {
    /// May an attempt start at `now`?
    pub fn check(&self, now: Timestamp) -> Result<(), TryLater> {
        match self.wait_until {
            Some(at) if now < at => Err(TryLater { at }),
            _ => Ok(()),
        }
    }

    /// The wait left at `now` (zero when an attempt may start), for the
    /// lock screen's countdown.
    pub fn wait_left(&self, now: Timestamp) -> SignedDuration {
        match self.wait_until {
            Some(at) if now < at => now.duration_until(at),
            _ => SignedDuration::ZERO,
        }
    }

    /// An attempt failed; returns when the next may start, if it must wait.
    pub fn failed(&mut self, now: Timestamp, reason: &'static str) -> Option<Timestamp> {
        self.unaudited.push(FailedUnlock { at: now, reason });
        self.in_a_row = self.in_a_row.saturating_add(1);
        if self.in_a_row < FREE_ATTEMPTS {
            return None;
        }
        let doublings = (self.in_a_row - FREE_ATTEMPTS).min(16);
        let wait = FIRST_WAIT.checked_mul(1i32 << doublings).unwrap_or(LONGEST_WAIT).min(LONGEST_WAIT);
        let at = after(now, wait);
        self.wait_until = Some(at);
        Some(at)
    }

    /// An attempt succeeded: the count restarts. Returns the failures to
    /// audit now that the cache is open.
    pub fn succeeded(&mut self) -> Vec<FailedUnlock> {
        self.in_a_row = 0;
        self.wait_until = None;
        std::mem::take(&mut self.unaudited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(sec: i64) -> Timestamp {
        Timestamp::from_second(1_763_974_800 + sec).unwrap()
    }

    #[test]
    fn five_free_attempts_then_waits_that_grow_to_a_cap() {
        let mut g = UnlockThrottle::default();
        for i in 0..4 {
            assert!(g.check(t(i)).is_ok());
            assert_eq!(g.failed(t(i), "wrong_pin"), None);
        }
        assert_eq!(g.failed(t(4), "wrong_pin"), Some(t(34)), "the fifth failure: 30 s");
        assert_eq!(g.check(t(33)), Err(TryLater { at: t(34) }));
        assert_eq!(g.wait_left(t(4)), SignedDuration::from_secs(30), "the countdown starts at 30 s");
        assert_eq!(g.wait_left(t(33)), SignedDuration::from_secs(1));
        assert_eq!(g.wait_left(t(34)), SignedDuration::ZERO);
        let wait = TryLater { at: Timestamp::from_second(1_750_000_034).unwrap() }.to_string();
        assert_eq!(wait, "too many failed attempts; try again at 16:07:14", "UK time (BST)");
        assert!(g.check(t(34)).is_ok());
        assert_eq!(g.failed(t(34), "wrong_key"), Some(t(94)), "then 60 s");
        assert_eq!(g.failed(t(94), "wrong_key"), Some(t(214)), "then 120 s");
        for _ in 0..10 {
            g.failed(t(1000), "cancelled");
        }
        assert_eq!(g.failed(t(5000), "cancelled"), Some(t(5900)), "never more than 15 minutes");
    }

    #[test]
    fn success_resets_and_hands_over_every_failure_for_the_audit_log() {
        let mut g = UnlockThrottle::default();
        for i in 0..6 {
            g.failed(t(i), if i % 2 == 0 { "wrong_pin" } else { "wrong_key" });
        }
        let failures = g.succeeded();
        assert_eq!(failures.len(), 6);
        assert_eq!(failures[0], FailedUnlock { at: t(0), reason: "wrong_pin" });
        assert!(g.check(t(6)).is_ok());
        assert_eq!(g.failed(t(7), "wrong_pin"), None, "the count restarted");
        assert_eq!(g.succeeded().len(), 1);
    }
}
