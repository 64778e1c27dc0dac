//! The Sealbox desktop shell. Thin: each command adapts onto sealbox-core and
//! returns a type from sealbox-model; OS glue (keyring, notifications, idle
//! and screen-lock signals, the security-key transport) lives here.

mod check_key;
mod commands;
mod desk;
mod os_idle;
mod os_lock;
mod record;
mod updates;

/// Builds and runs the app until its last window closes.
pub use check_key::check_keys;

pub fn run() -> Result<(), tauri::Error> {
    tauri::Builder::default()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(desk::Shell::new())
        .setup(|app| {
            os_lock::start(app.handle());
            os_idle::start(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::unlock,
            commands::enrol,
            commands::lock_now,
            commands::heartbeat,
            commands::inbox,
            commands::open_thread,
            commands::claim,
            commands::merge_repeat,
            commands::confirm_patient_details,
            commands::reply,
            commands::refill_decision,
            commands::change_thread,
            commands::undo,
            commands::save_draft,
            commands::add_note,
            commands::hand_over,
            commands::share_with_pharmacy,
            commands::open_attachment,
            commands::settings,
            commands::save_settings,
            commands::remove_clinician,
            commands::thread_activity,
            commands::refill_history,
            commands::my_activity,
            commands::workload,
            commands::cover_absence,
            commands::invite_patient,
            commands::reinvite_patient,
            commands::cancel_key,
            commands::check_update,
            commands::install_update,
            commands::record_panel,
            commands::save_to_record,
            commands::confirm_record_match,
            commands::export_record,
            commands::record_setup
        ])
        .run(tauri::generate_context!())
}
