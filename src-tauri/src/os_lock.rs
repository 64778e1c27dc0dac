//! The OS's screen lock and suspend lock Sealbox at once. Linux: the screen
//! savers on the session bus and logind on the system bus (sealbox-core
//! `lock::os_signals`); a bus that cannot be reached is reported and the
//! idle lock still applies. macOS and Windows session notifications are
//! not wired yet.

use tauri::AppHandle;

/// Keeps the watcher threads alive for the life of the app.
#[cfg(target_os = "linux")]
pub struct OsLockWatches(#[allow(dead_code)] Vec<sealbox_core::lock::os_signals::OsLockWatch>);

/// Starts the watchers; each signal goes through the lock machine.
#[cfg(target_os = "linux")]
pub fn start(app: &AppHandle) {
    use sealbox_core::lock::os_signals::{watch_session, watch_system};
    use tauri::Manager;

    let (tx, rx) = std::sync::mpsc::channel();
    let mut watches = Vec::new();
    for watch in [watch_session(tx.clone()), watch_system(tx)] {
        match watch {
            Ok(w) => watches.push(w),
            Err(e) => eprintln!("sealbox: OS lock signals: {e}"),
        }
    }
    app.manage(OsLockWatches(watches));
    let app = app.clone();
    std::thread::spawn(move || {
        for signal in rx {
            let app = app.clone();
            tauri::async_runtime::block_on(async move {
                app.state::<crate::desk::Shell>().signal(&app, signal).await;
            });
        }
    });
}

/// Not wired on this platform yet.
#[cfg(not(target_os = "linux"))]
pub fn start(_app: &AppHandle) {}
