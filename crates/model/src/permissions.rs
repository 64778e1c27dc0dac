//! Who may do what to which category of thread: a deny-by-default matrix of
//! role × action × category. Only the grants listed in [`GRANTS`] are allowed;
//! docs/triage-rules.md carries the same matrix, checked cell by cell by a test.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::category::Category;
use crate::message::{Message, MessagePart};
use crate::role::Role;

/// Something a member of staff may be allowed to do with a thread, or with
/// one data part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read the patient's free text.
    ReadFreeText,
    /// Read the medication part (requested items, shared notes).
    ReadMedicationPart,
    /// Read the patient's medication history (issues, review dates).
    ReadMedicationHistory,
    /// Open attachments.
    ReadAttachment,
    /// Reply to the patient.
    Reply,
    /// Copy a note from the free text into the medication part.
    ShareIntoMedicationPart,
    /// Approve a repeat prescription request.
    ApprovePrescription,
    /// Reject a repeat prescription request.
    RejectPrescription,
    /// Triage, route or assign the thread.
    Assign,
    /// Close or reopen the thread.
    Close,
    /// Export the thread (e.g. for a subject access request).
    Export,
    /// Enrol staff, set practice policy.
    Administer,
}

impl Action {
    /// Every action, in the order used by tables and docs.
    pub const ALL: [Action; 12] = [
        Action::ReadFreeText,
        Action::ReadMedicationPart,
        Action::ReadMedicationHistory,
        Action::ReadAttachment,
        Action::Reply,
        Action::ShareIntoMedicationPart,
        Action::ApprovePrescription,
        Action::RejectPrescription,
        Action::Assign,
        Action::Close,
        Action::Export,
        Action::Administer,
    ];

    /// The snake_case name used in docs/triage-rules.md.
    pub fn key(self) -> &'static str {
        match self {
            Action::ReadFreeText => "read_free_text",
            Action::ReadMedicationPart => "read_medication_part",
            Action::ReadMedicationHistory => "read_medication_history",
            Action::ReadAttachment => "read_attachment",
            Action::Reply => "reply",
            Action::ShareIntoMedicationPart => "share_into_medication_part",
            Action::ApprovePrescription => "approve_prescription",
            Action::RejectPrescription => "reject_prescription",
            Action::Assign => "assign",
            Action::Close => "close",
            Action::Export => "export",
            Action::Administer => "administer",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A set of categories, as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategorySet(u16);

impl CategorySet {
    /// No category.
    pub const NONE: CategorySet = CategorySet(0);
    /// Repeat prescriptions only.
    pub const PRESCRIPTION: CategorySet = CategorySet(1 << Category::RepeatPrescription as u16);
    /// Repeat prescriptions and medication questions.
    pub const MEDICATION: CategorySet =
        CategorySet(1 << Category::RepeatPrescription as u16 | 1 << Category::MedicationQuestion as u16);
    /// Everything that is not admin.
    pub const CLINICAL: CategorySet = CategorySet(
        1 << Category::RepeatPrescription as u16
            | 1 << Category::MedicationQuestion as u16
            | 1 << Category::TestResults as u16
            | 1 << Category::ClinicalQuestion as u16
            | 1 << Category::Other as u16,
    );
    /// The three admin kinds.
    pub const ADMIN: CategorySet = CategorySet(
        1 << Category::AdminFitNote as u16
            | 1 << Category::AdminAppointment as u16
            | 1 << Category::AdminLetters as u16,
    );
    /// Every category.
    pub const ALL: CategorySet = CategorySet(Self::CLINICAL.0 | Self::ADMIN.0);

    /// Membership.
    pub fn contains(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }
}

/// One grant: this role may do this action on threads of these categories.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    /// Who.
    pub role: Role,
    /// What.
    pub action: Action,
    /// Where.
    pub categories: CategorySet,
}

const fn g(role: Role, action: Action, categories: CategorySet) -> Grant {
    Grant { role, action, categories }
}

/// Every permission there is. Anything not listed is denied.
pub const GRANTS: &[Grant] = &[
    // GP: reads and acts on everything clinical and admin; the only exporter.
    g(Role::Gp, Action::ReadFreeText, CategorySet::ALL),
    g(Role::Gp, Action::ReadMedicationPart, CategorySet::ALL),
    g(Role::Gp, Action::ReadMedicationHistory, CategorySet::ALL),
    g(Role::Gp, Action::ReadAttachment, CategorySet::ALL),
    g(Role::Gp, Action::Reply, CategorySet::ALL),
    g(Role::Gp, Action::ShareIntoMedicationPart, CategorySet::CLINICAL),
    g(Role::Gp, Action::ApprovePrescription, CategorySet::PRESCRIPTION),
    g(Role::Gp, Action::RejectPrescription, CategorySet::PRESCRIPTION),
    g(Role::Gp, Action::Assign, CategorySet::ALL),
    g(Role::Gp, Action::Close, CategorySet::ALL),
    g(Role::Gp, Action::Export, CategorySet::ALL),
    // Nurse (including nurse prescribers): as the GP, without export.
    g(Role::Nurse, Action::ReadFreeText, CategorySet::ALL),
    g(Role::Nurse, Action::ReadMedicationPart, CategorySet::ALL),
    g(Role::Nurse, Action::ReadMedicationHistory, CategorySet::ALL),
    g(Role::Nurse, Action::ReadAttachment, CategorySet::ALL),
    g(Role::Nurse, Action::Reply, CategorySet::ALL),
    g(Role::Nurse, Action::ShareIntoMedicationPart, CategorySet::CLINICAL),
    g(Role::Nurse, Action::ApprovePrescription, CategorySet::PRESCRIPTION),
    g(Role::Nurse, Action::RejectPrescription, CategorySet::PRESCRIPTION),
    g(Role::Nurse, Action::Assign, CategorySet::ALL),
    g(Role::Nurse, Action::Close, CategorySet::ALL),
    // Pharmacist: medication parts and history on clinical threads; the
    // patient's free text only where they answer the patient (repeat
    // prescriptions and medication questions): a reply from someone who
    // could not read the question is unsafe, and a request's text carries
    // what the pharmacy needs (a change of pharmacy, "going abroad").
    g(Role::Pharmacist, Action::ReadFreeText, CategorySet::MEDICATION),
    g(Role::Pharmacist, Action::ReadMedicationPart, CategorySet::CLINICAL),
    g(Role::Pharmacist, Action::ReadMedicationHistory, CategorySet::CLINICAL),
    g(Role::Pharmacist, Action::Reply, CategorySet::MEDICATION),
    g(Role::Pharmacist, Action::ApprovePrescription, CategorySet::PRESCRIPTION),
    g(Role::Pharmacist, Action::RejectPrescription, CategorySet::PRESCRIPTION),
    g(Role::Pharmacist, Action::Assign, CategorySet::MEDICATION),
    g(Role::Pharmacist, Action::Close, CategorySet::MEDICATION),
    // Care navigator: the admin categories only.
    g(Role::CareNavigator, Action::ReadFreeText, CategorySet::ADMIN),
    g(Role::CareNavigator, Action::ReadAttachment, CategorySet::ADMIN),
    g(Role::CareNavigator, Action::Reply, CategorySet::ADMIN),
    g(Role::CareNavigator, Action::Assign, CategorySet::ADMIN),
    g(Role::CareNavigator, Action::Close, CategorySet::ADMIN),
    // Practice admin: admin categories, plus administering the practice.
    g(Role::PracticeAdmin, Action::ReadFreeText, CategorySet::ADMIN),
    g(Role::PracticeAdmin, Action::ReadAttachment, CategorySet::ADMIN),
    g(Role::PracticeAdmin, Action::Reply, CategorySet::ADMIN),
    g(Role::PracticeAdmin, Action::Assign, CategorySet::ADMIN),
    g(Role::PracticeAdmin, Action::Close, CategorySet::ADMIN),
    g(Role::PracticeAdmin, Action::Administer, CategorySet::ALL),
];

/// Whether `role` may do `action` on a thread of `category`. Deny by default.
pub fn can(role: Role, action: Action, category: Category) -> bool {
    GRANTS.iter().any(|gr| gr.role == role && gr.action == action && gr.categories.contains(category))
}

/// Whether `role` may read a given part of a message in a thread of `category`.
pub fn can_read_part(role: Role, part: &MessagePart, category: Category) -> bool {
    let action = match part {
        MessagePart::FreeText(_) => Action::ReadFreeText,
        MessagePart::MedicationRequest(_) => Action::ReadMedicationPart,
        MessagePart::Attachment(_) => Action::ReadAttachment,
    };
    can(role, action, category)
}

/// The parts of `message` that `role` may read; the rest are withheld.
pub fn visible_parts(role: Role, message: &Message, category: Category) -> Vec<&MessagePart> {
    message.parts.iter().filter(|p| can_read_part(role, p, category)).collect()
}

/// The pools whose roles may read `part` of a thread of `category`: the
/// recipients a sender seals that part to, so access is enforced by keys
/// (a pharmacy device never receives the key to free text it may not read).
pub fn pools_that_can_read_part(part: &MessagePart, category: Category) -> Vec<crate::pool::Pool> {
    let mut pools: Vec<crate::pool::Pool> =
        Role::ALL.iter().filter(|r| can_read_part(**r, part, category)).map(|r| r.pool()).collect();
    pools.sort();
    pools.dedup();
    pools
}

/// Whether `role` may read at least one part of a thread of `category`:
/// the threads whose metadata (state, owner, activity) it is shown at all.
pub fn can_read_thread(role: Role, category: Category) -> bool {
    can(role, Action::ReadFreeText, category) || can(role, Action::ReadMedicationPart, category)
}

/// The pools whose roles may read at least one part of a thread of `category`.
pub fn pools_that_can_read(category: Category) -> Vec<crate::pool::Pool> {
    let mut pools: Vec<crate::pool::Pool> =
        Role::ALL.iter().filter(|r| can_read_thread(**r, category)).map(|r| r.pool()).collect();
    pools.sort();
    pools.dedup();
    pools
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MessageId, StaffId};
    use crate::message::{Author, FreeText, MedicationRequest, MedicationText, SharedNote};
    use crate::pool::Pool;
    use jiff::Timestamp;

    fn message_with_shared_note() -> Message {
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        Message {
            id: MessageId(1),
            author: Author::Patient,
            received_at: at,
            parts: vec![
                MessagePart::FreeText(FreeText::new("private worries")),
                MessagePart::MedicationRequest(MedicationRequest {
                    items: vec![MedicationText::new("Amlodipine 5mg")],
                    shared_notes: vec![SharedNote {
                        shared_by: StaffId("gp-1".into()),
                        at,
                        text: FreeText::new("BP fine at last check"),
                    }],
                    answers: Vec::new(),
                }),
            ],
        }
    }

    #[test]
    fn pharmacist_sees_medication_part_with_shared_notes_not_free_text_outside_medication() {
        let m = message_with_shared_note();
        let seen = visible_parts(Role::Pharmacist, &m, Category::ClinicalQuestion);
        assert_eq!(seen.len(), 1);
        match seen[0] {
            MessagePart::MedicationRequest(req) => {
                assert_eq!(req.shared_notes[0].text.reveal(), "BP fine at last check")
            }
            other => panic!("unexpected part {other:?}"),
        }
        assert!(!can(Role::Pharmacist, Action::ReadFreeText, Category::ClinicalQuestion));
        assert!(!can(Role::Pharmacist, Action::ReadFreeText, Category::TestResults));
        // Where they answer the patient, they read what the patient wrote.
        for c in [Category::RepeatPrescription, Category::MedicationQuestion] {
            assert!(can(Role::Pharmacist, Action::Reply, c));
            assert!(can(Role::Pharmacist, Action::ReadFreeText, c));
            assert_eq!(visible_parts(Role::Pharmacist, &m, c).len(), 2);
            let text = MessagePart::FreeText(FreeText::new("send it to the pharmacy on King St"));
            assert!(pools_that_can_read_part(&text, c).contains(&Pool::Pharmacy), "sealed to the pharmacy");
        }
        let text = MessagePart::FreeText(FreeText::new("private worries"));
        assert!(!pools_that_can_read_part(&text, Category::ClinicalQuestion).contains(&Pool::Pharmacy));
        assert!(can(Role::Pharmacist, Action::ReadMedicationHistory, Category::MedicationQuestion));
        assert_eq!(visible_parts(Role::Gp, &m, Category::RepeatPrescription).len(), 2);
    }

    #[test]
    fn care_navigator_reads_admin_categories_only() {
        for c in Category::ALL {
            assert_eq!(can(Role::CareNavigator, Action::ReadFreeText, c), c.is_admin(), "{c}");
            assert!(!can(Role::CareNavigator, Action::ReadMedicationPart, c));
        }
    }

    #[test]
    fn only_gp_exports_and_only_practice_admin_administers() {
        for r in Role::ALL {
            for c in Category::ALL {
                assert_eq!(can(r, Action::Export, c), r == Role::Gp);
                assert_eq!(can(r, Action::Administer, c), r == Role::PracticeAdmin);
            }
        }
    }

    #[test]
    fn pools_that_can_read_follow_the_matrix() {
        assert_eq!(pools_that_can_read(Category::AdminLetters), vec![Pool::Gp, Pool::Nurse, Pool::Admin]);
        assert_eq!(
            pools_that_can_read(Category::RepeatPrescription),
            vec![Pool::Gp, Pool::Nurse, Pool::Pharmacy]
        );
    }

    #[test]
    fn parts_are_sealed_only_to_the_pools_that_may_read_them() {
        let text = MessagePart::FreeText(FreeText::new("x"));
        let meds = MessagePart::MedicationRequest(MedicationRequest::default());
        let question = Category::ClinicalQuestion;
        assert!(!pools_that_can_read_part(&text, question).contains(&Pool::Pharmacy));
        assert!(pools_that_can_read_part(&meds, question).contains(&Pool::Pharmacy));
        for category in Category::ALL {
            for part in [&text, &meds] {
                for pool in pools_that_can_read_part(part, category) {
                    assert!(Role::ALL.iter().any(|r| r.pool() == pool && can_read_part(*r, part, category)));
                }
            }
        }
    }
}
