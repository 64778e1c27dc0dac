//! The engine's answer to "what state is the app in?".

use sealbox_model::api::{AppStatus, LockState};

/// The app's status as the UI sees it. Until the key vault arrives the app
/// always starts, and stays, locked: nothing clinical can be opened.
pub fn app_status(version: &str) -> AppStatus {
    AppStatus { version: version.to_owned(), lock: LockState::Locked }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_engine_reports_locked_with_the_given_version() {
        let status = app_status("9.9.9");
        assert_eq!(status.version, "9.9.9");
        assert_eq!(status.lock, LockState::Locked);
    }
}
