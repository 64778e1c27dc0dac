//! The engine's answer to "what state is the app in?".

use sealbox_model::api::{AppStatus, LockState};

use crate::lock::LockReason;

/// The app's status as the UI sees it.
pub fn app_status(version: &str, unlocked: bool, enrolled: bool, last_lock: Option<LockReason>) -> AppStatus {
    AppStatus {
        version: version.to_owned(),
        lock: if unlocked { LockState::Unlocked } else { LockState::Locked },
        enrolled,
        last_lock: last_lock.map(|r| r.key().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_says_locked_or_unlocked_and_why_it_last_locked() {
        let status = app_status("9.9.9", false, true, Some(LockReason::Idle));
        assert_eq!(status.version, "9.9.9");
        assert_eq!(status.lock, LockState::Locked);
        assert_eq!(status.last_lock.as_deref(), Some("idle"));
        assert_eq!(app_status("1", true, true, None).lock, LockState::Unlocked);
    }
}
