//! Roles of the practice team.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::pool::Pool;

/// What a member of staff is enrolled as; permissions hang off this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// General practitioner.
    Gp,
    /// Practice nurse (including nurse prescribers).
    Nurse,
    /// Practice-based clinical pharmacist.
    Pharmacist,
    /// Reception / care navigator.
    CareNavigator,
    /// Practice manager or administrator: enrols people, sets policy.
    PracticeAdmin,
}

impl Role {
    /// Every role, in the order used by tables and docs.
    pub const ALL: [Role; 5] =
        [Role::Gp, Role::Nurse, Role::Pharmacist, Role::CareNavigator, Role::PracticeAdmin];

    /// The snake_case name used in JSON and in docs/triage-rules.md.
    pub fn key(self) -> &'static str {
        match self {
            Role::Gp => "gp",
            Role::Nurse => "nurse",
            Role::Pharmacist => "pharmacist",
            Role::CareNavigator => "care_navigator",
            Role::PracticeAdmin => "practice_admin",
        }
    }

    /// The title shown to patients and colleagues, e.g. under a reply.
    pub fn title(self) -> &'static str {
        match self {
            Role::Gp => "GP",
            Role::Nurse => "Practice nurse",
            Role::Pharmacist => "Clinical pharmacist",
            Role::CareNavigator => "Care navigator",
            Role::PracticeAdmin => "Practice manager",
        }
    }

    /// Whether this role gives patients invites to write from their
    /// browser (reception's job; the practice manager's too).
    pub fn may_invite_patients(self) -> bool {
        matches!(self, Role::CareNavigator | Role::PracticeAdmin)
    }

    /// The pool whose queue this role works from.
    pub fn pool(self) -> Pool {
        match self {
            Role::Gp => Pool::Gp,
            Role::Nurse => Pool::Nurse,
            Role::Pharmacist => Pool::Pharmacy,
            Role::CareNavigator | Role::PracticeAdmin => Pool::Admin,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
