//! The OS's idle time (input anywhere on the desktop, not only in
//! Sealbox's window) feeds the lock machine as `Signal::OsIdle`, so a
//! clinician working in another application on the same workstation is not
//! locked out, and one who walked away is. user-idle2 asks Mutter over
//! D-Bus (GNOME, X11 or Wayland), then X11's screen-saver extension, then
//! the screen saver; Windows and macOS through their own APIs. Where none
//! answers, it says so once and the webview's heartbeat alone counts.

use std::time::Duration;

use sealbox_core::lock::Signal;
use sealbox_model::jiff::SignedDuration;
use tauri::{AppHandle, Manager};

/// How often the OS is asked.
const POLL: Duration = Duration::from_secs(10);

/// Starts polling on a thread of its own for the life of the app.
pub fn start(app: &AppHandle) {
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("sealbox-os-idle".into()).spawn(move || loop {
        std::thread::sleep(POLL);
        let idle = match user_idle2::UserIdle::get_time() {
            Ok(idle) => SignedDuration::from_secs(i64::try_from(idle.as_seconds()).unwrap_or(i64::MAX)),
            Err(_) => {
                eprintln!("sealbox: the OS idle time is unavailable; input in Sealbox's window alone counts");
                return;
            }
        };
        let app = app.clone();
        tauri::async_runtime::block_on(async move {
            app.state::<crate::desk::Shell>().signal(&app, Signal::OsIdle(idle)).await;
        });
    });
    if spawned.is_err() {
        eprintln!("sealbox: the OS idle time could not be watched");
    }
}
