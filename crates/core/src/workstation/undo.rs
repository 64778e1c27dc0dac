//! Undo, for a few seconds, of this clinician's last close or hand-over
//! (sealbox-model's `undo`): the desk remembers the last one (in memory
//! only: locking ends the offer) and undoes it with the ordinary actions —
//! reopen, claim, assign — each queued, audited and checked again by the
//! hub like any other. The clock decides whether it is still undoable.

use std::sync::PoisonError;

use sealbox_model::api::ThreadChange;
use sealbox_model::hub_api::{ActionOp, AssignTarget};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::thread_state::{transition, Assignee, ThreadAction, ThreadRef};
use sealbox_model::undo::{LastAction, UNDO_SECONDS};

use super::thread::action_key;
use super::{Desk, WorkstationError};
use crate::sync::outbox;

/// Why an undo was not done.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    /// No close or hand-over to undo (or it was undone already).
    #[error("there is nothing to undo")]
    Nothing,
    /// The offer has run out.
    #[error("it is too late to undo: an action can be undone for {UNDO_SECONDS} seconds")]
    TooLate,
}

impl Desk {
    /// Remembers `action` as the one an undo would reverse (replacing any
    /// earlier one), or forgets it (`None`).
    pub(super) fn remember(&self, action: Option<LastAction>) {
        *self.last_action.lock().unwrap_or_else(PoisonError::into_inner) = action;
    }

    /// Undoes the last close or hand-over if it is still undoable at
    /// `now`; returns its thread. The caller sends the outbox.
    pub fn undo(&self, now: Timestamp) -> Result<ThreadId, WorkstationError> {
        let last = self
            .last_action
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(UndoError::Nothing)?;
        if !last.undoable_at(now) {
            return Err(UndoError::TooLate.into());
        }
        let thread = last.thread;
        for op in last.undo_ops(&self.me()) {
            match op {
                ActionOp::Claim => {
                    self.claim(thread, now)?;
                }
                ActionOp::State { change } => self.change(thread, ThreadChange::State { change }, now)?,
                ActionOp::Assign { to } => self.assign(thread, &to, now)?,
                _ => {}
            }
        }
        Ok(thread)
    }

    /// Queues `thread`'s assignment to `to` with its local effect, if the
    /// life-cycle rules allow it for this clinician now.
    pub(super) fn assign(
        &self,
        thread: ThreadId,
        to: &AssignTarget,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        let me = self.me();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let detail = store.thread(thread)?.ok_or(super::note::NoteError::NoSuchThread)?;
        let t = &detail.thread;
        let action = ThreadAction::Assign(Assignee::from(to.clone()));
        let actor = sealbox_model::actor::Actor::Staff(me.clone());
        let (next, _) =
            transition(ThreadRef { id: t.id, category: t.category }, &t.state, &action, &actor, now)?;
        let op = ActionOp::Assign { to: to.clone() };
        outbox::queue_with(&mut store, &me, thread, op, action_key("hand", thread)?, now, |w| {
            w.set_thread_state(thread, &next, now)
        })?;
        Ok(())
    }
}
