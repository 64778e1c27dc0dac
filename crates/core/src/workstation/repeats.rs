//! Merging a repeat request into the one it repeats (issue 23 point 11):
//! the link was made at intake (`Store::link_repeat`); the clinician merges
//! with one key. Queued like any action, with its local effect (closed,
//! its messages shown in the original) and audit event.

use sealbox_model::actor::Actor;
use sealbox_model::hub_api::ActionOp;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::thread_state::{transition, ThreadAction, ThreadRef, ThreadState};

use super::refill::RefillError;
use super::thread::action_key;
use super::{Desk, WorkstationError};
use crate::sync::outbox;

impl Desk {
    /// Closes `thread` into the open request it was linked to as a repeat,
    /// if the life-cycle rules let this clinician close it; returns that
    /// request's id (the screen goes there next).
    pub fn merge_repeat(&self, thread: ThreadId, now: Timestamp) -> Result<ThreadId, WorkstationError> {
        let me = self.me();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let (into, _) = store.duplicate_link(thread)?.ok_or(WorkstationError::NotARepeat)?;
        let detail = store.thread(thread)?.ok_or(RefillError::NoSuchThread)?;
        let t = &detail.thread;
        let (tref, actor) = (ThreadRef { id: t.id, category: t.category }, Actor::Staff(me.clone()));
        let mut state = t.state.clone();
        if matches!(state, ThreadState::New) {
            state = transition(tref, &state, &ThreadAction::Triage, &actor, now)?.0;
        }
        let (next, _) = transition(tref, &state, &ThreadAction::Close, &actor, now)?;
        let key = action_key("merge", thread)?;
        outbox::queue_with(&mut store, &me, thread, ActionOp::Merge { into }, key, now, |w| {
            w.set_thread_state(thread, &next, now)?;
            w.set_merged_into(thread, Some(into))
        })?;
        Ok(into)
    }
}
