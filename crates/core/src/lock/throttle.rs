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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FailedUnlock {
    /// When.
    pub at: Timestamp,
    /// "wrong_key", "wrong_pin", "cancelled", "hub_refused", ...
    pub reason: String,
}

/// The unlock screen's guard. Kept in a file beside the profile
/// ([`UnlockThrottle::load`], [`UnlockThrottle::save`]) so quitting and
/// restarting the app neither resets the count nor loses a failure from
/// the audit trail.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
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
        self.unaudited.push(FailedUnlock { at: now, reason: reason.to_owned() });
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

/// The throttle's file in the device's data folder.
pub const THROTTLE_FILE: &str = "unlock-throttle.json";

impl UnlockThrottle {
    /// The throttle kept in `dir`, or a fresh one when there is none. A
    /// file that cannot be read (damaged, or edited by hand) is taken as
    /// [`FREE_ATTEMPTS`] failures, so the next failure waits: removing or
    /// spoiling it never buys more guesses than a restart would.
    pub fn load(dir: &std::path::Path) -> Result<Self, std::io::Error> {
        let bytes = match std::fs::read(dir.join(THROTTLE_FILE)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e),
        };
        let mut throttle = serde_json::from_slice::<Self>(&bytes)
            .unwrap_or(UnlockThrottle { in_a_row: FREE_ATTEMPTS, ..Self::default() });
        // What goes into the audit chain stays a short key, whatever the file held.
        for f in &mut throttle.unaudited {
            if f.reason.is_empty()
                || f.reason.len() > 32
                || !f.reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                f.reason = "failed".to_owned();
            }
        }
        Ok(throttle)
    }

    /// Writes the throttle to `dir`, atomically and durably.
    pub fn save(&self, dir: &std::path::Path) -> Result<(), std::io::Error> {
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::durable::write(dir, THROTTLE_FILE, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_a_restart_and_a_spoiled_file_does_not_reset_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut th = UnlockThrottle::load(dir.path()).unwrap();
        for i in 0..FREE_ATTEMPTS {
            th.failed(t(i64::from(i)), "wrong_pin");
        }
        th.save(dir.path()).unwrap();
        let mut back = UnlockThrottle::load(dir.path()).unwrap();
        assert!(back.check(t(10)).is_err(), "a restart must not reset the wait");
        assert_eq!(back.wait_left(t(10)), th.wait_left(t(10)));
        let audited = back.succeeded();
        assert_eq!(audited.len(), FREE_ATTEMPTS as usize);
        assert!(audited.iter().all(|f| f.reason == "wrong_pin"));

        // A reason edited into the file reaches the audit chain only as a key.
        let edited = r#"{"in_a_row":1,"wait_until":null,"unaudited":[{"at":"2025-11-24T09:00:00Z","reason":"Dr X did it"}]}"#;
        std::fs::write(dir.path().join(THROTTLE_FILE), edited).unwrap();
        assert_eq!(UnlockThrottle::load(dir.path()).unwrap().succeeded()[0].reason, "failed");

        std::fs::write(dir.path().join(THROTTLE_FILE), b"{not json").unwrap();
        let mut spoiled = UnlockThrottle::load(dir.path()).unwrap();
        assert!(spoiled.failed(t(100), "wrong_pin").is_some(), "a spoiled file counts as five failures");
    }

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
        assert_eq!(failures[0], FailedUnlock { at: t(0), reason: "wrong_pin".to_owned() });
        assert!(g.check(t(6)).is_ok());
        assert_eq!(g.failed(t(7), "wrong_pin"), None, "the count restarted");
        assert_eq!(g.succeeded().len(), 1);
    }
}
