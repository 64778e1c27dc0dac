//! Typed requests and responses between the UI (wasm) and the desktop shell.
//!
//! Both sides use these types, so a renamed field breaks the build rather than
//! the running app. Command names live here too, so the shell's registration,
//! its build-time permission manifest and the UI's calls cannot drift.

use serde::{Deserialize, Serialize};

/// Names of the shell's commands, as the UI invokes them.
pub mod command {
    /// Returns [`super::AppStatus`].
    pub const APP_STATUS: &str = "app_status";

    /// Every command the shell registers; build.rs declares exactly these to
    /// Tauri's permission system.
    pub const ALL: &[&str] = &[APP_STATUS];
}

/// Whether the clinical workspace is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    /// No data key in memory; only the lock screen can be shown.
    Locked,
    /// The cache is open for the signed-in clinician.
    Unlocked,
}

impl LockState {
    /// The word shown to the user.
    pub fn label(self) -> &'static str {
        match self {
            LockState::Locked => "locked",
            LockState::Unlocked => "unlocked",
        }
    }
}

/// Reply to [`command::APP_STATUS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppStatus {
    /// The shell's version (Cargo package version).
    pub version: String,
    /// The current lock state.
    pub lock: LockState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_status_round_trips_as_json_with_snake_case_state() {
        let status = AppStatus { version: "1.2.3".into(), lock: LockState::Locked };
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(json, r#"{"version":"1.2.3","lock":"locked"}"#);
        let back: AppStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn app_status_rejects_unknown_fields_and_states() {
        assert!(serde_json::from_str::<AppStatus>(r#"{"version":"1","lock":"locked","x":1}"#).is_err());
        assert!(serde_json::from_str::<AppStatus>(r#"{"version":"1","lock":"open"}"#).is_err());
    }
}
