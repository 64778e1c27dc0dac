//! Time-to-breach: practice policy maps category × priority to a response
//! target in working time; from it come the due time, the working time left
//! and a state (on track / due soon / breached). Defaults and their sources
//! are listed in docs/triage-rules.md; practices configure their own.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkingCalendar};
use crate::category::Category;
use crate::priority::Priority;

/// How long a response may take, in working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Within {
    /// This many hours of opening time after the clock starts.
    WorkingHours(u32),
    /// By the close of the n-th working day after the day the clock starts
    /// (0 = by the close of that day).
    WorkingDays(u32),
}

/// One response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseTarget {
    /// How long.
    pub within: Within,
    /// Never later than the close of the day the clock starts on.
    pub same_day: bool,
    /// "Due soon" once this many working minutes or fewer are left.
    pub due_soon_minutes: u32,
}

impl ResponseTarget {
    /// Within `hours` working hours, capped at the same day's close.
    pub fn same_day_hours(hours: u32, due_soon_minutes: u32) -> Self {
        ResponseTarget { within: Within::WorkingHours(hours), same_day: true, due_soon_minutes }
    }

    /// By the close of the `days`-th working day.
    pub fn working_days(days: u32, due_soon_minutes: u32) -> Self {
        ResponseTarget { within: Within::WorkingDays(days), same_day: false, due_soon_minutes }
    }
}

/// One row of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyEntry {
    /// Category.
    pub category: Category,
    /// Priority.
    pub priority: Priority,
    /// Target.
    pub target: ResponseTarget,
}

/// A practice's response-time policy: a target for every category × priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsePolicy {
    entries: Vec<PolicyEntry>,
}

/// The working days a routine request of `category` gets by default.
pub fn default_routine_days(category: Category) -> u32 {
    match category {
        Category::RepeatPrescription | Category::MedicationQuestion => 2,
        Category::TestResults | Category::ClinicalQuestion | Category::Other => 3,
        Category::AdminFitNote | Category::AdminAppointment | Category::AdminLetters => 5,
    }
}

impl ResponsePolicy {
    /// The defaults documented in docs/triage-rules.md: urgent within 4
    /// working hours the same day; soon by the next working day's close;
    /// routine by category (prescriptions 2 working days, clinical and
    /// results 3, admin 5).
    pub fn uk_defaults() -> Self {
        let mut entries = Vec::new();
        for category in Category::ALL {
            entries.push(PolicyEntry {
                category,
                priority: Priority::Urgent,
                target: ResponseTarget::same_day_hours(4, 60),
            });
            entries.push(PolicyEntry {
                category,
                priority: Priority::Soon,
                target: ResponseTarget::working_days(1, 120),
            });
            entries.push(PolicyEntry {
                category,
                priority: Priority::Routine,
                target: ResponseTarget::working_days(default_routine_days(category), 240),
            });
        }
        ResponsePolicy { entries }
    }

    /// The target for a category and priority (the last matching entry wins).
    pub fn target(&self, category: Category, priority: Priority) -> Option<ResponseTarget> {
        self.entries.iter().rev().find(|e| e.category == category && e.priority == priority).map(|e| e.target)
    }

    /// Sets (overrides) one target.
    pub fn set(&mut self, category: Category, priority: Priority, target: ResponseTarget) {
        self.entries.retain(|e| !(e.category == category && e.priority == priority));
        self.entries.push(PolicyEntry { category, priority, target });
    }

    /// The rows, in insertion order.
    pub fn entries(&self) -> &[PolicyEntry] {
        &self.entries
    }
}

/// Where a thread stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachState {
    /// Plenty of time.
    OnTrack,
    /// Within the target's "due soon" window.
    DueSoon,
    /// Past the due time.
    Breached,
}

impl BreachState {
    /// The snake_case key used in JSON and by the UI.
    pub fn key(self) -> &'static str {
        match self {
            BreachState::OnTrack => "on_track",
            BreachState::DueSoon => "due_soon",
            BreachState::Breached => "breached",
        }
    }
}

/// The time-to-breach of a thread at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachStatus {
    /// When the response is due.
    pub due: Timestamp,
    /// Working time left (negative: working time overdue).
    pub remaining_working: SignedDuration,
    /// Wall-clock time left (negative: overdue).
    pub remaining_wall: SignedDuration,
    /// The state.
    pub state: BreachState,
}

/// The due time of something received at `received` under `target`.
pub fn due_at(
    calendar: &WorkingCalendar,
    target: ResponseTarget,
    received: Timestamp,
) -> Result<Timestamp, CalendarError> {
    let due = match target.within {
        Within::WorkingHours(h) => {
            calendar.add_working_time(received, SignedDuration::from_hours(i64::from(h)))?
        }
        Within::WorkingDays(n) => calendar.close_of_working_day(received, n)?,
    };
    if target.same_day {
        let close = calendar.close_of_working_day(received, 0)?;
        Ok(due.min(close))
    } else {
        Ok(due)
    }
}

/// The status at `now` of something received at `received` under `target`.
pub fn status(
    calendar: &WorkingCalendar,
    target: ResponseTarget,
    received: Timestamp,
    now: Timestamp,
) -> Result<BreachStatus, CalendarError> {
    let due = due_at(calendar, target, received)?;
    let remaining_working = calendar.working_time_between(now, due)?;
    let remaining_wall = due.duration_since(now);
    let state = if now >= due {
        BreachState::Breached
    } else if remaining_working <= SignedDuration::from_mins(i64::from(target.due_soon_minutes)) {
        BreachState::DueSoon
    } else {
        BreachState::OnTrack
    };
    Ok(BreachStatus { due, remaining_working, remaining_wall, state })
}

/// Looks up the target in `policy` and computes the status; `None` if the
/// policy has no target for this category and priority.
pub fn status_for(
    calendar: &WorkingCalendar,
    policy: &ResponsePolicy,
    category: Category,
    priority: Priority,
    received: Timestamp,
    now: Timestamp,
) -> Result<Option<BreachStatus>, CalendarError> {
    match policy.target(category, priority) {
        Some(t) => status(calendar, t, received, now).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank_holidays::Nation;
    use crate::calendar::uk_time_zone;
    use jiff::civil::Date;

    fn uk(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        uk_time_zone().unwrap().to_timestamp(Date::new(y, mo, d).unwrap().at(h, mi, 0, 0)).unwrap()
    }
    fn ew() -> WorkingCalendar {
        WorkingCalendar::uk_default(Nation::EnglandAndWales).unwrap()
    }
    fn due(c: Category, p: Priority, received: Timestamp) -> Timestamp {
        let t = ResponsePolicy::uk_defaults().target(c, p).unwrap();
        due_at(&ew(), t, received).unwrap()
    }

    #[test]
    fn defaults_cover_every_category_and_priority() {
        let p = ResponsePolicy::uk_defaults();
        for c in Category::ALL {
            for pr in Priority::ALL {
                assert!(p.target(c, pr).is_some(), "{c} {pr}");
            }
        }
        assert_eq!(
            p.target(Category::TestResults, Priority::Urgent).unwrap().within,
            Within::WorkingHours(4)
        );
    }

    #[test]
    fn urgent_is_four_working_hours_capped_at_the_same_day() {
        // Tuesday 10:00 → 14:00.
        assert_eq!(
            due(Category::ClinicalQuestion, Priority::Urgent, uk(2025, 3, 4, 10, 0)),
            uk(2025, 3, 4, 14, 0)
        );
        // Tuesday 16:00 → 18:30 the same day (not 09:30 Wednesday).
        assert_eq!(
            due(Category::ClinicalQuestion, Priority::Urgent, uk(2025, 3, 4, 16, 0)),
            uk(2025, 3, 4, 18, 30)
        );
        // Tuesday 20:00 → clock starts Wednesday 08:00 → 12:00.
        assert_eq!(
            due(Category::ClinicalQuestion, Priority::Urgent, uk(2025, 3, 4, 20, 0)),
            uk(2025, 3, 5, 12, 0)
        );
    }

    #[test]
    fn routine_targets_by_category_in_working_days() {
        let mon = uk(2025, 3, 3, 10, 0);
        assert_eq!(due(Category::RepeatPrescription, Priority::Routine, mon), uk(2025, 3, 5, 18, 30));
        assert_eq!(due(Category::TestResults, Priority::Routine, mon), uk(2025, 3, 6, 18, 30));
        assert_eq!(due(Category::ClinicalQuestion, Priority::Routine, mon), uk(2025, 3, 6, 18, 30));
        assert_eq!(due(Category::AdminLetters, Priority::Routine, mon), uk(2025, 3, 10, 18, 30));
        // Thursday before Easter 2025 + 2 working days skips Good Friday and
        // Easter Monday: due Wednesday 23 April in England.
        assert_eq!(
            due(Category::RepeatPrescription, Priority::Routine, uk(2025, 4, 17, 9, 0)),
            uk(2025, 4, 23, 18, 30)
        );
        // In Scotland Easter Monday is a working day: due Tuesday 22 April.
        let sc = WorkingCalendar::uk_default(Nation::Scotland).unwrap();
        let t =
            ResponsePolicy::uk_defaults().target(Category::RepeatPrescription, Priority::Routine).unwrap();
        assert_eq!(due_at(&sc, t, uk(2025, 4, 17, 9, 0)).unwrap(), uk(2025, 4, 22, 18, 30));
    }

    #[test]
    fn states_move_from_on_track_to_due_soon_to_breached() {
        let c = ew();
        let t = ResponseTarget::same_day_hours(4, 60);
        let received = uk(2025, 3, 4, 10, 0);
        let at = |h, m| status(&c, t, received, uk(2025, 3, 4, h, m)).unwrap();
        assert_eq!(at(10, 0).state, BreachState::OnTrack);
        assert_eq!(at(10, 0).remaining_working, SignedDuration::from_hours(4));
        assert_eq!(at(13, 0).state, BreachState::DueSoon);
        assert_eq!(at(14, 0).state, BreachState::Breached);
        let late = at(15, 30);
        assert_eq!(late.state, BreachState::Breached);
        assert_eq!(late.remaining_working, SignedDuration::from_mins(-90));
        assert_eq!(late.remaining_wall, SignedDuration::from_mins(-90));
    }

    #[test]
    fn remaining_working_time_ignores_the_night_but_wall_time_does_not() {
        let c = ew();
        let t = ResponseTarget::working_days(1, 120);
        let s = status(&c, t, uk(2025, 3, 4, 10, 0), uk(2025, 3, 4, 18, 0)).unwrap();
        assert_eq!(s.due, uk(2025, 3, 5, 18, 30));
        assert_eq!(s.remaining_working, SignedDuration::from_mins(30 + 630));
        assert_eq!(s.remaining_wall, SignedDuration::from_mins(24 * 60 + 30));
        assert_eq!(s.state, BreachState::OnTrack);
    }

    #[test]
    fn practices_override_targets() {
        let mut p = ResponsePolicy::uk_defaults();
        p.set(Category::RepeatPrescription, Priority::Routine, ResponseTarget::working_days(3, 240));
        assert_eq!(
            p.target(Category::RepeatPrescription, Priority::Routine).unwrap().within,
            Within::WorkingDays(3)
        );
        assert_eq!(p.entries().len(), 24);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ResponsePolicy>(&json).unwrap(), p);
    }
}
