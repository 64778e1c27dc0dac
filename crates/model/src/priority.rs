//! How quickly a thread needs a response.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Triage priority, set by a person (red flags only suggest `Urgent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Same working day.
    Urgent,
    /// Next working day.
    Soon,
    /// The category's routine target.
    Routine,
}

impl Priority {
    /// Every priority, most pressing first.
    pub const ALL: [Priority; 3] = [Priority::Urgent, Priority::Soon, Priority::Routine];

    /// The snake_case name.
    pub fn key(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Soon => "soon",
            Priority::Routine => "routine",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
