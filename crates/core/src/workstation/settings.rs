//! The clinician's settings on this workstation, kept in the encrypted
//! cache: the idle lock (only ever shorter than the practice allows, never
//! under the floor), blind notifications or none (never richer), and the
//! colour theme. A change to the lock or to notifications is audited.
//!
//! The practice's policy (its idle maximum, how often to re-authenticate,
//! whether weaker keys may be used) comes from the hub at every online
//! unlock and is kept in the cache for offline unlocks.

use sealbox_model::api::{Settings, SettingsView, THEMES};
use sealbox_model::hub_api::PracticePolicy;
use sealbox_model::jiff::{SignedDuration, Timestamp};

use super::{Desk, WorkstationError};
use crate::audit;
use crate::lock::{LockPolicy, MIN_IDLE};
use crate::store::StoreError;

const IDLE_SETTING: &str = "user.idle_seconds";
const NOTIFY_SETTING: &str = "user.notifications";
const THEME_SETTING: &str = "user.theme";
const POLICY_SETTING: &str = "practice.policy";
/// When the hub last verified an unlock here (RFC 3339).
const LAST_ONLINE_SETTING: &str = "unlock.last_online";

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

/// The practice's idle maximum (within bounds: the policy is validated).
fn practice_max(policy: PracticePolicy) -> SignedDuration {
    SignedDuration::from_secs(i64::from(policy.max_idle_secs))
}

fn secs(d: SignedDuration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

impl Desk {
    /// The practice's policy as last fetched from the hub (the defaults —
    /// 15 minutes, 12 hours, hmac-secret required — before the first, or
    /// if the stored value does not parse; the next online unlock fetches
    /// it again).
    pub fn practice_policy(&self) -> Result<PracticePolicy, WorkstationError> {
        let stored = crate::sync::lock(&self.store).setting(POLICY_SETTING)?;
        Ok(stored
            .and_then(|json| serde_json::from_str::<PracticePolicy>(&json).ok())
            .and_then(|p| p.validate().ok())
            .unwrap_or_default())
    }

    /// Records an unlock (or enrolment) the hub verified at `now`: the start
    /// of the practice's offline allowance.
    pub(super) fn mark_online_unlock(&self, now: Timestamp) -> Result<(), WorkstationError> {
        crate::sync::lock(&self.store).write(|w| w.set_setting(LAST_ONLINE_SETTING, &now.to_string()))?;
        Ok(())
    }

    /// Refuses an offline unlock more than the practice's
    /// `max_offline_secs` after the last one the hub verified (audited as
    /// `unlock_refused:offline_too_long`). A cache from before the
    /// allowance existed starts counting now.
    pub(super) fn check_offline_allowance(&self, now: Timestamp) -> Result<(), WorkstationError> {
        let policy = self.practice_policy()?;
        let last = crate::sync::lock(&self.store).setting(LAST_ONLINE_SETTING)?;
        let Some(last) = last.and_then(|t| t.parse::<Timestamp>().ok()) else {
            return self.mark_online_unlock(now);
        };
        let allowed = SignedDuration::from_secs(i64::from(policy.max_offline_secs));
        if now.duration_since(last) <= allowed {
            return Ok(());
        }
        let (user, device) = (self.profile().user_id.clone(), self.profile().device_id.clone());
        crate::sync::lock(&self.store)
            .write(|w| audit::append(w, now, &user, "unlock_refused:offline_too_long", &device))?;
        Err(WorkstationError::OfflineTooLong { hours: policy.max_offline_secs / 3600 })
    }

    /// Fetches the practice's policy from the hub and keeps it.
    pub async fn refresh_policy(&mut self, now: Timestamp) -> Result<PracticePolicy, WorkstationError> {
        let policy = self.hub.practice_policy().await?;
        self.keep_policy(policy, now)?;
        Ok(policy)
    }

    /// Keeps `policy` (just received from the hub) for this and later
    /// unlocks; audited when it changed.
    pub(super) fn keep_policy(&self, policy: PracticePolicy, now: Timestamp) -> Result<(), WorkstationError> {
        let before = self.practice_policy()?;
        let json = serde_json::to_string(&policy).map_err(|_| WorkstationError::ProfileCorrupt)?;
        let (user, device) = (self.profile().user_id.clone(), self.profile().device_id.clone());
        crate::sync::lock(&self.store).write(|w| {
            w.set_setting(POLICY_SETTING, &json)?;
            if policy != before {
                let what = format!(
                    "practice_policy:max_idle={},reauth={},weaker_keys={},max_offline={},demo_keys={}",
                    policy.max_idle_secs,
                    policy.reauth_secs,
                    policy.allow_weaker_keys,
                    policy.max_offline_secs,
                    policy.allow_demo_keys
                );
                audit::append(w, now, &user, &what, &device)?;
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// [`Desk::refresh_policy`], keeping the stored policy when the hub
    /// cannot give it (out of reach, an older hub without the endpoint, a
    /// reply out of bounds): the unlock or enrolment stands either way.
    pub(super) async fn refresh_policy_or_keep(&mut self, now: Timestamp) -> Result<(), WorkstationError> {
        match self.refresh_policy(now).await {
            Ok(_) | Err(WorkstationError::Hub(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The settings in force under the practice's policy.
    pub fn settings(&self) -> Result<SettingsView, WorkstationError> {
        Ok(self.settings_under(self.practice_policy()?)?.0)
    }

    /// The lock policy the settings and the practice's policy give.
    pub fn lock_policy(&self) -> Result<LockPolicy, WorkstationError> {
        Ok(self.settings_under(self.practice_policy()?)?.1)
    }

    /// The settings and the lock policy they give under `policy`.
    fn settings_under(&self, policy: PracticePolicy) -> Result<(SettingsView, LockPolicy), WorkstationError> {
        let max = practice_max(policy);
        let store = crate::sync::lock(&self.store);
        let stored_idle = store.setting(IDLE_SETTING)?.and_then(|v| v.parse::<i64>().ok());
        // A choice above a practice maximum lowered since falls back to it.
        let lock = stored_idle
            .map(SignedDuration::from_secs)
            .and_then(|u| LockPolicy::new(Some(max), Some(u)).ok())
            .unwrap_or_else(|| LockPolicy::new(Some(max), None).unwrap_or_default())
            .reauth_every(SignedDuration::from_secs(i64::from(policy.reauth_secs)));
        let view = SettingsView {
            settings: Settings {
                idle_seconds: secs(lock.idle()),
                notifications: store.setting(NOTIFY_SETTING)?.as_deref() != Some("off"),
                theme: store.setting(THEME_SETTING)?.unwrap_or_else(|| "system".to_owned()),
            },
            idle_min_seconds: secs(MIN_IDLE),
            idle_max_seconds: secs(max),
            practice_key: self.practice_key_view(),
            room: Vec::new(),
            can_invite_patients: self.profile().role.may_invite_patients(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        Ok((view, lock))
    }

    /// Saves `new` if the practice allows it; the lock and notification
    /// choices are audited when they change.
    pub fn save_settings(&self, new: &Settings, now: Timestamp) -> Result<SettingsView, WorkstationError> {
        let policy = self.practice_policy()?;
        let (before, _) = self.settings_under(policy)?;
        let idle = SignedDuration::from_secs(i64::from(new.idle_seconds));
        if LockPolicy::new(Some(practice_max(policy)), Some(idle)).is_err() {
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
        self.settings()
    }
}
