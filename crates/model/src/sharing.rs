//! Sharing free text into the medication part, so that a pharmacist (who
//! cannot read the free text, by permission and by key) sees what a
//! clinician chose to pass on.

use jiff::Timestamp;

use crate::actor::Actor;
use crate::audit::{AuditEvent, AuditKind};
use crate::error::RuleError;
use crate::message::{FreeText, MedicationRequest, Message, MessagePart, SharedNote};
use crate::permissions::{can, Action};
use crate::thread_state::ThreadRef;

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
    fn gp_shares_a_note_the_pharmacist_can_then_read() {
        let at = Timestamp::from_second(1_750_000_000).unwrap();
        let th = ThreadRef { id: ThreadId(1), category: Category::MedicationQuestion };
        let mut m = Message {
            id: MessageId(4),
            author: Author::Patient,
            received_at: at,
            parts: vec![MessagePart::FreeText(FreeText::new("is it ok with my new HRT patches?"))],
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
