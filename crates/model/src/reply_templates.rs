//! The practice's quick replies: short, plain-language answers a clinician
//! picks and edits before sending. A template names its placeholders in
//! braces (`{first_name}`, `{medicine}`); [`fill`] puts the thread's values
//! in, and a template whose value the thread lacks is not offered, so a
//! reply never goes out reading "{medicine}".

use crate::category::Category;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Placeholders {
        Placeholders { first_name: Some("Amara".into()), medicine: Some("Ramipril 5mg capsules".into()) }
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
}
