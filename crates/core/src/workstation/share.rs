//! Sharing a note into the medication part (issue 23 point 6): where a
//! pharmacist may not read the patient's free text (a clinical question,
//! test results) but knows the patient (the patient's message had a
//! medication part), a GP or nurse shares what the pharmacy needs to know as
//! a note in the medication part, which the pharmacy pool can read
//! (`sealbox_model::sharing`, the `share_into_medication_part` grant). It
//! goes as an internal note (never to the patient) whose one part is a
//! medication part carrying the shared note, sealed to every pool allowed
//! to read medication parts on the category; the hub checks the grant.

use sealbox_model::actor::Actor;
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, FreeText, Message};
use sealbox_model::sharing::{reaches_pharmacy_only_shared, share_into_medication_part};
use sealbox_model::thread_state::ThreadRef;

use super::note::{note_text, NoteError};
use super::{Desk, WorkstationError};

impl Desk {
    /// Queues `text` as a note shared into the medication part of
    /// `thread` (see the module docs); the caller sends the outbox.
    pub fn share_with_pharmacy(
        &self,
        thread: ThreadId,
        text: &str,
        now: Timestamp,
    ) -> Result<MessageId, WorkstationError> {
        let text = note_text(text)?;
        let me = self.me();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let detail = store.thread(thread)?.ok_or(NoteError::NoSuchThread)?;
        let t = &detail.thread;
        if !reaches_pharmacy_only_shared(t) {
            return Err(NoteError::NotForPharmacy.into());
        }
        // The model's rule checks the grants and makes the part.
        let mut note = Message {
            id: MessageId(0),
            author: Author::Note(me.id.clone()),
            received_at: now,
            parts: Vec::new(),
        };
        let at = ThreadRef { id: t.id, category: t.category };
        share_into_medication_part(
            at,
            &mut note,
            FreeText::new(text.to_owned()),
            &Actor::Staff(me.clone()),
            now,
        )
        .map_err(|_| NoteError::Forbidden)?;
        let Some(part) = note.parts.pop() else { return Err(NoteError::Forbidden.into()) };
        let category = t.category;
        self.queue_note_part(&mut store, thread, part, category, "share", now)
    }
}
