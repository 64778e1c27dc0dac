//! Tauri commands. Each one is named in `sealbox_model::api::command` (and so
//! declared to the permission system by build.rs) and answers with a
//! sealbox-model type.

use sealbox_model::api::AppStatus;

/// `app_status`: the version and lock state.
#[tauri::command]
pub fn app_status(app: tauri::AppHandle) -> AppStatus {
    sealbox_core::status::app_status(&app.package_info().version.to_string())
}
