//! Who did what, for the UI: a thread's events from every device (the
//! hub's copy of the audit trail, after pushing this device's own), or this
//! workstation's events when the hub cannot be reached; and "My activity":
//! the clinician's sign-ins on every device (the hub's record of attempts)
//! and their own events here. Ids, names, kinds, addresses and times only.

use sealbox_crypto::audit_chain::Link;
use sealbox_model::api::{ActivityLine, ActivityView};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::hub_api::auth::LoginRecord;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::tz::TimeZone;
use sealbox_model::jiff::Timestamp;

use std::sync::Arc;

use sealbox_crypto::ed25519_dalek::SigningKey;

use super::{Desk, WorkstationError};
use crate::audit;
use crate::status::shown_time;
use crate::sync::client::HubClient;
use crate::sync::{SharedStore, SyncError};

/// Most events listed.
const MAX_LINES: u32 = 200;

/// An audit action in words.
pub fn describe(action: &str, object: &str) -> String {
    let on = |what: &str| if object.is_empty() { what.to_owned() } else { format!("{what} {object}") };
    match action {
        "view" => on("viewed message"),
        "claim" => "claimed the thread".to_owned(),
        "assign" => "assigned the thread".to_owned(),
        "state" => "changed the thread's state".to_owned(),
        "reply" => "replied to the patient".to_owned(),
        "note" => "added an internal note for colleagues".to_owned(),
        "refill_decision" => "decided the repeat prescription".to_owned(),
        "action_conflict" => "was beaten to an action by a colleague".to_owned(),
        "action_rejected" => "had an action refused by the hub".to_owned(),
        "enrol" => "enrolled this workstation".to_owned(),
        "unlock" => "unlocked Sealbox".to_owned(),
        "unlock_offline" => "unlocked Sealbox (offline)".to_owned(),
        "unlock:keyring_fallback_weaker" => "unlocked Sealbox (weaker keyring mode)".to_owned(),
        "unlock_offline:keyring_fallback_weaker" => {
            "unlocked Sealbox (offline, weaker keyring mode)".to_owned()
        }
        "key_mode:keyring_fallback_weaker" => {
            "enrolled a key without hmac-secret: the weaker keyring mode".to_owned()
        }
        "demo_software_key" => "enrolled with the demo's software key (not for patients)".to_owned(),
        other => match other.split_once(':') {
            Some(("lock", why)) => format!("locked Sealbox ({})", why.replace('_', " ")),
            Some(("unlock_failed", why)) => format!("failed to unlock ({})", why.replace('_', " ")),
            Some(("practice_policy", rules)) => {
                format!("received the practice's policy ({})", rules.replace(',', ", ").replace('_', " "))
            }
            _ => other.replace('_', " "),
        },
    }
}

fn line(
    tz: &TimeZone,
    me: &str,
    at_ms: i64,
    actor: &str,
    name: &str,
    action: &str,
    object: &str,
) -> ActivityLine {
    let when = Timestamp::from_millisecond(at_ms).map(|t| shown_time(t, tz)).unwrap_or_default();
    let who = if actor == me { "You".to_owned() } else { name.to_owned() };
    ActivityLine { when_shown: when, who, what: describe(action, object) }
}

/// A sign-in attempt in words: what, on which device, from where.
fn sign_in_line(tz: &TimeZone, my_device: &str, r: &LoginRecord) -> ActivityLine {
    let when = r.at.parse::<Timestamp>().map(|t| shown_time(t, tz)).unwrap_or_default();
    let what = match (r.kind.as_str(), r.outcome.as_str()) {
        ("enrol", "ok") => "enrolled a security key".to_owned(),
        ("enrol", why) => format!("enrolment refused ({})", why.replace('_', " ")),
        (_, "ok") => "signed in".to_owned(),
        (_, why) => format!("sign-in refused ({})", why.replace('_', " ")),
    };
    let device = match r.device_id.as_deref() {
        Some(d) if d == my_device => " on this workstation".to_owned(),
        Some(d) => format!(" on another device ({})", d.chars().take(8).collect::<String>()),
        None => String::new(),
    };
    ActivityLine {
        when_shown: when,
        who: "You".to_owned(),
        what: format!("{what}{device} from {}", r.address),
    }
}

fn is_about(link: &Link, thread: ThreadId, messages: &[String]) -> bool {
    link.object == format!("thread {}", thread.0) || messages.contains(&link.object)
}

/// What reading a thread's activity needs, taken from a desk so the desk
/// is not held across the hub call. It shares the cache: a shell stops it
/// (drops it) before locking, as it stops sync.
pub struct ActivityReader {
    store: Arc<SharedStore>,
    hub: HubClient,
    key: SigningKey,
    me: String,
    device: String,
}

impl std::fmt::Debug for ActivityReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityReader").finish_non_exhaustive()
    }
}

impl Desk {
    /// A reader of thread activity for this desk's session.
    pub fn activity_reader(&self) -> ActivityReader {
        ActivityReader {
            store: self.store(),
            hub: self.hub.clone(),
            key: self.device.ed25519.clone(),
            me: self.profile.user_id.clone(),
            device: self.profile.device_id.clone(),
        }
    }

    /// The clinician's own events on this workstation, newest first.
    pub fn my_activity(&self) -> Result<ActivityView, WorkstationError> {
        let me = self.profile.user_id.clone();
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let links = crate::sync::lock(&self.store()).audit_events(MAX_LINES * 4)?;
        let lines = links
            .iter()
            .filter(|l| l.actor == me)
            .take(MAX_LINES as usize)
            .map(|l| line(&tz, &me, l.at_ms, &l.actor, &l.actor, &l.action, &l.object))
            .collect();
        Ok(ActivityView { source: "this workstation".to_owned(), lines })
    }
}

impl ActivityReader {
    /// The clinician's sign-ins and enrolments on every device, newest
    /// first, from the hub; none (and a source that says why) when the hub
    /// is out of reach, this unlock had no hub session, or the hub refused.
    pub async fn sign_ins(&self) -> Result<ActivityView, WorkstationError> {
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        match self.hub.login_history().await {
            Ok(h) => Ok(ActivityView {
                source: "practice hub".to_owned(),
                lines: h
                    .attempts
                    .iter()
                    .take(MAX_LINES as usize)
                    .map(|r| sign_in_line(&tz, &self.device, r))
                    .collect(),
            }),
            // None to show, and why; the workstation's own events still show.
            Err(e) if e.is_transient() => {
                Ok(ActivityView { source: "hub out of reach".to_owned(), lines: Vec::new() })
            }
            // Unlocked offline: no session to ask with until the next unlock.
            Err(SyncError::SessionEnded) => {
                Ok(ActivityView { source: "no hub session; unlock online".to_owned(), lines: Vec::new() })
            }
            Err(e) => Ok(ActivityView { source: format!("not available: {e}"), lines: Vec::new() }),
        }
    }

    /// Who did what on `thread`: from the hub (every device; this device's
    /// events pushed first), else — the hub out of reach — from this
    /// workstation's own chain.
    pub async fn thread(&self, thread: ThreadId) -> Result<ActivityView, WorkstationError> {
        let me = &self.me;
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let online = async {
            audit::push(&self.store, &self.hub, &self.key).await?;
            audit::thread_activity(&self.hub, thread.0).await
        };
        match online.await {
            Ok(activity) => Ok(ActivityView {
                source: "practice".to_owned(),
                lines: activity
                    .events
                    .iter()
                    .map(|e| line(&tz, me, e.at_ms, &e.actor, &e.actor_name, &e.action, &e.object))
                    .collect(),
            }),
            Err(e) if e.is_transient() => {
                let store = crate::sync::lock(&self.store);
                let messages: Vec<String> = store
                    .thread(thread)?
                    .map(|d| d.thread.messages.iter().map(|m| m.id.0.to_string()).collect())
                    .unwrap_or_default();
                let mut links = store.audit_links_after(0)?;
                links.retain(|l| is_about(l, thread, &messages));
                Ok(ActivityView {
                    source: "this workstation".to_owned(),
                    lines: links
                        .iter()
                        .map(|l| line(&tz, me, l.at_ms, &l.actor, &l.actor, &l.action, &l.object))
                        .collect(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_words_without_anything_clinical() {
        assert_eq!(describe("view", "123"), "viewed message 123");
        assert_eq!(describe("claim", "thread 9"), "claimed the thread");
        assert_eq!(describe("lock:os_lock", "dev"), "locked Sealbox (os lock)");
        assert_eq!(describe("unlock_failed:wrong_pin", "dev"), "failed to unlock (wrong pin)");
        assert_eq!(describe("something_new", ""), "something new");
        assert_eq!(
            describe("unlock:keyring_fallback_weaker", "dev"),
            "unlocked Sealbox (weaker keyring mode)"
        );
        assert_eq!(
            describe("practice_policy:max_idle=60,reauth=3600,weaker_keys=false", "dev"),
            "received the practice's policy (max idle=60, reauth=3600, weaker keys=false)"
        );
        let tz = uk_time_zone().unwrap();
        let l = line(&tz, "gp-1", 1_750_000_000_000, "gp-1", "Dr A", "view", "5");
        assert_eq!((l.who.as_str(), l.what.as_str()), ("You", "viewed message 5"));
        assert_eq!(l.when_shown, "15 Jun 16:06", "UK time (BST)");
        assert_eq!(line(&tz, "gp-1", 0, "nurse-2", "Nurse B", "claim", "thread 1").who, "Nurse B");
    }

    #[test]
    fn sign_ins_name_the_outcome_the_device_and_the_address() {
        let tz = uk_time_zone().unwrap();
        let record = |kind: &str, device: Option<&str>, outcome: &str| LoginRecord {
            at: "2025-06-15T15:06:40Z".into(),
            kind: kind.into(),
            device_id: device.map(str::to_owned),
            address: "10.0.0.7".into(),
            outcome: outcome.into(),
        };
        let l = sign_in_line(&tz, "dev-1", &record("login", Some("dev-1"), "ok"));
        assert_eq!((l.when_shown.as_str(), l.who.as_str()), ("15 Jun 16:06", "You"));
        assert_eq!(l.what, "signed in on this workstation from 10.0.0.7");
        let l = sign_in_line(&tz, "dev-1", &record("login", Some("0123456789abcdef"), "throttled"));
        assert_eq!(l.what, "sign-in refused (throttled) on another device (01234567) from 10.0.0.7");
        let l = sign_in_line(&tz, "dev-1", &record("enrol", None, "ok"));
        assert_eq!(l.what, "enrolled a security key from 10.0.0.7");
        let l = sign_in_line(&tz, "dev-1", &record("login", None, "counter_regression"));
        assert_eq!(l.what, "sign-in refused (counter regression) from 10.0.0.7");
    }
}
