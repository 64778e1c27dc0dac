//! What the practice asks a patient when they ask for a repeat: questions
//! for every medicine (still taking it as prescribed, side effects) and per
//! class (a recent blood-pressure reading for blood-pressure medicines). The
//! practice signs the set with its practice key
//! (`sealbox_crypto::renewal_questions`), so a hub cannot change what
//! patients are asked; the answers travel sealed in the request's
//! medication part ([`RenewalAnswer`]) and are shown beside each medicine
//! on the refill review.

use serde::{Deserialize, Serialize};

use crate::medicine;

/// The most question sets, and questions in one set, a practice may publish.
pub const MAX_SETS: usize = 32;
/// See [`MAX_SETS`].
pub const MAX_QUESTIONS: usize = 8;
/// The longest answer a patient may give, in characters.
pub const MAX_ANSWER_CHARS: usize = 500;

/// The practice's questions, as signed. `version` only grows: a newer set
/// replaces an older one at the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalQuestions {
    /// Starts at 1; each set published after it is higher.
    pub version: u64,
    /// Matched in order; every matching set's questions are asked.
    pub sets: Vec<QuestionSet>,
}

/// Questions for every medicine (`names` empty) or for a class of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSet {
    /// What the class is, for the practice ("Blood pressure medicines").
    pub label: String,
    /// Medicine names of the class, lower case, matched against the first
    /// word of the medicine's name as the patient wrote it; empty: every
    /// medicine.
    pub names: Vec<String>,
    /// What is asked.
    pub questions: Vec<Question>,
}

/// One question, in the patient's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable within the set's versions ("side_effects").
    pub id: String,
    /// As the patient reads it.
    pub text: String,
    /// How it is answered.
    pub answer: AnswerKind,
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// Yes or no.
    YesNo,
    /// A few words ("132/84, last Tuesday").
    Text,
}

/// Why a question set is not one a practice may publish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewalQuestionsError {
    /// Version 0, too many sets or questions, an empty text or id, or an id
    /// used twice in a set.
    #[error("the renewal questions are not well formed: {0}")]
    Malformed(&'static str),
}

impl RenewalQuestions {
    /// The set a practice starts with: every medicine, and blood-pressure
    /// medicines. Practices publish their own to change it.
    pub fn standard() -> Self {
        let q = |id: &str, text: &str, answer| Question { id: id.to_owned(), text: text.to_owned(), answer };
        RenewalQuestions {
            version: 1,
            sets: vec![
                QuestionSet {
                    label: "Every medicine".to_owned(),
                    names: Vec::new(),
                    questions: vec![
                        q(
                            "taking_as_prescribed",
                            "Do you still take it the way your doctor said?",
                            AnswerKind::YesNo,
                        ),
                        q(
                            "side_effects",
                            "Has it made you feel unwell in any way? If yes, how?",
                            AnswerKind::Text,
                        ),
                    ],
                },
                QuestionSet {
                    label: "Blood pressure medicines".to_owned(),
                    names: BLOOD_PRESSURE.iter().map(|n| (*n).to_owned()).collect(),
                    questions: vec![q(
                        "blood_pressure",
                        "What was your last blood pressure reading, and when was it taken?",
                        AnswerKind::Text,
                    )],
                },
            ],
        }
    }

    /// Checks the limits a published set must keep.
    pub fn check(&self) -> Result<(), RenewalQuestionsError> {
        use RenewalQuestionsError::Malformed;
        if self.version == 0 {
            return Err(Malformed("the version starts at 1"));
        }
        if self.sets.len() > MAX_SETS {
            return Err(Malformed("too many question sets"));
        }
        for set in &self.sets {
            if set.questions.is_empty() || set.questions.len() > MAX_QUESTIONS {
                return Err(Malformed("a set has no questions, or too many"));
            }
            for (i, question) in set.questions.iter().enumerate() {
                if question.id.trim().is_empty() || question.text.trim().is_empty() {
                    return Err(Malformed("a question has no id or no text"));
                }
                if set.questions[..i].iter().any(|other| other.id == question.id) {
                    return Err(Malformed("a question id is used twice in a set"));
                }
            }
        }
        Ok(())
    }

    /// The questions asked for one medicine as the patient wrote it: those
    /// for every medicine, then those of each class it belongs to.
    pub fn for_medicine(&self, written: &str) -> Vec<&Question> {
        let name = medicine::split(written).name.to_lowercase();
        let first = name.split_whitespace().next().unwrap_or("");
        self.sets
            .iter()
            .filter(|set| set.names.is_empty() || set.names.iter().any(|n| n == first))
            .flat_map(|set| set.questions.iter())
            .collect()
    }
}

/// Blood-pressure medicines of the standard set (ACE inhibitors, ARBs,
/// calcium-channel blockers, thiazide-like diuretics, beta blockers and
/// others used for hypertension in UK primary care).
const BLOOD_PRESSURE: &[&str] = &[
    "ramipril",
    "lisinopril",
    "perindopril",
    "enalapril",
    "losartan",
    "candesartan",
    "irbesartan",
    "valsartan",
    "olmesartan",
    "amlodipine",
    "felodipine",
    "nifedipine",
    "lercanidipine",
    "indapamide",
    "bendroflumethiazide",
    "chlortalidone",
    "doxazosin",
    "bisoprolol",
    "atenolol",
    "spironolactone",
];

/// A patient's answer to one question about one medicine of the request,
/// with the question as it was asked (the set may change later). Patient
/// data: `Debug` hides the answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalAnswer {
    /// The medicine's place in the request's items.
    pub item: u16,
    /// The question's id.
    pub question_id: String,
    /// The question as the patient read it.
    pub question: String,
    /// What they answered ("Yes", "No", or their words).
    pub answer: String,
}

impl std::fmt::Debug for RenewalAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenewalAnswer")
            .field("item", &self.item)
            .field("question_id", &self.question_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blood_pressure_medicine_is_asked_for_a_reading_and_an_inhaler_is_not() {
        let set = RenewalQuestions::standard();
        set.check().unwrap();
        let ids = |written: &str| set.for_medicine(written).iter().map(|q| q.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("Ramipril 5mg capsules"), ["taking_as_prescribed", "side_effects", "blood_pressure"]);
        assert_eq!(
            ids("amlodipine 10 mg tablets x28"),
            ["taking_as_prescribed", "side_effects", "blood_pressure"]
        );
        assert_eq!(ids("Salbutamol 100micrograms/dose inhaler"), ["taking_as_prescribed", "side_effects"]);
        // A word that only contains a class name is not of the class.
        assert_eq!(ids("Pramiprilex 5mg"), ["taking_as_prescribed", "side_effects"]);
    }

    #[test]
    fn a_set_out_of_bounds_is_refused() {
        let mut set = RenewalQuestions::standard();
        set.version = 0;
        assert!(set.check().is_err());
        let mut set = RenewalQuestions::standard();
        let first = set.sets[0].questions[0].clone();
        set.sets[0].questions.push(first);
        assert_eq!(
            set.check(),
            Err(RenewalQuestionsError::Malformed("a question id is used twice in a set"))
        );
        let mut set = RenewalQuestions::standard();
        set.sets[1].questions.clear();
        assert!(set.check().is_err());
    }

    #[test]
    fn an_answer_does_not_show_in_debug() {
        let answer = RenewalAnswer {
            item: 0,
            question_id: "side_effects".into(),
            question: "Has it made you feel unwell?".into(),
            answer: "dizzy-marker-5518 in the mornings".into(),
        };
        assert!(!format!("{answer:?}").contains("dizzy-marker-5518"));
    }
}
