//! Typed calls into the desktop shell over Tauri's IPC.
//!
//! Every call names a command from `sealbox_model::api::command` and decodes
//! the reply into that command's sealbox-model type.

use sealbox_model::api::{command, AppStatus};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // Tauri's global API (`app.withGlobalTauri`); the promise rejects with
    // the command's error.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Why a call into the shell failed. Carries no patient data: the shell's
/// errors are log-safe by construction.
#[derive(Debug, Clone, PartialEq)]
pub struct IpcError(pub String);

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn describe(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".to_owned())
}

async fn call<T: DeserializeOwned>(cmd: &str) -> Result<T, IpcError> {
    let has_tauri = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__TAURI__"))
        .map(|v| !v.is_undefined())
        .unwrap_or(false);
    if !has_tauri {
        return Err(IpcError("the Sealbox shell is not available".to_owned()));
    }
    let reply = tauri_invoke(cmd, JsValue::UNDEFINED)
        .await
        .map_err(|e| IpcError(format!("{cmd} failed: {}", describe(&e))))?;
    serde_wasm_bindgen::from_value(reply)
        .map_err(|e| IpcError(format!("{cmd} returned an unexpected reply: {e}")))
}

/// The shell's version and lock state.
pub async fn app_status() -> Result<AppStatus, IpcError> {
    call(command::APP_STATUS).await
}
