//! The simulated day: which patient writes what, in which thread, in
//! realistic proportions. Pure and deterministic: the same seed gives the
//! same traffic, so tests and benches can repeat a run exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use sealbox_model::category::Category;
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::message::{FreeText, MedicationRequest, MedicationText, MessagePart};

use crate::content;

/// Share of each category in the traffic, in per mille. Repeat prescriptions
/// dominate GP online requests; the rest follows the order of a typical
/// practice's online consultation mix. Sums to 1000.
pub const MIX: [(Category, u32); 8] = [
    (Category::RepeatPrescription, 360),
    (Category::MedicationQuestion, 110),
    (Category::TestResults, 120),
    (Category::ClinicalQuestion, 190),
    (Category::AdminFitNote, 60),
    (Category::AdminAppointment, 90),
    (Category::AdminLetters, 40),
    (Category::Other, 30),
];

/// Red-flag messages per thousand (sent as clinical questions).
pub const RED_FLAGS_PER_MILLE: u32 = 15;

/// Chance (per mille) that a patient's message continues their last thread.
const FOLLOW_UP_PER_MILLE: u32 = 150;

/// One message a simulated patient will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    /// Index into the practice file's patients.
    pub patient: usize,
    /// The thread (new, or the patient's previous one for a follow-up).
    pub thread_id: ThreadId,
    /// This message's id, chosen by the sender.
    pub message_id: MessageId,
    /// The category the patient picked.
    pub category: Category,
    /// Free text, and for repeat prescriptions the medication request.
    pub parts: Vec<MessagePart>,
    /// Whether the text is one of the red-flag messages.
    pub red_flag: bool,
    /// Files the patient attaches: sealed under keys of their own and put
    /// at the hub before the message, which names them (`send`).
    pub attachments: Vec<PlannedAttachment>,
}

/// A file a simulated patient attaches. `Debug` shows its type and size only.
#[derive(Clone, PartialEq, Eq)]
pub struct PlannedAttachment {
    /// Its media type, e.g. "image/png".
    pub media_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

impl std::fmt::Debug for PlannedAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlannedAttachment({}, {} bytes)", self.media_type, self.bytes.len())
    }
}

impl PlannedAttachment {
    /// The simulator's photo of a red patch on skin.
    pub fn photo() -> Self {
        PlannedAttachment { media_type: "image/png", bytes: content::PHOTO_PNG }
    }
}

/// One clinical question in this many comes with a photo.
const PHOTO_EVERY: u64 = 10;

/// Plans `messages` messages from `patients` patients, deterministically from `seed`.
pub fn plan(seed: u64, patients: usize, messages: usize) -> Vec<PlannedMessage> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut last_thread: Vec<Option<(ThreadId, Category)>> = vec![None; patients];
    let mut out = Vec::with_capacity(messages);
    if patients == 0 {
        return out;
    }
    for _ in 0..messages {
        let patient = rng.gen_range(0..patients);
        let red_flag = rng.gen_range(0..1000) < RED_FLAGS_PER_MILLE;
        let follow_up = !red_flag && rng.gen_range(0..1000) < FOLLOW_UP_PER_MILLE;
        let (thread_id, category) = match (follow_up, last_thread[patient]) {
            (true, Some(previous)) => previous,
            _ if red_flag => (ThreadId(wire_id(&mut rng)), Category::ClinicalQuestion),
            _ => (ThreadId(wire_id(&mut rng)), pick_category(&mut rng)),
        };
        last_thread[patient] = Some((thread_id, category));
        let mut parts = if red_flag {
            vec![MessagePart::FreeText(FreeText::new(*pick(&mut rng, content::RED_FLAGS)))]
        } else {
            compose(&mut rng, category)
        };
        let message_id = MessageId(wire_id(&mut rng));
        // Chosen from the id, not a further draw, so the rest of a seed's
        // traffic is what it was before photos.
        let photo =
            !red_flag && category == Category::ClinicalQuestion && message_id.0.is_multiple_of(PHOTO_EVERY);
        let mut attachments = Vec::new();
        if photo {
            let note =
                content::PHOTO_NOTES[(message_id.0 / PHOTO_EVERY) as usize % content::PHOTO_NOTES.len()];
            parts = vec![MessagePart::FreeText(FreeText::new(note))];
            attachments.push(PlannedAttachment::photo());
        }
        out.push(PlannedMessage { patient, thread_id, message_id, category, parts, red_flag, attachments });
    }
    out
}

/// An id in 1..2^63, the range the hub accepts (fits SQLite's INTEGER).
fn wire_id(rng: &mut ChaCha8Rng) -> u64 {
    rng.gen_range(1..(1u64 << 63))
}

fn pick_category(rng: &mut ChaCha8Rng) -> Category {
    let mut roll = rng.gen_range(0..1000);
    for (category, share) in MIX {
        if roll < share {
            return category;
        }
        roll -= share;
    }
    Category::Other
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn compose(rng: &mut ChaCha8Rng, category: Category) -> Vec<MessagePart> {
    let med = *pick(rng, content::REPEAT_MEDICINES);
    match category {
        Category::RepeatPrescription => {
            let mut items = vec![MedicationText::new(med)];
            if rng.gen_range(0..4) == 0 {
                let second = *pick(rng, content::REPEAT_MEDICINES);
                if second != med {
                    items.push(MedicationText::new(second));
                }
            }
            let opener = *pick(rng, content::repeat_openers());
            let detail = *pick(rng, content::phrases(category));
            let names: Vec<&str> = items.iter().map(MedicationText::reveal).collect();
            vec![
                MessagePart::FreeText(FreeText::new(format!("{opener} {} {detail}", names.join(" and ")))),
                MessagePart::MedicationRequest(MedicationRequest {
                    items,
                    shared_notes: Vec::new(),
                    answers: Vec::new(),
                }),
            ]
        }
        _ => {
            let text = pick(rng, content::phrases(category)).replace("{med}", med);
            vec![MessagePart::FreeText(FreeText::new(text))]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_same_seed_gives_the_same_traffic_and_another_seed_does_not() {
        assert_eq!(plan(7, 50, 300), plan(7, 50, 300));
        assert_ne!(plan(7, 50, 300), plan(8, 50, 300));
    }

    #[test]
    fn proportions_follow_the_mix_within_two_points() {
        let traffic = plan(7, 200, 20_000);
        let mut counts: HashMap<Category, usize> = HashMap::new();
        for m in traffic.iter().filter(|m| !m.red_flag) {
            *counts.entry(m.category).or_default() += 1;
        }
        let total: usize = counts.values().sum();
        for (category, share) in MIX {
            let seen = counts.get(&category).copied().unwrap_or(0) as f64 * 1000.0 / total as f64;
            assert!((seen - f64::from(share)).abs() < 20.0, "{category:?}: {seen:.0}‰ vs {share}‰");
        }
        let red = traffic.iter().filter(|m| m.red_flag).count() as f64 * 1000.0 / traffic.len() as f64;
        assert!((red - f64::from(RED_FLAGS_PER_MILLE)).abs() < 5.0, "red flags {red:.1}‰");
    }

    #[test]
    fn repeat_requests_name_a_medicine_with_its_strength_in_a_medication_part() {
        let traffic = plan(3, 20, 500);
        let repeats: Vec<_> =
            traffic.iter().filter(|m| m.category == Category::RepeatPrescription && !m.red_flag).collect();
        assert!(!repeats.is_empty());
        for m in repeats {
            let Some(MessagePart::MedicationRequest(req)) = m.parts.get(1) else {
                panic!("a repeat request without a medication part");
            };
            assert!(!req.items.is_empty());
            for item in &req.items {
                assert!(content::REPEAT_MEDICINES.contains(&item.reveal()));
                assert!(item.reveal().chars().any(|c| c.is_ascii_digit()), "no strength");
            }
        }
    }

    #[test]
    fn ids_are_in_the_hub_range_and_unique_and_follow_ups_reuse_a_thread() {
        let traffic = plan(11, 30, 2_000);
        let mut ids = std::collections::HashSet::new();
        for m in &traffic {
            assert!(m.message_id.0 >= 1 && m.message_id.0 < (1 << 63));
            assert!(m.thread_id.0 >= 1 && m.thread_id.0 < (1 << 63));
            assert!(ids.insert(m.message_id), "duplicate message id");
        }
        let threads: std::collections::HashSet<_> = traffic.iter().map(|m| m.thread_id).collect();
        assert!(threads.len() < traffic.len(), "no follow-ups at all");
        assert!(threads.len() > traffic.len() * 7 / 10, "too many follow-ups");
    }

    #[test]
    fn some_clinical_questions_come_with_a_photo_and_nothing_else_does() {
        let traffic = plan(5, 100, 5_000);
        let with: Vec<_> = traffic.iter().filter(|m| !m.attachments.is_empty()).collect();
        let questions =
            traffic.iter().filter(|m| m.category == Category::ClinicalQuestion && !m.red_flag).count();
        assert!(with.len() * 20 > questions && with.len() * 5 < questions, "{} of {questions}", with.len());
        for m in with {
            assert_eq!(m.category, Category::ClinicalQuestion);
            assert!(!m.red_flag);
            assert!(m.attachments[0].bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
    }

    #[test]
    fn photo_notes_are_not_red_flags() {
        let detector = sealbox_model::red_flags::RedFlagDetector::new().unwrap();
        for text in content::PHOTO_NOTES {
            assert!(!detector.assess(text).suggests_urgent(), "flagged: {text}");
        }
    }

    #[test]
    fn red_flag_texts_are_flagged_by_the_model_rules() {
        let detector = sealbox_model::red_flags::RedFlagDetector::new().unwrap();
        for text in content::RED_FLAGS {
            assert!(detector.assess(text).suggests_urgent(), "not flagged: {text}");
        }
    }
}
