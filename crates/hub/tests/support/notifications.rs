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
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let conn = Connection::new_session().expect("a D-Bus session bus (run under `cargo xtask test`)");
        conn.request_name("org.freedesktop.Notifications", false, true, true).unwrap();
        conn.start_receive(
            MatchRule::new_method_call(),
            Box::new(move |msg, conn| {
                use dbus::channel::Sender;
                let reply = match msg.member().as_deref() {
                    Some("Notify") => {
                        let (app, _replaces, _icon, summary, body): (String, u32, String, String, String) =
                            msg.read5().unwrap();
                        tx.send((app, summary, body)).unwrap();
                        msg.method_return().append1(1u32)
                    }
                    Some("GetCapabilities") => msg.method_return().append1(vec!["body".to_owned()]),
                    Some("GetServerInformation") => {
                        msg.method_return().append2("recorder", "sealbox-tests").append2("1", "1.2")
                    }
                    _ => msg.method_return(),
                };
                let _ = conn.send(reply);
                true
            }),
        );
        ready_tx.send(()).unwrap();
        loop {
            conn.process(Duration::from_millis(200)).unwrap();
        }
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    rx
}
