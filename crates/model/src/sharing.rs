//! Sharing free text into the medication part, so that a pharmacist (who
//! cannot read the free text of this kind of request, by permission and by
//! key) sees what a clinician chose to pass on.

use jiff::Timestamp;

use crate::actor::Actor;
use crate::audit::{AuditEvent, AuditKind};
use crate::error::RuleError;
use crate::message::Thread;
use crate::message::{FreeText, MedicationRequest, Message, MessagePart, SharedNote};
use crate::permissions::{can, pools_that_can_read_part, Action};
use crate::pool::Pool;
use crate::thread_state::ThreadRef;

/// Whether a note shared into the medication part of `thread` reaches the
/// pharmacy where a plain note would not: the pharmacy may not read the
/// thread's free text, and it knows the patient there — which only a
/// patient's message with a part it may read tells it (patients' details
/// are sealed with their message; a workstation files messages only under
/// a patient it may see).
pub fn reaches_pharmacy_only_shared(thread: &Thread) -> bool {
    let to_pharmacy =
        |p: &MessagePart| pools_that_can_read_part(p, thread.category).contains(&Pool::Pharmacy);
    !to_pharmacy(&MessagePart::FreeText(FreeText::new("")))
        && thread.messages.iter().any(|m| m.is_from_patient() && m.parts.iter().any(to_pharmacy))
}

/// Adds `note` to `message`'s medication part (creating the part if needed).
/// The actor must be staff allowed to read the free text and to share.
pub fn share_into_medication_part(
    thread: ThreadRef,
    message: &mut Message,
    note: FreeText,
    actor: &Actor,
    at: Timestamp,
) -> Result<AuditEvent, RuleError> {
    let staff = actor.staff().ok_or(RuleError::NotStaff { actor: actor.kind() })?;
    for action in [Action::ReadFreeText, Action::ShareIntoMedicationPart] {
        if !can(staff.role, action, thread.category) {
            return Err(RuleError::Forbidden { actor: actor.kind(), action, category: thread.category });
        }
    }
    let shared = SharedNote { shared_by: staff.id.clone(), at, text: note };
    let existing = message.parts.iter_mut().find_map(|p| match p {
        MessagePart::MedicationRequest(req) => Some(req),
        _ => None,
    });
    match existing {
        Some(req) => req.shared_notes.push(shared),
        None => message.parts.push(MessagePart::MedicationRequest(MedicationRequest {
            items: Vec::new(),
            shared_notes: vec![shared],
            answers: Vec::new(),
        })),
    }
    Ok(AuditEvent {
        at,
        actor: actor.clone(),
        thread: thread.id,
        kind: AuditKind::SharedIntoMedicationPart { message: message.id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::StaffRef;
    use crate::category::Category;
    use crate::ids::{MessageId, ThreadId};
    use crate::message::Author;
    use crate::permissions::visible_parts;
    use crate::role::Role;

    #[test]
    fn sharing_is_offered_where_the_pharmacy_knows_the_patient_but_not_their_words() {
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let msg = |parts| Message { id: MessageId(1), author: Author::Patient, received_at: at, parts };
        let thread = |category, parts| Thread {
            id: ThreadId(1),
            patient: crate::ids::PatientId("p-1".into()),
            category,
            priority: crate::priority::Priority::Routine,
            state: crate::thread_state::ThreadState::New,
            messages: vec![msg(parts)],
        };
        let text = || MessagePart::FreeText(FreeText::new("bruising since the new tablets"));
        let meds = || {
            MessagePart::MedicationRequest(MedicationRequest {
                items: vec![crate::message::MedicationText::new("Warfarin 3mg")],
                shared_notes: Vec::new(),
                answers: Vec::new(),
            })
        };
        assert!(reaches_pharmacy_only_shared(&thread(Category::ClinicalQuestion, vec![text(), meds()])));
        // Words only: the pharmacy was never told who the patient is.
        assert!(!reaches_pharmacy_only_shared(&thread(Category::ClinicalQuestion, vec![text()])));
        // The pharmacy reads a medication question's words: a plain note does.
        assert!(!reaches_pharmacy_only_shared(&thread(Category::MedicationQuestion, vec![text(), meds()])));
        // Admin: the pharmacy reads nothing there.
        assert!(!reaches_pharmacy_only_shared(&thread(Category::AdminLetters, vec![text(), meds()])));
    }

    #[test]
    fn gp_shares_a_note_the_pharmacist_can_then_read() {
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let th = ThreadRef { id: ThreadId(1), category: Category::ClinicalQuestion };
        let mut m = Message {
            id: MessageId(4),
            author: Author::Patient,
            received_at: at,
            parts: vec![MessagePart::FreeText(FreeText::new("my new HRT patches give me headaches"))],
        };
        assert!(visible_parts(Role::Pharmacist, &m, th.category).is_empty());
        let gp = Actor::Staff(StaffRef::new("gp-1", Role::Gp));
        share_into_medication_part(th, &mut m, FreeText::new("asks about HRT interaction"), &gp, at).unwrap();
        let seen = visible_parts(Role::Pharmacist, &m, th.category);
        assert_eq!(seen.len(), 1);
        assert!(matches!(seen[0], MessagePart::MedicationRequest(r) if r.shared_notes.len() == 1));

        let pharmacist = Actor::Staff(StaffRef::new("ph-1", Role::Pharmacist));
        assert!(matches!(
            share_into_medication_part(th, &mut m, FreeText::new("x"), &pharmacist, at),
            Err(RuleError::Forbidden { action: Action::ReadFreeText, .. })
        ));
        assert!(matches!(
            share_into_medication_part(th, &mut m, FreeText::new("x"), &Actor::Patient, at),
            Err(RuleError::NotStaff { .. })
        ));
    }
}
