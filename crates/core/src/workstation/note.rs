//! Working together: internal notes for colleagues, and handing a thread to
//! a queue or a named colleague with an optional note. A note is free text
//! sealed on this device to every pool allowed to read free text on the
//! thread's category and never to the patient (the hub also refuses one
//! that is, and never serves notes to the patient); it is queued through
//! the outbox like a reply and shown in the thread apart from replies.
//! Only the queues and colleagues (working here now) allowed to handle the
//! category are offered; a note for someone who could not read it is
//! refused before anything is queued.

use sealbox_model::actor::Actor;
use sealbox_model::api::HandOption;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{ActionOp, AssignTarget, Base64Bytes, IdempotencyKey, StaffDirectory, StateOp};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, FreeText, Message, MessagePart};
use sealbox_model::permissions::{can, pools_that_can_read_part, Action};
use sealbox_model::pool::Pool;
use sealbox_model::thread_state::{can_hand_to, transition, Assignee, ThreadAction, ThreadRef, ThreadState};
use sealbox_model::undo::{LastAction, Undoable};

use super::thread::action_key;
use super::{Desk, WorkstationError};
use crate::sync::outbox;

/// The longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// Why a note or a hand-over was not queued. Nothing here carries text.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// Nothing to add.
    #[error("the note is empty")]
    Empty,
    /// Over [`MAX_NOTE_CHARS`].
    #[error("the note is too long: at most {MAX_NOTE_CHARS} characters")]
    TooLong,
    /// The thread is not cached.
    #[error("that thread is not in this workstation's cache")]
    NoSuchThread,
    /// The role may not read (so not write) free text on this category.
    #[error("your role may not write notes on this kind of request")]
    Forbidden,
    /// Not a queue or colleague this thread may go to from this desk.
    #[error("that queue or colleague cannot take this kind of request from you")]
    NotOffered,
    /// Sharing would not reach the pharmacy: it reads this thread's free
    /// text already (a plain note does), or it was never told who the
    /// patient is (no message of theirs it may read).
    #[error("a shared note would not reach the pharmacy on this thread: write a note instead")]
    NotForPharmacy,
    /// The note would be sealed to pools the chosen colleague is not in.
    #[error("they cannot read notes on this kind of request: hand it over without a note")]
    Unreadable,
}

/// A note's text as it will be sealed (trimmed), or why it cannot be.
pub(super) fn note_text(text: &str) -> Result<&str, NoteError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NoteError::Empty);
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(NoteError::TooLong);
    }
    Ok(text)
}

impl Desk {
    /// Queues `text` as an internal note on `thread` (see the module docs);
    /// the caller sends the outbox. Returns the note's message id.
    pub fn note(&self, thread: ThreadId, text: &str, now: Timestamp) -> Result<MessageId, WorkstationError> {
        let text = note_text(text)?;
        let me = self.me();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let category = store.thread(thread)?.ok_or(NoteError::NoSuchThread)?.thread.category;
        if !can(me.role, Action::ReadFreeText, category) {
            return Err(NoteError::Forbidden.into());
        }
        let part = MessagePart::FreeText(FreeText::new(text.to_owned()));
        self.queue_note_part(&mut store, thread, part, category, "note", now)
    }

    /// Seals `part` on `thread` to every pool allowed to read it (never the
    /// patient) and queues it as an internal note, shown here at once; the
    /// one path for plain and shared notes.
    pub(super) fn queue_note_part(
        &self,
        store: &mut crate::store::Store,
        thread: ThreadId,
        part: MessagePart,
        category: Category,
        kind: &str,
        now: Timestamp,
    ) -> Result<MessageId, WorkstationError> {
        let me = self.me();
        let to = self.part_pools(store, &part, category)?;
        let (id, envelope) = self.seal_part(thread, &part, &to)?;
        let key = IdempotencyKey::new(format!("{kind}-{}", id.0)).map_err(|_| NoteError::NoSuchThread)?;
        let shown = Message { id, author: Author::Note(me.id.clone()), received_at: now, parts: vec![part] };
        let op = ActionOp::Note { message_id: id, envelope: Base64Bytes(envelope) };
        outbox::queue_with(store, &me, thread, op, key, now, |w| w.insert_message(thread, &shown))?;
        Ok(id)
    }

    /// Hands `thread` to `to` (one of [`Desk::hand_options`]), with `note`
    /// first when not blank, triaging a new thread on the way; everything
    /// is checked before anything is queued.
    pub fn hand_over(
        &self,
        thread: ThreadId,
        to: &AssignTarget,
        note: &str,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        let me = self.me();
        let detail = crate::sync::lock(&self.store()).thread(thread)?.ok_or(NoteError::NoSuchThread)?;
        let t = &detail.thread;
        let offered = self.hand_options(t.category, &self.staff()?);
        let option = offered.iter().find(|o| &o.to == to).ok_or(NoteError::NotOffered)?;
        let note = note.trim();
        if !note.is_empty() && !option.reads_notes {
            return Err(NoteError::Unreadable.into());
        }
        // A new thread is triaged on the way (as a claim does).
        let (actor, at) = (Actor::Staff(me.clone()), ThreadRef { id: t.id, category: t.category });
        let triaged = match t.state {
            ThreadState::New => Some(transition(at, &t.state, &ThreadAction::Triage, &actor, now)?.0),
            _ => None,
        };
        let action = ThreadAction::Assign(Assignee::from(to.clone()));
        transition(at, triaged.as_ref().unwrap_or(&t.state), &action, &actor, now)?;
        if !note.is_empty() {
            self.note(thread, note, now)?;
        }
        if let Some(triaged) = triaged {
            let shared = self.store();
            let mut store = crate::sync::lock(&shared);
            let op = ActionOp::State { change: StateOp::Triage };
            outbox::queue_with(&mut store, &me, thread, op, action_key("triage", thread)?, now, |w| {
                w.set_thread_state(thread, &triaged, now)
            })?;
        }
        self.assign(thread, to, now)?;
        self.remember(Some(LastAction {
            thread,
            what: Undoable::HandOver,
            before: t.state.clone(),
            category: t.category,
            at: now,
        }));
        Ok(())
    }

    /// Where this clinician may hand a thread of `category`: every queue
    /// and every colleague working here now (not themselves) the rules
    /// let take it; none when their role may not assign it.
    pub fn hand_options(&self, category: Category, staff: &StaffDirectory) -> Vec<HandOption> {
        if !can(self.profile().role, Action::Assign, category) {
            return Vec::new();
        }
        let note_pools = pools_that_can_read_part(&MessagePart::FreeText(FreeText::new("")), category);
        let queues = Pool::ALL.into_iter().map(|pool| HandOption {
            to: AssignTarget::Pool { pool },
            label: pool.queue_title().to_owned(),
            reads_notes: note_pools.contains(&pool),
        });
        let people =
            staff.staff.iter().filter(|s| s.active && s.id.0 != self.profile().user_id).map(|s| HandOption {
                to: AssignTarget::Staff { id: s.id.clone(), role: s.role },
                label: staff.shown(&s.id),
                reads_notes: can(s.role, Action::ReadFreeText, category),
            });
        queues.chain(people).filter(|o| can_hand_to(&Assignee::from(o.to.clone()), category)).collect()
    }
}
