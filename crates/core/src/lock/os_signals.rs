//! The OS telling us to lock, on Linux: the screen saver's `ActiveChanged`
//! on the session bus, and logind's `Session.Lock` and
//! `Manager.PrepareForSleep` on the system bus. Each watcher runs on its own
//! thread and turns those signals into [`Signal`]s on a channel; the shell
//! feeds them to the [`super::LockMachine`] at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::message::MatchRule;
use dbus::Message;

use super::Signal;

/// The bus could not be reached or watched.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot watch the {bus} bus for lock signals")]
pub struct OsSignalError {
    /// "session" or "system".
    pub bus: &'static str,
}

/// One signal that locks: (sender, interface, member, what it means, whether
/// it carries a bool that must be true).
struct Rule {
    sender: Option<&'static str>,
    interface: &'static str,
    member: &'static str,
    signal: Signal,
    needs_true: bool,
}

/// Screen savers on the session bus (freedesktop and GNOME).
const SESSION: &[Rule] = &[
    Rule {
        sender: None,
        interface: "org.freedesktop.ScreenSaver",
        member: "ActiveChanged",
        signal: Signal::ScreenLocked,
        needs_true: true,
    },
    Rule {
        sender: None,
        interface: "org.gnome.ScreenSaver",
        member: "ActiveChanged",
        signal: Signal::ScreenLocked,
        needs_true: true,
    },
];

/// logind on the system bus.
const SYSTEM: &[Rule] = &[
    Rule {
        sender: Some("org.freedesktop.login1"),
        interface: "org.freedesktop.login1.Session",
        member: "Lock",
        signal: Signal::ScreenLocked,
        needs_true: false,
    },
    Rule {
        sender: Some("org.freedesktop.login1"),
        interface: "org.freedesktop.login1.Manager",
        member: "PrepareForSleep",
        signal: Signal::Suspending,
        needs_true: true,
    },
];

/// A running watcher; dropping it stops the thread.
#[derive(Debug)]
pub struct OsLockWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for OsLockWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Watches the session bus's screen savers.
pub fn watch_session(tx: Sender<Signal>) -> Result<OsLockWatch, OsSignalError> {
    let conn = Connection::new_session().map_err(|_| OsSignalError { bus: "session" })?;
    watch(conn, SESSION, tx, "session")
}

/// Watches logind on the system bus.
pub fn watch_system(tx: Sender<Signal>) -> Result<OsLockWatch, OsSignalError> {
    let conn = Connection::new_system().map_err(|_| OsSignalError { bus: "system" })?;
    watch(conn, SYSTEM, tx, "system")
}

fn fires(rule: &Rule, msg: &Message) -> bool {
    !rule.needs_true || msg.read1::<bool>().unwrap_or(false)
}

fn watch(
    conn: Connection,
    rules: &'static [Rule],
    tx: Sender<Signal>,
    bus: &'static str,
) -> Result<OsLockWatch, OsSignalError> {
    for rule in rules {
        let mut m = MatchRule::new_signal(rule.interface, rule.member);
        if let Some(sender) = rule.sender {
            m = m.with_sender(sender);
        }
        let tx = tx.clone();
        conn.add_match(m, move |(): (), _, msg: &Message| {
            if fires(rule, msg) {
                // A closed channel means the app is shutting down.
                let _ = tx.send(rule.signal);
            }
            true
        })
        .map_err(|_| OsSignalError { bus })?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            if conn.process(Duration::from_millis(200)).is_err() {
                return;
            }
        }
    });
    Ok(OsLockWatch { stop, thread: Some(thread) })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::lock::{LockMachine, LockPolicy, LockReason};
    use dbus::channel::Sender as _;
    use sealbox_model::jiff::Timestamp;
    use std::sync::mpsc;

    fn emit(conn: &Connection, path: &str, interface: &str, member: &str, arg: Option<bool>) {
        let msg = Message::new_signal(path, interface, member).unwrap();
        let msg = match arg {
            Some(b) => msg.append1(b),
            None => msg,
        };
        conn.send(msg).unwrap();
    }

    fn unlocked() -> LockMachine {
        let mut m = LockMachine::new(LockPolicy::default());
        m.unlocked(Timestamp::from_second(1_763_974_800).unwrap());
        m
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_763_974_801).unwrap()
    }

    #[test]
    fn a_screen_lock_signal_on_the_session_bus_locks_at_once() {
        let (tx, rx) = mpsc::channel();
        let _watch = watch_session(tx).expect("a D-Bus session bus (run under `cargo xtask test`)");
        let emitter = Connection::new_session().unwrap();
        // Deactivation does not lock; activation does.
        emit(
            &emitter,
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver",
            "ActiveChanged",
            Some(false),
        );
        emit(
            &emitter,
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver",
            "ActiveChanged",
            Some(true),
        );
        let signal = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(signal, Signal::ScreenLocked);
        let mut m = unlocked();
        assert_eq!(m.signal(signal, now()), Some(LockReason::ScreenLocked));
        assert!(m.is_locked());
        assert!(rx.try_recv().is_err(), "the 'false' signal caused nothing");
    }

    #[test]
    fn logind_lock_and_sleep_signals_lock_and_only_from_logind() {
        // logind's rules, exercised on the private session bus: the emitter
        // owns the name org.freedesktop.login1 there.
        let (tx, rx) = mpsc::channel();
        let _watch = watch(Connection::new_session().unwrap(), SYSTEM, tx, "session").unwrap();
        let impostor = Connection::new_session().unwrap();
        emit(
            &impostor,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            Some(true),
        );
        let logind = Connection::new_session().unwrap();
        logind.request_name("org.freedesktop.login1", false, true, true).unwrap();
        emit(&logind, "/org/freedesktop/login1/session/c1", "org.freedesktop.login1.Session", "Lock", None);
        emit(
            &logind,
            "/org/freedesktop/login1",
            "org.freedesktop.login1.Manager",
            "PrepareForSleep",
            Some(true),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Signal::ScreenLocked);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), Signal::Suspending);
        let mut m = unlocked();
        assert_eq!(m.signal(Signal::Suspending, now()), Some(LockReason::Suspending));
        assert!(rx.try_recv().is_err(), "the impostor's signal was ignored");
    }
}
