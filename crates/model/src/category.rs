//! What a thread is about. The patient picks one; triage may correct it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The category of a thread. Admin requests come in three kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A request to issue medication already on the repeat list.
    RepeatPrescription,
    /// A question about a medicine (dose, side effect, interaction).
    MedicationQuestion,
    /// Asking about blood tests, scans or other results.
    TestResults,
    /// Any other clinical question.
    ClinicalQuestion,
    /// Admin: a fit note (statement of fitness for work).
    AdminFitNote,
    /// Admin: booking, changing or cancelling an appointment.
    AdminAppointment,
    /// Admin: letters, forms and reports.
    AdminLetters,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category, in the order used by tables and docs.
    pub const ALL: [Category; 8] = [
        Category::RepeatPrescription,
        Category::MedicationQuestion,
        Category::TestResults,
        Category::ClinicalQuestion,
        Category::AdminFitNote,
        Category::AdminAppointment,
        Category::AdminLetters,
        Category::Other,
    ];

    /// The snake_case name used in JSON and in docs/triage-rules.md.
    pub fn key(self) -> &'static str {
        match self {
            Category::RepeatPrescription => "repeat_prescription",
            Category::MedicationQuestion => "medication_question",
            Category::TestResults => "test_results",
            Category::ClinicalQuestion => "clinical_question",
            Category::AdminFitNote => "admin_fit_note",
            Category::AdminAppointment => "admin_appointment",
            Category::AdminLetters => "admin_letters",
            Category::Other => "other",
        }
    }

    /// True for the three admin kinds.
    pub fn is_admin(self) -> bool {
        matches!(self, Category::AdminFitNote | Category::AdminAppointment | Category::AdminLetters)
    }

    /// A bit unique to this category, for compact category sets.
    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
