//! The clinician's settings on this workstation, kept in the encrypted
//! cache: the idle lock (only ever shorter than the practice allows, never
//! under the floor), blind notifications or none (never richer), and the
//! colour theme. A change to the lock or to notifications is audited.

use sealbox_model::api::{Settings, SettingsView, THEMES};
use sealbox_model::jiff::{SignedDuration, Timestamp};

use super::{Desk, WorkstationError};
use crate::audit;
use crate::lock::{LockPolicy, MAX_IDLE, MIN_IDLE};
use crate::store::StoreError;

const IDLE_SETTING: &str = "user.idle_seconds";
const NOTIFY_SETTING: &str = "user.notifications";
const THEME_SETTING: &str = "user.theme";

/// Why settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Outside what the practice allows.
    #[error("the lock timeout must be between {min} and {max} seconds")]
    Idle {
        /// The floor, in seconds.
        min: i64,
        /// The practice's maximum, in seconds.
        max: i64,
    },
    /// Not a theme Sealbox has.
    #[error("unknown theme")]
    Theme,
}

fn secs(d: SignedDuration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

impl Desk {
    /// The settings in force under `practice_max` (the practice's idle
    /// maximum; none: the 15-minute ceiling).
    pub fn settings(&self, practice_max: Option<SignedDuration>) -> Result<SettingsView, WorkstationError> {
        let store = crate::sync::lock(&self.store);
        let stored_idle = store.setting(IDLE_SETTING)?.and_then(|v| v.parse::<i64>().ok());
        let max = practice_max.unwrap_or(MAX_IDLE).min(MAX_IDLE);
        // A choice above a practice maximum lowered since falls back to it.
        let idle = stored_idle
            .map(SignedDuration::from_secs)
            .and_then(|u| LockPolicy::new(practice_max, Some(u)).ok())
            .unwrap_or_else(|| LockPolicy::new(practice_max, None).unwrap_or_default());
        Ok(SettingsView {
            settings: Settings {
                idle_seconds: secs(idle.idle()),
                notifications: store.setting(NOTIFY_SETTING)?.as_deref() != Some("off"),
                theme: store.setting(THEME_SETTING)?.unwrap_or_else(|| "system".to_owned()),
            },
            idle_min_seconds: secs(MIN_IDLE),
            idle_max_seconds: secs(max),
        })
    }

    /// The lock policy the settings give under `practice_max`.
    pub fn lock_policy(&self, practice_max: Option<SignedDuration>) -> Result<LockPolicy, WorkstationError> {
        let idle = SignedDuration::from_secs(i64::from(self.settings(practice_max)?.settings.idle_seconds));
        Ok(LockPolicy::new(practice_max, Some(idle))
            .unwrap_or_else(|_| LockPolicy::new(practice_max, None).unwrap_or_default()))
    }

    /// Saves `new` if the practice allows it; the lock and notification
    /// choices are audited when they change.
    pub fn save_settings(
        &self,
        new: &Settings,
        practice_max: Option<SignedDuration>,
        now: Timestamp,
    ) -> Result<SettingsView, WorkstationError> {
        let before = self.settings(practice_max)?;
        let idle = SignedDuration::from_secs(i64::from(new.idle_seconds));
        if LockPolicy::new(practice_max, Some(idle)).is_err() {
            return Err(SettingsError::Idle {
                min: i64::from(before.idle_min_seconds),
                max: i64::from(before.idle_max_seconds),
            }
            .into());
        }
        if !THEMES.contains(&new.theme.as_str()) {
            return Err(SettingsError::Theme.into());
        }
        let user = self.profile().user_id.clone();
        let device = self.profile().device_id.clone();
        crate::sync::lock(&self.store).write(|w| {
            w.set_setting(IDLE_SETTING, &new.idle_seconds.to_string())?;
            w.set_setting(NOTIFY_SETTING, if new.notifications { "blind" } else { "off" })?;
            w.set_setting(THEME_SETTING, &new.theme)?;
            if new.idle_seconds != before.settings.idle_seconds {
                audit::append(
                    w,
                    now,
                    &user,
                    &format!("settings:idle_seconds={}", new.idle_seconds),
                    &device,
                )?;
            }
            if new.notifications != before.settings.notifications {
                let to = if new.notifications { "blind" } else { "off" };
                audit::append(w, now, &user, &format!("settings:notifications={to}"), &device)?;
            }
            Ok::<_, StoreError>(())
        })?;
        self.settings(practice_max)
    }
}
