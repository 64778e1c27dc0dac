//! A person's triage decision: the priority and category a clinician gives a
//! thread. The red-flag detector only suggests; this is what a person
//! decides, and lowering a thread that is urgent or red-flagged needs a
//! coded reason, so a practice can review the flags its clinicians
//! overruled (who, when, why: kept in the audit chain and the hub's log).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::actor::StaffRef;
use crate::category::Category;
use crate::priority::Priority;

/// Why a clinician lowered an urgent or red-flagged thread (coded, so no
/// free text reaches the hub or the audit chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LowerReason {
    /// Read in full: the words that matched are not an emergency here.
    NotUrgentOnReading,
    /// It happened in the past or has resolved.
    PastOrResolved,
    /// Already assessed elsewhere (A&E, 111, out of hours, a home visit).
    AlreadyAssessed,
    /// A question about information, not a symptom now.
    InformationOnly,
    /// Handled another way today (a call, an appointment booked).
    HandledToday,
}

impl LowerReason {
    /// Every reason, in the order a screen offers them.
    pub const ALL: [LowerReason; 5] = [
        LowerReason::NotUrgentOnReading,
        LowerReason::PastOrResolved,
        LowerReason::AlreadyAssessed,
        LowerReason::InformationOnly,
        LowerReason::HandledToday,
    ];

    /// The snake_case name.
    pub fn key(self) -> &'static str {
        match self {
            LowerReason::NotUrgentOnReading => "not_urgent_on_reading",
            LowerReason::PastOrResolved => "past_or_resolved",
            LowerReason::AlreadyAssessed => "already_assessed",
            LowerReason::InformationOnly => "information_only",
            LowerReason::HandledToday => "handled_today",
        }
    }

    /// What a screen says.
    pub fn label(self) -> &'static str {
        match self {
            LowerReason::NotUrgentOnReading => "Not urgent on reading the whole message",
            LowerReason::PastOrResolved => "Past event or resolved",
            LowerReason::AlreadyAssessed => "Already assessed elsewhere",
            LowerReason::InformationOnly => "Asking for information only",
            LowerReason::HandledToday => "Handled another way today",
        }
    }

    /// From [`LowerReason::key`].
    pub fn from_key(key: &str) -> Option<LowerReason> {
        LowerReason::ALL.into_iter().find(|r| r.key() == key)
    }
}

impl fmt::Display for LowerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What a clinician decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageDecision {
    /// The priority.
    pub priority: Priority,
    /// The category (the same one, or a correction).
    pub category: Category,
    /// Why, when it lowers an urgent or red-flagged thread.
    #[serde(default)]
    pub reason: Option<LowerReason>,
}

/// A decision as the thread keeps it: who made it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageSet {
    /// The decision.
    pub decision: TriageDecision,
    /// Who.
    pub by: StaffRef,
    /// When the hub applied it (the workstation's clock until then).
    pub at: Timestamp,
}

/// Why a decision is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    /// Lowering an urgent or red-flagged thread needs a reason.
    #[error("lowering an urgent or red-flagged thread needs a reason")]
    ReasonRequired,
}

/// Whether `decision` may replace a thread's `current` priority, where
/// `flagged` says the red-flag detector raised the thread (the hub, which
/// cannot read, passes false and checks only the priority it holds).
pub fn check(current: Priority, flagged: bool, decision: &TriageDecision) -> Result<(), TriageError> {
    let was_urgent = flagged || current == Priority::Urgent;
    if was_urgent && decision.priority != Priority::Urgent && decision.reason.is_none() {
        return Err(TriageError::ReasonRequired);
    }
    Ok(())
}

/// Whether `decision` overrules the detector or an urgent priority (what
/// the audit chain names `overrule_flag`).
pub fn overrules(current: Priority, flagged: bool, decision: &TriageDecision) -> bool {
    (flagged || current == Priority::Urgent) && decision.priority != Priority::Urgent
}

/// The priority a thread shows: a person's decision, unless a red flag was
/// raised by a patient message that arrived after it (a new warning is
/// never hidden by an older decision); with no decision, urgent when
/// flagged, else routine.
pub fn effective_priority(set: Option<&TriageSet>, latest_flag: Option<Timestamp>) -> Priority {
    match (set, latest_flag) {
        (Some(s), Some(flag)) if flag > s.at => Priority::Urgent,
        (Some(s), _) => s.decision.priority,
        (None, Some(_)) => Priority::Urgent,
        (None, None) => Priority::Routine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StaffId;
    use crate::role::Role;

    fn decision(priority: Priority, reason: Option<LowerReason>) -> TriageDecision {
        TriageDecision { priority, category: Category::ClinicalQuestion, reason }
    }

    #[test]
    fn lowering_a_flagged_or_urgent_thread_needs_a_reason() {
        let lower = decision(Priority::Routine, None);
        assert_eq!(check(Priority::Urgent, false, &lower), Err(TriageError::ReasonRequired));
        assert_eq!(check(Priority::Routine, true, &lower), Err(TriageError::ReasonRequired));
        assert_eq!(check(Priority::Soon, false, &lower), Ok(()));
        let with = decision(Priority::Soon, Some(LowerReason::PastOrResolved));
        assert_eq!(check(Priority::Urgent, true, &with), Ok(()));
        assert!(overrules(Priority::Routine, true, &with));
        // Raising never needs one.
        assert_eq!(check(Priority::Routine, false, &decision(Priority::Urgent, None)), Ok(()));
        assert!(!overrules(Priority::Urgent, true, &decision(Priority::Urgent, None)));
    }

    #[test]
    fn a_flag_raised_after_a_decision_shows_urgent_again() {
        let t = |s: i64| Timestamp::from_second(1_700_000_000 + s).unwrap();
        let set = TriageSet {
            decision: decision(Priority::Routine, Some(LowerReason::NotUrgentOnReading)),
            by: StaffRef { id: StaffId("staff-1".into()), role: Role::Gp },
            at: t(100),
        };
        assert_eq!(effective_priority(Some(&set), None), Priority::Routine);
        assert_eq!(effective_priority(Some(&set), Some(t(50))), Priority::Routine);
        assert_eq!(effective_priority(Some(&set), Some(t(150))), Priority::Urgent);
        assert_eq!(effective_priority(None, Some(t(1))), Priority::Urgent);
        assert_eq!(effective_priority(None, None), Priority::Routine);
    }

    #[test]
    fn reasons_round_trip_by_key() {
        for r in LowerReason::ALL {
            assert_eq!(LowerReason::from_key(r.key()), Some(r));
        }
        assert_eq!(LowerReason::from_key("because"), None);
    }
}
