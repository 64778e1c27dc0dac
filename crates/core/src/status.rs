//! The engine's answer to "what state is the app in?".

use sealbox_model::api::{AppStatus, LockState};

use sealbox_model::jiff::tz::TimeZone;
use sealbox_model::jiff::SignedDuration;

use crate::key::fallback::KeyMode;
use crate::lock::LockReason;
use crate::sync::engine::SyncStatus;
use crate::workstation::Profile;

/// The app's status as the UI sees it; `profile` is the enrolment, if any,
/// and `unlock_wait` the throttle's wait before the next attempt.
pub fn app_status(
    version: &str,
    unlocked: bool,
    profile: Option<&Profile>,
    last_lock: Option<LockReason>,
    unlock_wait: SignedDuration,
) -> AppStatus {
    // Rounded up: "1 s" until the attempt is really allowed.
    let wait_ms = unlock_wait.as_millis().max(0);
    let unlock_wait_secs = u32::try_from((wait_ms + 999) / 1000).unwrap_or(u32::MAX);
    AppStatus {
        version: version.to_owned(),
        lock: if unlocked { LockState::Unlocked } else { LockState::Locked },
        enrolled: profile.is_some(),
        last_lock: last_lock.map(|r| r.key().to_owned()),
        weaker_key: profile.is_some_and(|p| p.key_mode == KeyMode::KeyringFallback),
        demo_key: profile.is_some_and(|p| p.demo_key),
        unlock_wait_secs,
        clinicians: u32::from(profile.is_some()),
    }
}

/// The status of a workstation shared by the clinicians of `room`: no
/// names (the lock screen asks for a key, not a person), how many are
/// enrolled, and whether any seat uses the weaker mode or the demo key.
pub fn room_status(
    version: &str,
    unlocked: bool,
    room: &crate::workstation::room::Room,
    last_lock: Option<LockReason>,
    now: sealbox_model::jiff::Timestamp,
) -> AppStatus {
    let clinicians = room.clinicians();
    let first = clinicians.first().copied();
    let mut status = app_status(version, unlocked, first, last_lock, room.unlock_wait(now));
    status.weaker_key = clinicians.iter().any(|p| p.key_mode == KeyMode::KeyringFallback);
    status.demo_key = clinicians.iter().any(|p| p.demo_key);
    status.clinicians = u32::try_from(clinicians.len()).unwrap_or(u32::MAX);
    status
}

/// A time as the UI shows it, in `tz`: "23 Nov 10:12".
pub fn shown_time(t: sealbox_model::jiff::Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%-d %b %H:%M").to_string()
}

/// The inbox footer's sync line: "Online · last sync 10:51 · 2 queued" or
/// "Offline since 10:40 · 2 queued" (times in `tz`).
pub fn sync_line(status: &SyncStatus, tz: &TimeZone) -> String {
    let at = |t: sealbox_model::jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%H:%M").to_string();
    let head = match (status.online, status.offline_since, status.last_synced) {
        (true, _, Some(t)) => format!("Online · last sync {}", at(t)),
        (true, _, None) => "Online".to_owned(),
        (false, Some(t), _) => format!("Offline since {}", at(t)),
        (false, None, _) => "Connecting…".to_owned(),
    };
    format!("{head} · {} queued", status.queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealbox_model::jiff::Timestamp;

    #[test]
    fn the_sync_line_says_online_with_the_last_sync_or_offline_since_with_the_queue() {
        let tz = sealbox_model::calendar::uk_time_zone().unwrap();
        // 2026-07-01 09:30 UTC is 10:30 in London (BST).
        let t = Timestamp::from_second(1_782_898_200).unwrap();
        let online = SyncStatus { online: true, offline_since: None, queued: 0, last_synced: Some(t) };
        assert_eq!(sync_line(&online, &tz), "Online · last sync 10:30 · 0 queued");
        let offline = SyncStatus { online: false, offline_since: Some(t), queued: 2, last_synced: Some(t) };
        assert_eq!(sync_line(&offline, &tz), "Offline since 10:30 · 2 queued");
        assert_eq!(sync_line(&SyncStatus::default(), &tz), "Connecting… · 0 queued");
    }

    #[test]
    fn the_status_says_locked_or_unlocked_and_why_it_last_locked() {
        let status = app_status("9.9.9", false, None, Some(LockReason::Idle), SignedDuration::ZERO);
        assert_eq!(status.version, "9.9.9");
        assert_eq!(status.lock, LockState::Locked);
        assert_eq!(status.last_lock.as_deref(), Some("idle"));
        assert!(!status.enrolled && !status.weaker_key);
        assert_eq!(status.unlock_wait_secs, 0);
        assert_eq!(app_status("1", true, None, None, SignedDuration::ZERO).lock, LockState::Unlocked);
        let waiting = app_status("1", false, None, None, SignedDuration::from_millis(29_001));
        assert_eq!(waiting.unlock_wait_secs, 30, "rounded up");
    }
}
