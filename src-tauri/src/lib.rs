//! The Sealbox desktop shell. Thin: each command adapts onto sealbox-core and
//! returns a type from sealbox-model; OS glue (keyring, notifications, idle
//! and screen-lock signals, the security-key transport) lives here.

mod commands;

/// Builds and runs the app until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_status])
        .run(tauri::generate_context!())
}
