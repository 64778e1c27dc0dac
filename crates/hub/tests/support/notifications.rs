//! A recording org.freedesktop.Notifications service on the session bus
//! (the private one `cargo xtask test` starts).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::mpsc;
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::MatchRule;

/// A recording org.freedesktop.Notifications service on the session bus
/// (the private one `cargo xtask test` starts): every Notify call's
/// (app name, summary, body) goes to the returned channel.
pub fn recording_service() -> mpsc::Receiver<(String, String, String)> {
    service(false)
}

/// [`recording_service`] that also "clicks" each notification offering the
/// default action: it emits `ActionInvoked(id, "default")` after replying.
pub fn clicking_service() -> mpsc::Receiver<(String, String, String)> {
    service(true)
}

/// How long the simulated clinician takes to click.
const CLICK_AFTER: Duration = Duration::from_millis(300);

fn service(click: bool) -> mpsc::Receiver<(String, String, String)> {
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let conn = Connection::new_session().expect("a D-Bus session bus (run under `cargo xtask test`)");
        conn.request_name("org.freedesktop.Notifications", false, true, true).unwrap();
        let pending = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(std::time::Instant, u32)>::new()));
        let pending_loop = pending.clone();
        conn.start_receive(
            MatchRule::new_method_call(),
            Box::new(move |msg, conn| {
                use dbus::channel::Sender;
                let mut clicked = None;
                let reply = match msg.member().as_deref() {
                    Some("Notify") => {
                        let mut args = msg.iter_init();
                        let app: String = args.read().unwrap();
                        let _replaces: u32 = args.read().unwrap();
                        let _icon: String = args.read().unwrap();
                        let summary: String = args.read().unwrap();
                        let body: String = args.read().unwrap();
                        let actions: Vec<String> = args.read().unwrap();
                        tx.send((app, summary, body)).unwrap();
                        if click && actions.iter().step_by(2).any(|a| a == "default") {
                            clicked = Some(7u32);
                        }
                        msg.method_return().append1(7u32)
                    }
                    Some("GetCapabilities") => msg.method_return().append1(vec!["body".to_owned()]),
                    Some("GetServerInformation") => {
                        msg.method_return().append2("recorder", "sealbox-tests").append2("1", "1.2")
                    }
                    _ => msg.method_return(),
                };
                let _ = conn.send(reply);
                if let Some(id) = clicked {
                    // The clinician clicks a moment later (after the app
                    // listens for it, as a person would).
                    pending.lock().unwrap().push((std::time::Instant::now() + CLICK_AFTER, id));
                }
                true
            }),
        );
        ready_tx.send(()).unwrap();
        loop {
            conn.process(Duration::from_millis(50)).unwrap();
            let due: Vec<u32> = {
                let mut p = pending_loop.lock().unwrap();
                let now = std::time::Instant::now();
                let due = p.iter().filter(|(at, _)| *at <= now).map(|(_, id)| *id).collect();
                p.retain(|(at, _)| *at > now);
                due
            };
            for id in due {
                use dbus::channel::Sender;
                let signal = dbus::Message::new_signal(
                    "/org/freedesktop/Notifications",
                    "org.freedesktop.Notifications",
                    "ActionInvoked",
                )
                .unwrap()
                .append2(id, "default");
                let _ = conn.send(signal);
            }
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    rx
}
