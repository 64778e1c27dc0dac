//! The practice's quick replies: short, plain-language answers a clinician
//! picks and edits before sending. A template names its placeholders in
//! braces (`{first_name}`, `{medicine}`); [`fill`] puts the thread's values
//! in, and a template whose value the thread lacks is not offered, so a
//! reply never goes out reading "{medicine}".

use crate::category::Category;
use crate::hub_api::{ItemDecision, ItemOutcome, RefillChoice};
use crate::refill::RejectionReason;

/// One quick reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Stable key (for the UI and tests).
    pub key: &'static str,
    /// What the clinician sees in the picker.
    pub label: &'static str,
    /// The text, with placeholders.
    pub text: &'static str,
    /// The categories it is offered on (empty: every category).
    pub categories: &'static [Category],
}

/// The default set (until practices edit their own at the hub).
pub const DEFAULTS: &[Template] = &[
    Template {
        key: "refill_ready",
        label: "Prescription issued",
        text: "Dear {first_name}, your repeat prescription for {medicine} has been issued and sent to your \
               nominated pharmacy. It is usually ready to collect in 2 working days.",
        categories: &[Category::RepeatPrescription],
    },
    Template {
        key: "refill_review",
        label: "Medication review needed",
        text: "Dear {first_name}, before we can issue {medicine} again we need to review it with you. \
               Please book a medication review with the practice; we have issued enough to last until then.",
        categories: &[Category::RepeatPrescription, Category::MedicationQuestion],
    },
    Template {
        key: "book_appointment",
        label: "Please book an appointment",
        text: "Dear {first_name}, thank you for your message. We would like to see you about this. \
               Please call the practice or book online for an appointment this week.",
        categories: &[],
    },
    Template {
        key: "results_normal",
        label: "Results normal",
        text: "Dear {first_name}, your recent test results have been reviewed and are normal. \
               No further action is needed.",
        categories: &[Category::TestResults],
    },
    Template {
        key: "urgent_care",
        label: "Seek urgent care",
        text: "Dear {first_name}, from what you describe you need to be seen urgently today. \
               Please call 111, or 999 if it is an emergency.",
        categories: &[],
    },
];

/// What the patient is told when a clinician decides a repeat prescription
/// request without writing a note: the practice's wording for the outcome
/// or the coded reason (until practices edit their own at the hub). A
/// decision is never left untold. `Other` always needs the clinician's
/// note, and a query is the clinician's question, so neither has one.
pub fn decision_wording(choice: RefillChoice) -> Option<&'static str> {
    use RejectionReason as R;
    Some(match choice {
        RefillChoice::Approve => {
            "Dear {first_name}, your repeat prescription for {medicine} has been issued and sent to your \
             nominated pharmacy. It is usually ready to collect in 2 working days."
        }
        RefillChoice::Reject { reason } => match reason {
            R::TooEarly => {
                "Dear {first_name}, we have not issued {medicine} this time: it is too early, as your last \
                 supply should not have run out yet. Please ask again about a week before it does."
            }
            R::ReviewNeeded => {
                "Dear {first_name}, before we can issue {medicine} again we need to review it with you. \
                 Please book a medication review with the practice."
            }
            R::MonitoringNeeded => {
                "Dear {first_name}, before we can issue {medicine} again you need a blood test or check. \
                 Please book it with the practice; we will issue it once the result is back."
            }
            R::AppointmentNeeded => {
                "Dear {first_name}, we need to see you before issuing {medicine} again. Please book an \
                 appointment with the practice."
            }
            R::NotOnRepeat => {
                "Dear {first_name}, {medicine} is not on your repeat list, so we cannot issue it from a \
                 repeat request. Please book an appointment if you still need it."
            }
            R::MedicationChanged => {
                "Dear {first_name}, {medicine} or its dose has changed since your last request, so we have \
                 not issued it as asked. Please check your latest repeat list or contact the practice."
            }
            R::Duplicate => {
                "Dear {first_name}, {medicine} has already been issued or requested, so we have not issued \
                 it again. Please check with your pharmacy."
            }
            R::Other => return None,
        },
        RefillChoice::QueryPatient => return None,
    })
}

/// [`decision_wording`] filled with the thread's values (`None` when the
/// thread lacks one, or the outcome has no wording).
pub fn decision_reply(choice: RefillChoice, values: &Placeholders) -> Option<String> {
    let text = decision_wording(choice)?;
    fill(&Template { key: "decision", label: "", text, categories: &[] }, values)
}

/// What the patient is told of a request decided medicine by medicine,
/// without a note (`names[i]`: the i-th medicine as written): those issued
/// in the practice's wording for an approval, then each one not issued in
/// the wording for its reason, under one greeting. `None` when a medicine
/// or the first name is missing, or a reason has no wording ("other": the
/// clinician's note is needed).
pub fn items_reply(items: &[ItemDecision], names: &[String], first_name: Option<&str>) -> Option<String> {
    let first_name = first_name?;
    let name = |d: &ItemDecision| names.get(usize::from(d.item)).map(String::as_str);
    let values =
        |medicine: String| Placeholders { first_name: Some(first_name.to_owned()), medicine: Some(medicine) };
    let issued: Vec<&str> =
        items.iter().filter(|d| d.outcome == ItemOutcome::Issue).map(name).collect::<Option<_>>()?;
    let mut sentences = Vec::new();
    if !issued.is_empty() {
        sentences.push(decision_reply(RefillChoice::Approve, &values(and_list(&issued)))?);
    }
    for d in items {
        if let ItemOutcome::NotIssued { reason } = d.outcome {
            sentences.push(decision_reply(RefillChoice::Reject { reason }, &values(name(d)?.to_owned()))?);
        }
    }
    // One greeting: the later sentences start without it.
    let greeting = format!("Dear {first_name}, ");
    let mut out = String::new();
    for (i, s) in sentences.iter().enumerate() {
        match s.strip_prefix(&greeting).filter(|_| i > 0) {
            Some(rest) => {
                let mut chars = rest.chars();
                out.push(' ');
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(chars.as_str());
            }
            None => out.push_str(s),
        }
    }
    Some(out)
}

/// "a", "a and b", "a, b and c".
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The values a thread offers for placeholders.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// The patient's first name.
    pub first_name: Option<String>,
    /// The medicine(s) asked for in the thread, as written.
    pub medicine: Option<String>,
}

impl std::fmt::Debug for Placeholders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Placeholders { <hidden> }")
    }
}

/// `template` with every placeholder replaced; `None` when a placeholder
/// has no value here or is unknown.
pub fn fill(template: &Template, values: &Placeholders) -> Option<String> {
    let mut out = String::with_capacity(template.text.len() + 32);
    let mut rest = template.text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let value = match &after[..close] {
            "first_name" => values.first_name.as_deref()?,
            "medicine" => values.medicine.as_deref()?,
            _ => return None,
        };
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The templates offered on a thread of `category`, filled, in order.
pub fn offered(category: Category, values: &Placeholders) -> Vec<(&'static Template, String)> {
    DEFAULTS
        .iter()
        .filter(|t| t.categories.is_empty() || t.categories.contains(&category))
        .filter_map(|t| fill(t, values).map(|text| (t, text)))
        .collect()
}

/// `text` with `insert` (a chosen template) put in place of the selection
/// between `start` and `end` (UTF-16 offsets, as a text box reports them),
/// separated from what was typed by a space on either side where needed:
/// choosing a template adds to a half-typed reply instead of replacing it.
/// Returns the new text and the caret just after the insertion (UTF-16).
pub fn insert_at(text: &str, start: u32, end: u32, insert: &str) -> (String, u32) {
    let byte_at = |unit: u32| {
        let mut seen = 0u32;
        for (i, c) in text.char_indices() {
            if seen >= unit {
                return i;
            }
            seen += c.len_utf16() as u32;
        }
        text.len()
    };
    let (a, b) = (byte_at(start.min(end)), byte_at(start.max(end)));
    let (before, after) = (&text[..a], &text[b..]);
    let mut out = String::with_capacity(text.len() + insert.len() + 2);
    out.push_str(before);
    if before.chars().next_back().is_some_and(|c| !c.is_whitespace()) {
        out.push(' ');
    }
    out.push_str(insert);
    let caret = out.encode_utf16().count() as u32;
    if after.chars().next().is_some_and(|c| !c.is_whitespace()) {
        out.push(' ');
    }
    out.push_str(after);
    (out, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Placeholders {
        Placeholders { first_name: Some("Amara".into()), medicine: Some("Ramipril 5mg capsules".into()) }
    }

    #[test]
    fn a_request_decided_medicine_by_medicine_is_told_under_one_greeting() {
        use crate::hub_api::{ItemDecision, ItemOutcome};
        let names = ["Ramipril 5mg".to_owned(), "Atorvastatin 20mg".to_owned(), "Amlodipine 5mg".to_owned()];
        let issue = |item| ItemDecision { item, outcome: ItemOutcome::Issue };
        let not = |item, reason| ItemDecision { item, outcome: ItemOutcome::NotIssued { reason } };
        let items = [issue(0), not(1, RejectionReason::ReviewNeeded), issue(2)];
        let said = items_reply(&items, &names, Some("Amara")).unwrap();
        assert!(
            said.starts_with("Dear Amara, your repeat prescription for Ramipril 5mg and Amlodipine 5mg"),
            "{said}"
        );
        assert_eq!(said.matches("Dear ").count(), 1, "{said}");
        assert!(said.contains(" Before we can issue Atorvastatin 20mg again we need to review it"), "{said}");
        assert_eq!(items_reply(&[not(0, RejectionReason::Other)], &names, Some("Amara")), None);
        assert_eq!(items_reply(&[issue(3)], &names, Some("Amara")), None, "no fourth medicine");
        assert_eq!(items_reply(&items, &names, None), None);
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn every_decision_but_other_and_a_query_tells_the_patient_in_plain_words() {
        let v = values();
        let approve = decision_reply(RefillChoice::Approve, &v).unwrap();
        assert!(approve.starts_with("Dear Amara,") && approve.contains("Ramipril 5mg capsules"));
        for reason in RejectionReason::ALL {
            let said = decision_reply(RefillChoice::Reject { reason }, &v);
            if reason == RejectionReason::Other {
                assert_eq!(said, None, "other needs the clinician's own note");
            } else {
                let said = said.unwrap();
                assert!(said.contains("Ramipril 5mg capsules") && !said.contains('{'), "{reason}: {said}");
            }
        }
        assert_eq!(decision_reply(RefillChoice::QueryPatient, &v), None);
        assert_eq!(decision_reply(RefillChoice::Approve, &Placeholders::default()), None);
    }

    #[test]
    fn placeholders_are_filled_with_the_threads_values() {
        let t = DEFAULTS.iter().find(|t| t.key == "refill_ready").unwrap();
        let text = fill(t, &values()).unwrap();
        assert!(text.starts_with("Dear Amara, your repeat prescription for Ramipril 5mg capsules has"));
        assert!(!text.contains('{') && !text.contains('}'));
    }

    #[test]
    fn a_template_missing_a_value_is_not_offered() {
        let no_medicine = Placeholders { first_name: Some("Ben".into()), medicine: None };
        let keys: Vec<_> =
            offered(Category::RepeatPrescription, &no_medicine).iter().map(|(t, _)| t.key).collect();
        assert!(!keys.contains(&"refill_ready"), "{keys:?}");
        assert!(keys.contains(&"book_appointment"), "{keys:?}");
    }

    #[test]
    fn templates_are_offered_by_category() {
        let refill: Vec<_> =
            offered(Category::RepeatPrescription, &values()).iter().map(|(t, _)| t.key).collect();
        assert_eq!(refill, ["refill_ready", "refill_review", "book_appointment", "urgent_care"]);
        let results: Vec<_> = offered(Category::TestResults, &values()).iter().map(|(t, _)| t.key).collect();
        assert_eq!(results, ["book_appointment", "results_normal", "urgent_care"]);
    }

    #[test]
    fn unknown_or_unclosed_placeholders_refuse_to_fill() {
        let odd = Template { key: "x", label: "x", text: "Hello {nhs_number}", categories: &[] };
        assert_eq!(fill(&odd, &values()), None);
        let open = Template { key: "y", label: "y", text: "Hello {first_name", categories: &[] };
        assert_eq!(fill(&open, &values()), None);
        let plain = Template { key: "z", label: "z", text: "No placeholders.", categories: &[] };
        assert_eq!(fill(&plain, &Placeholders::default()).as_deref(), Some("No placeholders."));
    }

    #[test]
    fn placeholders_debug_hides_values() {
        assert!(!format!("{:?}", values()).contains("Amara"));
    }

    #[test]
    fn a_template_goes_in_at_the_caret_and_keeps_what_was_typed() {
        // An empty box: the template alone, caret after it.
        assert_eq!(insert_at("", 0, 0, "Dear Sam."), ("Dear Sam.".to_owned(), 9));
        // At the end of a half-typed reply, spaced from it.
        assert_eq!(insert_at("Thanks", 6, 6, "Dear Sam."), ("Thanks Dear Sam.".to_owned(), 16));
        // Into the middle, replacing a selection, spaced on both sides.
        assert_eq!(insert_at("Hi XX there", 3, 5, "Sam"), ("Hi Sam there".to_owned(), 6));
        // Offsets are UTF-16 units: an emoji counts two, an accent one.
        let (out, caret) = insert_at("Zoë 👍 ok", 6, 6, "T");
        assert_eq!(out, "Zoë 👍 T ok");
        assert_eq!(caret, 8);
        // Offsets past the end (or reversed) are held to the text.
        assert_eq!(insert_at("ab", 9, 1, "T").0, "a T");
    }
}
