//! Who did what, for the UI: a thread's events from every device (the
//! hub's copy of the audit trail, after pushing this device's own), or this
//! workstation's events when the hub cannot be reached; and "My activity":
//! the clinician's sign-ins on every device (the hub's record of attempts)
//! and their own events here. Ids, names, kinds, addresses and times only.

use sealbox_crypto::audit_chain::Link;
use sealbox_model::api::{ActivityLine, ActivityView};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::category::Category;
use sealbox_model::hub_api::auth::LoginRecord;
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::tz::TimeZone;
use sealbox_model::jiff::Timestamp;

use std::sync::Arc;

use sealbox_crypto::ed25519_dalek::SigningKey;

use super::{Desk, WorkstationError};
use crate::audit;
use crate::status::shown_time;
use crate::store::{Store, StoreError};
use crate::sync::client::HubClient;
use crate::sync::{SharedStore, SyncError};

/// Most events listed.
const MAX_LINES: u32 = 200;

/// An audit action in words: plain sentences, no ids. A viewed message is
/// named by [`message_phrase`] (the caller looks it up), a lock by why, the
/// practice's policy by what it asks.
pub fn describe(action: &str, object: &str) -> String {
    let on = |what: &str| if object.is_empty() { what.to_owned() } else { format!("{what} {object}") };
    match action {
        "view" => on("viewed"),
        "claim" => "claimed the thread".to_owned(),
        "assign" => "handed the thread on".to_owned(),
        "state" => "changed the thread's state".to_owned(),
        "triage" => "triaged the thread".to_owned(),
        "start" => "started work on the thread".to_owned(),
        "await_patient" => "asked the patient and waits for the answer".to_owned(),
        "close" => "closed the thread".to_owned(),
        "reopen" => "reopened the thread".to_owned(),
        "prioritise" => "set the thread's priority or category".to_owned(),
        "overrule_flag" => "lowered a red-flagged thread's priority, giving a reason".to_owned(),
        "reply" => "replied to the patient".to_owned(),
        "note" => "added an internal note for colleagues".to_owned(),
        "merge" => "merged a repeat request into the patient's open one".to_owned(),
        "refill_decision" => "decided the repeat prescription".to_owned(),
        "confirm_patient_details" => "confirmed the patient's new details".to_owned(),
        "cache_rebuilt" => "rebuilt this workstation's cache from the practice hub".to_owned(),
        "action_conflict" => "was beaten to an action by a colleague".to_owned(),
        "action_rejected" => "had an action refused by the practice hub".to_owned(),
        "enrol" => "enrolled this workstation".to_owned(),
        "unlock" => "unlocked Sealbox".to_owned(),
        "unlock_offline" => "unlocked Sealbox while the practice hub was out of reach".to_owned(),
        "unlock:keyring_fallback_weaker" => "unlocked Sealbox (weaker keyring mode)".to_owned(),
        "unlock_offline:keyring_fallback_weaker" => {
            "unlocked Sealbox while the practice hub was out of reach (weaker keyring mode)".to_owned()
        }
        "key_mode:keyring_fallback_weaker" => {
            "enrolled a key without hmac-secret: the weaker keyring mode".to_owned()
        }
        "demo_software_key" => "enrolled with the demo's software key (not for patients)".to_owned(),
        other => match other.split_once(':') {
            Some(("lock", why)) => lock_sentence(why),
            Some(("unlock_failed", why)) => format!("could not unlock: {}", unlock_failure(why)),
            Some(("unlock_refused", "offline_too_long")) => {
                "could not unlock: offline for longer than the practice allows".to_owned()
            }
            Some(("settings", "notifications=blind")) => "turned blind notifications on".to_owned(),
            Some(("settings", "notifications=off")) => "turned notifications off".to_owned(),
            Some(("settings", change)) => match change.split_once('=') {
                Some(("idle_seconds", s)) => match s.parse::<u64>() {
                    Ok(s) => format!("set Sealbox to lock after {} without activity", span(s)),
                    Err(_) => "changed when Sealbox locks".to_owned(),
                },
                _ => format!("changed a setting ({})", change.replace(['_', '='], " ")),
            },
            Some(("practice_policy", rules)) => {
                format!("received the practice's policy: {}", policy_words(rules))
            }
            _ => other.replace('_', " "),
        },
    }
}

/// How a viewed message is named: when it arrived and on what kind of
/// request, or that it is no longer here (never its id or content).
pub fn message_phrase(place: Option<(Category, Timestamp)>, tz: &TimeZone) -> String {
    match place {
        Some((category, at)) => {
            format!("the message of {} ({})", shown_time(at, tz), category_words(category))
        }
        None => "a message no longer on this workstation".to_owned(),
    }
}

fn category_words(c: Category) -> &'static str {
    match c {
        Category::RepeatPrescription => "repeat prescription",
        Category::MedicationQuestion => "medication question",
        Category::TestResults => "test results",
        Category::ClinicalQuestion => "clinical question",
        Category::AdminFitNote => "fit note",
        Category::AdminAppointment => "appointment",
        Category::AdminLetters => "letter",
        Category::Other => "other request",
    }
}

fn lock_sentence(why: &str) -> String {
    match why {
        "idle" => "left Sealbox without activity: it locked itself".to_owned(),
        "screen_locked" => "locked the computer's screen: Sealbox locked with it".to_owned(),
        "suspend" => "put the computer to sleep: Sealbox locked".to_owned(),
        "lock_now" | "now" => "locked Sealbox".to_owned(),
        "enrolled" => "finished enrolling: Sealbox locked until the practice approves it".to_owned(),
        "reauth_due" => "reached the practice's time between key checks: Sealbox locked".to_owned(),
        other => format!("saw Sealbox lock ({})", other.replace('_', " ")),
    }
}

fn unlock_failure(why: &str) -> String {
    match why {
        "wrong_pin" => "the security key's PIN was not accepted".to_owned(),
        "wrong_key" => "a security key not enrolled here".to_owned(),
        "cancelled" => "cancelled at the security key".to_owned(),
        "key_failed" => "the security key did not answer".to_owned(),
        "hub_refused" => "the practice hub refused the sign-in".to_owned(),
        other => other.replace('_', " "),
    }
}

/// A span of seconds as a person says it: "30 seconds", "15 minutes",
/// "12 hours", "3 days" (whole units only; otherwise the next smaller).
fn span(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The practice's policy as recorded (`max_idle=60,reauth=3600,…`) in words.
fn policy_words(rules: &str) -> String {
    let words: Vec<String> = rules
        .split(',')
        .filter_map(|rule| rule.split_once('='))
        .map(|(k, v)| {
            let secs = v.parse::<u64>().ok();
            let allowed = if v == "true" { "allowed" } else { "not allowed" };
            match (k, secs) {
                ("max_idle", Some(s)) => format!("lock after {} without activity", span(s)),
                ("reauth", Some(s)) => format!("ask for the key again every {}", span(s)),
                ("max_offline", Some(s)) => format!("work offline for up to {}", span(s)),
                ("weaker_keys", _) => format!("keys without hmac-secret {allowed}"),
                ("demo_keys", _) => format!("the demo's software key {allowed}"),
                (k, _) => format!("{} {v}", k.replace('_', " ")),
            }
        })
        .collect();
    words.join("; ")
}

/// An event as a line; `store` names the message a view was of.
#[allow(clippy::too_many_arguments)]
fn line(
    store: &Store,
    tz: &TimeZone,
    me: &str,
    at_ms: i64,
    actor: &str,
    name: &str,
    action: &str,
    object: &str,
) -> Result<ActivityLine, StoreError> {
    let when = Timestamp::from_millisecond(at_ms).map(|t| shown_time(t, tz)).unwrap_or_default();
    let who = if actor == me { "You".to_owned() } else { name.to_owned() };
    let what = if action == "view" {
        let place = match object.parse::<u64>() {
            Ok(id) => store.message_place(MessageId(id))?,
            Err(_) => None,
        };
        describe(action, &message_phrase(place, tz))
    } else {
        describe(action, object)
    };
    Ok(ActivityLine { when_shown: when, who, what })
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
        let shared = self.store();
        let store = crate::sync::lock(&shared);
        let links = store.audit_events(MAX_LINES * 4)?;
        let lines = links
            .iter()
            .filter(|l| l.actor == me)
            .take(MAX_LINES as usize)
            .map(|l| line(&store, &tz, &me, l.at_ms, &l.actor, &l.actor, &l.action, &l.object))
            .collect::<Result<_, _>>()?;
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
            Ok(activity) => {
                let store = crate::sync::lock(&self.store);
                Ok(ActivityView {
                    source: "practice".to_owned(),
                    lines: activity
                        .events
                        .iter()
                        .map(|e| {
                            line(&store, &tz, me, e.at_ms, &e.actor, &e.actor_name, &e.action, &e.object)
                        })
                        .collect::<Result<_, _>>()?,
                })
            }
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
                        .map(|l| line(&store, &tz, me, l.at_ms, &l.actor, &l.actor, &l.action, &l.object))
                        .collect::<Result<_, _>>()?,
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
    fn actions_read_as_plain_sentences_without_ids_or_anything_clinical() {
        let tz = uk_time_zone().unwrap();
        let at = Timestamp::from_millisecond(1_750_000_000_000).unwrap();
        let seen = message_phrase(Some((Category::RepeatPrescription, at)), &tz);
        assert_eq!(describe("view", &seen), "viewed the message of 15 Jun 16:06 (repeat prescription)");
        assert_eq!(
            describe("view", &message_phrase(None, &tz)),
            "viewed a message no longer on this workstation"
        );
        assert_eq!(describe("claim", "thread 9"), "claimed the thread");
        assert_eq!(
            describe("lock:screen_locked", "dev"),
            "locked the computer's screen: Sealbox locked with it"
        );
        assert_eq!(describe("lock:idle", "dev"), "left Sealbox without activity: it locked itself");
        assert_eq!(describe("lock:lock_now", "dev"), "locked Sealbox");
        assert_eq!(
            describe("unlock_failed:wrong_pin", "dev"),
            "could not unlock: the security key's PIN was not accepted"
        );
        assert_eq!(describe("something_new", ""), "something new");
        assert_eq!(
            describe("unlock:keyring_fallback_weaker", "dev"),
            "unlocked Sealbox (weaker keyring mode)"
        );
        assert_eq!(
            describe(
                "practice_policy:max_idle=60,reauth=43200,weaker_keys=false,max_offline=259200,demo_keys=true",
                "dev"
            ),
            "received the practice's policy: lock after 1 minute without activity; ask for the key again every \
             12 hours; keys without hmac-secret not allowed; work offline for up to 3 days; the demo's software \
             key allowed"
        );
        assert_eq!(
            (span(30), span(90), span(900), span(3_600), span(86_400)),
            (
                "30 seconds".to_owned(),
                "90 seconds".to_owned(),
                "15 minutes".to_owned(),
                "1 hour".to_owned(),
                "1 day".to_owned()
            )
        );
        // Nothing in any sentence reads like an id or a setting's key.
        for action in ["lock:idle", "lock:reauth_due", "practice_policy:max_idle=30,reauth=43200"] {
            let said = describe(action, "dev-0123456789");
            assert!(!said.contains('=') && !said.contains('_') && !said.contains("dev-"), "{said}");
        }
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
