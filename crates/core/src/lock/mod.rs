//! The lock state machine: an unattended workstation locks itself.
//!
//! Pure and clock-free: every call takes `now`, so a 5-minute idle lock or
//! the 12-hour re-authentication is tested in microseconds. The shell feeds
//! it signals (input heartbeats from the webview, the OS's idle time, the
//! OS screen lock and suspend, "Lock now") and a timer at [`LockMachine::deadline`];
//! when a call returns a [`LockReason`], the shell locks: zeroize the keys,
//! close the cache, drop the hub session, show the lock page.

#[cfg(target_os = "linux")]
pub mod os_signals;
pub mod throttle;

use sealbox_model::hub_api::PracticePolicy;
use sealbox_model::jiff::{SignedDuration, Timestamp};

use crate::time::{after, before};

/// Lock after this long without activity, unless policy says shorter.
pub const DEFAULT_IDLE: SignedDuration = SignedDuration::from_mins(5);
// The bounds are the practice policy's (sealbox-model), so the hub, its
// CLI and the lock machine keep one set: 30 s..=15 min idle, at most 12 h
// between re-authentications.
/// No practice may allow longer than this.
pub const MAX_IDLE: SignedDuration = SignedDuration::from_secs(*PracticePolicy::IDLE_SECS.end() as i64);
/// The shortest idle timeout anyone may choose.
pub const MIN_IDLE: SignedDuration = SignedDuration::from_secs(*PracticePolicy::IDLE_SECS.start() as i64);
/// Full re-authentication with the security key at least this often.
pub const REAUTH_EVERY: SignedDuration = SignedDuration::from_secs(*PracticePolicy::REAUTH_SECS.end() as i64);
/// A practice may not ask for it more often than this.
pub const MIN_REAUTH: SignedDuration = SignedDuration::from_secs(*PracticePolicy::REAUTH_SECS.start() as i64);

/// A policy that breaks the rules above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LockPolicyError {
    /// The practice's maximum is outside 30 s ..= 15 min.
    #[error("a practice's idle lock must be between 30 seconds and 15 minutes")]
    PracticeMaximum,
    /// The user asked for longer than the practice allows (or below 30 s).
    #[error("you may only shorten the idle lock, to no less than 30 seconds")]
    UserChoice,
}

/// How long idle before locking, and how often to re-authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    idle: SignedDuration,
    reauth: SignedDuration,
}

impl LockPolicy {
    /// The practice's maximum (None: 15 min) and the user's choice (None:
    /// 5 min, or the practice's maximum if that is shorter).
    pub fn new(
        practice_max: Option<SignedDuration>,
        user: Option<SignedDuration>,
    ) -> Result<Self, LockPolicyError> {
        let max = practice_max.unwrap_or(MAX_IDLE);
        if max < MIN_IDLE || max > MAX_IDLE {
            return Err(LockPolicyError::PracticeMaximum);
        }
        let idle = match user {
            Some(u) if u < MIN_IDLE || u > max => return Err(LockPolicyError::UserChoice),
            Some(u) => u,
            None => DEFAULT_IDLE.min(max),
        };
        Ok(LockPolicy { idle, reauth: REAUTH_EVERY })
    }

    /// The idle timeout in force.
    pub fn idle(&self) -> SignedDuration {
        self.idle
    }

    /// A practice that asks for re-authentication more often than every
    /// 12 hours (never less often; never under 30 s).
    pub fn reauth_every(self, every: SignedDuration) -> Self {
        LockPolicy { reauth: every.clamp(MIN_REAUTH, REAUTH_EVERY), ..self }
    }

    /// How often a full re-authentication is required.
    pub fn reauth(&self) -> SignedDuration {
        self.reauth
    }
}

impl Default for LockPolicy {
    fn default() -> Self {
        LockPolicy { idle: DEFAULT_IDLE, reauth: REAUTH_EVERY }
    }
}

/// Something the shell saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Input in Sealbox's window (the webview's debounced heartbeat).
    Input,
    /// The OS reports no input anywhere for this long.
    OsIdle(SignedDuration),
    /// The OS screen was locked (logind / ScreenSaver on Linux).
    ScreenLocked,
    /// The machine is about to suspend.
    Suspending,
    /// The user chose "Lock now" (Ctrl+L or the button).
    LockNow,
    /// The USB security key that unlocked was pulled out (where the
    /// practice's policy asks for it: `lock_on_key_removal`).
    KeyRemoved,
    /// The timer set for [`LockMachine::deadline`] fired.
    Tick,
}

/// Why Sealbox locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockReason {
    /// No activity for the idle timeout.
    Idle,
    /// The OS screen locked.
    ScreenLocked,
    /// The machine suspended.
    Suspending,
    /// The user locked it.
    LockNow,
    /// The session reached the re-authentication limit.
    ReauthDue,
    /// The security key was pulled out.
    KeyRemoved,
}

impl LockReason {
    /// What the lock page and the audit log say (no patient data).
    pub fn key(self) -> &'static str {
        match self {
            LockReason::Idle => "idle",
            LockReason::ScreenLocked => "screen_locked",
            LockReason::Suspending => "suspend",
            LockReason::LockNow => "lock_now",
            LockReason::ReauthDue => "reauth_due",
            LockReason::KeyRemoved => "key_removed",
        }
    }
}

/// Locked, or unlocked since a time with the last activity seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Locked,
    Unlocked { since: Timestamp, last_activity: Timestamp },
}

/// The lock state machine. Starts locked.
#[derive(Debug, Clone)]
pub struct LockMachine {
    policy: LockPolicy,
    state: State,
    last_reason: Option<LockReason>,
}

impl LockMachine {
    /// Locked, under `policy`.
    pub fn new(policy: LockPolicy) -> Self {
        LockMachine { policy, state: State::Locked, last_reason: None }
    }

    /// True while locked.
    pub fn is_locked(&self) -> bool {
        self.state == State::Locked
    }

    /// Why it last locked (None before the first lock).
    pub fn last_reason(&self) -> Option<LockReason> {
        self.last_reason
    }

    /// The security key was verified at `at`: unlocked, the idle and the
    /// re-authentication clocks start.
    pub fn unlocked(&mut self, at: Timestamp) {
        self.state = State::Unlocked { since: at, last_activity: at };
    }

    /// Changes the policy (a shorter user choice applies at once).
    pub fn set_policy(&mut self, policy: LockPolicy) {
        self.policy = policy;
    }

    /// When the shell must next send [`Signal::Tick`] (None while locked).
    pub fn deadline(&self) -> Option<Timestamp> {
        match self.state {
            State::Locked => None,
            State::Unlocked { since, last_activity } => {
                Some(after(last_activity, self.policy.idle).min(after(since, self.policy.reauth)))
            }
        }
    }

    /// Feeds a signal seen at `now`. Returns the reason if it locks now.
    pub fn signal(&mut self, signal: Signal, now: Timestamp) -> Option<LockReason> {
        let State::Unlocked { since, last_activity } = self.state else { return None };
        let reason = match signal {
            Signal::ScreenLocked => Some(LockReason::ScreenLocked),
            Signal::Suspending => Some(LockReason::Suspending),
            Signal::LockNow => Some(LockReason::LockNow),
            Signal::KeyRemoved => Some(LockReason::KeyRemoved),
            Signal::Input | Signal::OsIdle(_) | Signal::Tick => None,
        };
        if let Some(reason) = reason {
            return Some(self.lock(reason));
        }
        // Deadlines passed before this signal count, whatever it says:
        // input arriving after the idle deadline does not undo the lock.
        if now >= after(since, self.policy.reauth) {
            return Some(self.lock(LockReason::ReauthDue));
        }
        if now >= after(last_activity, self.policy.idle) {
            return Some(self.lock(LockReason::Idle));
        }
        let seen = match signal {
            Signal::Input => now,
            Signal::OsIdle(idle) => before(now, idle.max(SignedDuration::ZERO)),
            _ => last_activity,
        };
        let last_activity = last_activity.max(seen.min(now));
        if now >= after(last_activity, self.policy.idle) {
            return Some(self.lock(LockReason::Idle));
        }
        self.state = State::Unlocked { since, last_activity };
        None
    }

    fn lock(&mut self, reason: LockReason) -> LockReason {
        self.state = State::Locked;
        self.last_reason = Some(reason);
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(sec: i64) -> Timestamp {
        Timestamp::from_second(1_763_974_800 + sec).unwrap()
    }

    fn unlocked_at_zero(policy: LockPolicy) -> LockMachine {
        let mut m = LockMachine::new(policy);
        assert!(m.is_locked(), "starts locked");
        m.unlocked(t(0));
        m
    }

    #[test]
    fn locks_at_the_idle_timeout_and_not_a_moment_before() {
        let mut m = unlocked_at_zero(LockPolicy::default());
        assert_eq!(m.deadline(), Some(t(300)));
        let just_before = t(300) - SignedDuration::from_millis(1);
        assert_eq!(m.signal(Signal::Tick, just_before), None);
        assert!(!m.is_locked());
        assert_eq!(m.signal(Signal::Tick, t(300)), Some(LockReason::Idle));
        assert!(m.is_locked());
        assert_eq!(m.deadline(), None);
        assert_eq!(m.last_reason(), Some(LockReason::Idle));
    }

    #[test]
    fn input_pushes_the_deadline_back() {
        let mut m = unlocked_at_zero(LockPolicy::default());
        assert_eq!(m.signal(Signal::Input, t(299)), None);
        assert_eq!(m.deadline(), Some(t(599)));
        assert_eq!(m.signal(Signal::Tick, t(598)), None);
        assert_eq!(m.signal(Signal::Tick, t(599)), Some(LockReason::Idle));
    }

    #[test]
    fn input_after_the_deadline_does_not_undo_the_lock() {
        let mut m = unlocked_at_zero(LockPolicy::default());
        // The timer was late (the machine was busy); the input came after.
        assert_eq!(m.signal(Signal::Input, t(301)), Some(LockReason::Idle));
    }

    #[test]
    fn os_idle_time_counts_input_anywhere() {
        let mut m = unlocked_at_zero(LockPolicy::default());
        // At 250 s the OS says the user typed elsewhere 10 s ago.
        assert_eq!(m.signal(Signal::OsIdle(SignedDuration::from_secs(10)), t(250)), None);
        assert_eq!(m.deadline(), Some(t(540)));
        // Later the OS reports long idleness: locks at the idle timeout.
        assert_eq!(m.signal(Signal::OsIdle(SignedDuration::from_secs(300)), t(540)), Some(LockReason::Idle));
    }

    #[test]
    fn screen_lock_suspend_and_lock_now_lock_at_once() {
        for (signal, reason) in [
            (Signal::ScreenLocked, LockReason::ScreenLocked),
            (Signal::Suspending, LockReason::Suspending),
            (Signal::LockNow, LockReason::LockNow),
            (Signal::KeyRemoved, LockReason::KeyRemoved),
        ] {
            let mut m = unlocked_at_zero(LockPolicy::default());
            assert_eq!(m.signal(signal, t(1)), Some(reason));
            assert!(m.is_locked());
            assert_eq!(m.signal(Signal::Input, t(2)), None, "signals while locked do nothing");
        }
    }

    #[test]
    fn re_authentication_is_due_every_12_hours_however_busy() {
        let mut m = unlocked_at_zero(LockPolicy::default());
        let mut now = t(0);
        let reauth = t(12 * 3600);
        while now < reauth - SignedDuration::from_secs(60) {
            now += SignedDuration::from_secs(60);
            assert_eq!(m.signal(Signal::Input, now), None);
        }
        assert_eq!(m.deadline(), Some(reauth));
        assert_eq!(m.signal(Signal::Input, reauth), Some(LockReason::ReauthDue));
    }

    #[test]
    fn a_practice_may_ask_for_reauthentication_sooner_never_later() {
        let p = LockPolicy::default().reauth_every(SignedDuration::from_mins(40));
        assert_eq!(p.reauth(), SignedDuration::from_mins(40));
        assert_eq!(LockPolicy::default().reauth_every(SignedDuration::from_hours(13)).reauth(), REAUTH_EVERY);
        assert_eq!(LockPolicy::default().reauth_every(SignedDuration::from_secs(1)).reauth(), MIN_REAUTH);
        assert_eq!(
            (MIN_IDLE.as_secs(), MAX_IDLE.as_secs(), MIN_REAUTH.as_secs(), REAUTH_EVERY.as_secs()),
            (30, 15 * 60, 30, 12 * 3600),
            "the policy's bounds"
        );
        // Busy all along, the sooner re-authentication still locks.
        let mut m = unlocked_at_zero(
            LockPolicy::new(None, None).unwrap().reauth_every(SignedDuration::from_mins(40)),
        );
        for minute in 1..40 {
            assert_eq!(m.signal(Signal::Input, t(minute * 60)), None);
        }
        assert_eq!(m.deadline(), Some(t(40 * 60)));
        assert_eq!(m.signal(Signal::Tick, t(40 * 60)), Some(LockReason::ReauthDue));
    }

    #[test]
    fn policy_the_practice_caps_and_the_user_may_only_shorten() {
        assert_eq!(LockPolicy::new(None, None).unwrap().idle(), DEFAULT_IDLE);
        let three = SignedDuration::from_mins(3);
        assert_eq!(LockPolicy::new(Some(three), None).unwrap().idle(), three);
        assert_eq!(
            LockPolicy::new(Some(MAX_IDLE), Some(SignedDuration::from_mins(2))).unwrap().idle().as_secs(),
            120
        );
        assert_eq!(
            LockPolicy::new(Some(SignedDuration::from_mins(16)), None),
            Err(LockPolicyError::PracticeMaximum)
        );
        assert_eq!(
            LockPolicy::new(Some(three), Some(SignedDuration::from_mins(4))),
            Err(LockPolicyError::UserChoice),
            "longer than the practice allows"
        );
        assert_eq!(
            LockPolicy::new(None, Some(SignedDuration::from_secs(5))),
            Err(LockPolicyError::UserChoice)
        );
        // A shorter choice applies at once.
        let mut m = unlocked_at_zero(LockPolicy::default());
        m.set_policy(LockPolicy::new(None, Some(SignedDuration::from_mins(1))).unwrap());
        assert_eq!(m.signal(Signal::Tick, t(60)), Some(LockReason::Idle));
    }
}
