//! Priority in human hands: a clinician sets a thread's priority and
//! category. The red-flag detector only suggests; lowering a red-flagged or
//! urgent thread needs a coded reason, and is audited as `overrule_flag`
//! (from, to, reason) so a practice can review the flags its clinicians
//! overruled. Queued through the outbox with its local effect; the hub
//! applies the same rule to the priority it holds.

use sealbox_model::api::TriageLine;
use sealbox_model::breach::due_at;
use sealbox_model::error::RuleError;
use sealbox_model::hub_api::{ActionOp, StaffDirectory};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::tz::TimeZone;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, Thread};
use sealbox_model::permissions::{can, Action};
use sealbox_model::priority::Priority;
use sealbox_model::red_flags::learned::LEARNED_RULE_ID;
use sealbox_model::red_flags::RedFlagDetector;
use sealbox_model::thread_state::ThreadState;
use sealbox_model::triage::{self, TriageDecision, TriageSet};

use super::{refill, Desk, WorkstationError};
use crate::audit;
use crate::status::shown_time;
use crate::store::triage::TriageFacts;
use crate::sync::outbox;

/// Each red flag `thread`'s patient messages raise, with the words that
/// matched ('chest pain: "crushing pain in my chest"'; for the learned
/// model, its nearest presentation and the words that weighed most), once
/// each. Read
/// again from the text rather than stored, so the rule set in force is the
/// one shown.
pub(super) fn flag_lines(detector: &RedFlagDetector, thread: &Thread) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for m in thread.messages.iter().filter(|m| m.is_from_patient()) {
        for flag in detector.assess(m.free_text().reveal()).flags {
            // A rule's first match; the learned model's words that weighed most.
            let shown = if flag.rule_id == LEARNED_RULE_ID { flag.matches.len() } else { 1 };
            let words: Vec<&str> = flag.matches.iter().take(shown).map(|w| w.words.reveal()).collect();
            let line = format!("{}: \u{201c}{}\u{201d}", flag.label, words.join("\u{201d}, \u{201c}"));
            if !seen.contains(&line) {
                seen.push(line);
            }
        }
    }
    seen
}

/// How the thread shows a person's decision.
pub(super) fn triage_line(
    set: &TriageSet,
    flagged: bool,
    staff: &StaffDirectory,
    tz: &TimeZone,
) -> TriageLine {
    TriageLine {
        priority: set.decision.priority.key().to_owned(),
        reason: set.decision.reason.map(|r| r.label().to_owned()).unwrap_or_default(),
        by: staff.shown(&set.by.id),
        at_shown: shown_time(set.at, tz),
        overruled_flag: flagged && set.decision.priority != Priority::Urgent,
    }
}

impl Desk {
    /// Sets `thread`'s priority and category as `decision` says, if this
    /// clinician may route its category and the thread is open. Lowering a
    /// red-flagged or urgent thread without a reason is refused here
    /// (`TriageError::ReasonRequired`) before anything is queued.
    pub fn prioritise(
        &self,
        thread: ThreadId,
        decision: TriageDecision,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        let me = self.me();
        let rules = self.rules();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let detail = store.thread(thread)?.ok_or(refill::RefillError::NoSuchThread)?;
        let t = &detail.thread;
        if !t.state.is_open() {
            return Err(RuleError::ThreadClosed.into());
        }
        if !can(me.role, Action::Assign, t.category) {
            return Err(RuleError::Forbidden {
                actor: sealbox_model::actor::ActorKind::Staff(me.role),
                action: Action::Assign,
                category: t.category,
            }
            .into());
        }
        let flagged = !flag_lines(&rules.red_flags, t).is_empty();
        triage::check(t.priority, flagged, &decision)?;
        let overrules = triage::overrules(t.priority, flagged, &decision);
        let received = t
            .messages
            .iter()
            .filter(|m| m.author == Author::Patient)
            .map(|m| m.received_at)
            .max()
            .unwrap_or(now);
        let due = rules
            .policy
            .target(decision.category, decision.priority)
            .and_then(|target| due_at(&rules.calendar, target, received).ok());
        let facts = TriageFacts {
            priority: decision.priority,
            category: decision.category,
            urgent: decision.priority == Priority::Urgent,
            due,
            set: Some(TriageSet { decision, by: me.clone(), at: now }),
        };
        let from = t.priority;
        let triaged = matches!(t.state, ThreadState::New).then_some(ThreadState::Triaged);
        let key = super::thread::action_key("prioritise", thread)?;
        outbox::queue_with(&mut store, &me, thread, ActionOp::Prioritise { decision }, key, now, |w| {
            if let Some(state) = &triaged {
                w.set_thread_state(thread, state, now)?;
            }
            w.set_triage_facts(thread, &facts, false, now)?;
            if overrules {
                let reason = decision.reason.map_or("none", |r| r.key());
                let object = format!(
                    "thread {}: {from} to {} ({reason}){}",
                    thread.0,
                    decision.priority,
                    if flagged { ", red-flagged" } else { "" }
                );
                audit::append(w, now, &me.id.0, "overrule_flag", &object)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}
