//! A new request that repeats one the patient already has open (issue 23
//! point 11): the same medicine, or the same question, within 7 days. The
//! workstation links it at intake (the hub cannot read either request) and
//! a clinician merges it with one key; nothing is merged automatically.
//!
//! "The same question" is kept narrow on purpose: the same category and most
//! of the same words (at least [`SAME_QUESTION_OVERLAP`] of the words of
//! four letters or more that either message uses). A false link costs a
//! glance; a false merge would hide a second question, so the rule only
//! suggests and the clinician decides.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::ids::ThreadId;
use crate::medicine;

/// How far back an open request counts as the one being repeated.
pub const DUPLICATE_WINDOW_DAYS: i64 = 7;

/// Share of shared words (Jaccard) above which two messages of a category
/// ask the same question.
pub const SAME_QUESTION_OVERLAP: f64 = 0.6;

/// Why a request was linked. No patient data: safe to store and show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// It asks for a medicine the open request asks for.
    SameMedicine,
    /// It asks the same question.
    SameQuestion,
}

impl DuplicateReason {
    /// Stable key for storage.
    pub fn key(self) -> &'static str {
        match self {
            DuplicateReason::SameMedicine => "same_medicine",
            DuplicateReason::SameQuestion => "same_question",
        }
    }

    /// Parses [`DuplicateReason::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        [DuplicateReason::SameMedicine, DuplicateReason::SameQuestion].into_iter().find(|r| r.key() == key)
    }

    /// In words, for the thread screen.
    pub fn words(self) -> &'static str {
        match self {
            DuplicateReason::SameMedicine => "asks for the same medicine",
            DuplicateReason::SameQuestion => "asks the same question",
        }
    }
}

/// One request as the rule compares it: its first patient message. Patient
/// data: no `Debug`.
pub struct Request<'a> {
    /// The thread.
    pub thread: ThreadId,
    /// Its category.
    pub category: Category,
    /// When its first patient message arrived.
    pub received_at: Timestamp,
    /// The medicines it lists, as written.
    pub medicines: Vec<&'a str>,
    /// Its free text.
    pub text: &'a str,
}

fn words(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect()
}

fn medicine_names<'a>(r: &Request<'a>) -> Vec<String> {
    r.medicines
        .iter()
        .map(|m| medicine::split(m).name.trim().to_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

fn same_question(a: &str, b: &str) -> bool {
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    if union == 0 {
        return false;
    }
    let shared = a.intersection(&b).count();
    #[allow(clippy::cast_precision_loss)] // word counts are small
    let overlap = shared as f64 / union as f64;
    overlap >= SAME_QUESTION_OVERLAP
}

/// Why `new` repeats `open`, if it does: same category, `open` received no
/// more than [`DUPLICATE_WINDOW_DAYS`] before `new`, and a medicine in
/// common or the same question.
pub fn repeats(new: &Request<'_>, open: &Request<'_>) -> Option<DuplicateReason> {
    if new.thread == open.thread || new.category != open.category {
        return None;
    }
    // Only an earlier request is repeated (the lower id first, for two
    // that arrived in the same instant).
    if (open.received_at, open.thread) >= (new.received_at, new.thread) {
        return None;
    }
    let age = new.received_at.duration_since(open.received_at);
    if age.as_secs() > DUPLICATE_WINDOW_DAYS * 24 * 3600 {
        return None;
    }
    let theirs = medicine_names(open);
    if medicine_names(new).iter().any(|n| theirs.contains(n)) {
        return Some(DuplicateReason::SameMedicine);
    }
    if same_question(new.text, open.text) {
        return Some(DuplicateReason::SameQuestion);
    }
    None
}

/// The open request `new` repeats, the most recent first, with why.
pub fn duplicate_of(new: &Request<'_>, open: &[Request<'_>]) -> Option<(ThreadId, DuplicateReason)> {
    open.iter()
        .filter_map(|o| repeats(new, o).map(|why| (o.received_at, o.thread, why)))
        .max_by_key(|(at, id, _)| (*at, *id))
        .map(|(_, id, why)| (id, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + days * 86_400).unwrap()
    }

    fn req<'a>(id: u64, category: Category, day: i64, medicines: Vec<&'a str>, text: &'a str) -> Request<'a> {
        Request { thread: ThreadId(id), category, received_at: at(day), medicines, text }
    }

    #[test]
    fn a_request_for_a_medicine_already_asked_for_this_week_is_a_duplicate() {
        let open = req(1, Category::RepeatPrescription, 0, vec!["Ramipril 5mg capsules"], "");
        let new = req(2, Category::RepeatPrescription, 3, vec!["ramipril 10mg", "Aspirin 75mg"], "");
        assert_eq!(repeats(&new, &open), Some(DuplicateReason::SameMedicine));
        // A different medicine is a new request.
        let other = req(3, Category::RepeatPrescription, 3, vec!["Atorvastatin 20mg"], "");
        assert_eq!(repeats(&other, &open), None);
    }

    #[test]
    fn only_the_last_seven_days_count_and_only_an_earlier_request() {
        let open = req(1, Category::RepeatPrescription, 0, vec!["Ramipril 5mg"], "");
        let day7 = req(2, Category::RepeatPrescription, 7, vec!["Ramipril 5mg"], "");
        let day8 = req(3, Category::RepeatPrescription, 8, vec!["Ramipril 5mg"], "");
        assert!(repeats(&day7, &open).is_some());
        assert_eq!(repeats(&day8, &open), None);
        // The earlier request never repeats the later one; of two at the
        // same instant, the lower id is the original.
        assert_eq!(repeats(&open, &day7), None);
        let twin = req(9, Category::RepeatPrescription, 0, vec!["Ramipril 5mg"], "");
        assert!(repeats(&twin, &open).is_some());
        assert_eq!(repeats(&open, &twin), None);
    }

    #[test]
    fn the_same_question_needs_the_same_category_and_most_of_the_same_words() {
        let text = "Could I have my blood test results from last Tuesday please";
        let open = req(1, Category::TestResults, 0, vec![], text);
        let again = req(
            2,
            Category::TestResults,
            1,
            vec![],
            "Could I please have my blood test results from Tuesday?",
        );
        assert_eq!(repeats(&again, &open), Some(DuplicateReason::SameQuestion));
        let elsewhere = req(3, Category::AdminLetters, 1, vec![], text);
        assert_eq!(repeats(&elsewhere, &open), None);
        let different =
            req(4, Category::TestResults, 1, vec![], "What did my cholesterol result from the nurse show?");
        assert_eq!(repeats(&different, &open), None);
        let blank = req(5, Category::TestResults, 1, vec![], "");
        assert_eq!(repeats(&blank, &req(6, Category::TestResults, 0, vec![], "")), None);
    }

    #[test]
    fn the_most_recent_repeated_request_is_the_link() {
        let older = req(1, Category::RepeatPrescription, 0, vec!["Ramipril 5mg"], "");
        let newer = req(2, Category::RepeatPrescription, 2, vec!["Ramipril 5mg"], "");
        let new = req(3, Category::RepeatPrescription, 4, vec!["Ramipril 5mg"], "");
        assert_eq!(duplicate_of(&new, &[older, newer]), Some((ThreadId(2), DuplicateReason::SameMedicine)));
        assert_eq!(DuplicateReason::from_key("same_question"), Some(DuplicateReason::SameQuestion));
    }
}
