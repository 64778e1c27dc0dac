//! Undo, for a few seconds, of the two actions that take a thread out of a
//! clinician's hands: closing it and handing it over (issue 23 point 12).
//! An undo is not an erasure: the action stands in the audit chain and at
//! the hub, and the undo is a second action that puts the thread back
//! where it was — reopened, and held again by whoever held it (or back in
//! its queue). Only the clinician who acted, within [`UNDO_WINDOW`] of
//! acting, on their last such action.

use jiff::{SignedDuration, Timestamp};

use crate::actor::StaffRef;
use crate::category::Category;
use crate::hub_api::{ActionOp, AssignTarget, StateOp};
use crate::ids::ThreadId;
use crate::pool::Pool;
use crate::thread_state::{Assignee, ThreadState};

/// How long an action can be undone, in seconds (the UI shows the offer
/// this long).
pub const UNDO_SECONDS: i64 = 10;

/// How long an action can be undone.
pub const UNDO_WINDOW: SignedDuration = SignedDuration::from_secs(UNDO_SECONDS);

/// Which action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undoable {
    /// The thread was closed.
    Close,
    /// The thread was handed to a queue or a colleague.
    HandOver,
}

/// An action that can be undone for a while, and what the thread was
/// before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastAction {
    /// The thread.
    pub thread: ThreadId,
    /// What was done.
    pub what: Undoable,
    /// Its state just before.
    pub before: ThreadState,
    /// Its category (a thread nobody held goes back to its home queue).
    pub category: Category,
    /// When it was done.
    pub at: Timestamp,
}

impl LastAction {
    /// True while it can still be undone at `now` (a clock that went
    /// backwards does not stretch the window).
    pub fn undoable_at(&self, now: Timestamp) -> bool {
        let since = now.duration_since(self.at);
        since >= SignedDuration::ZERO && since < UNDO_WINDOW
    }

    /// The actions, in order, that put the thread back, done by `me`: a
    /// closed thread is reopened; then whoever held it holds it again (a
    /// thread `me` held is claimed back; one nobody held goes back to its
    /// queue after a hand-over, and stays triaged after a close).
    pub fn undo_ops(&self, me: &StaffRef) -> Vec<ActionOp> {
        let mut ops = Vec::new();
        if self.what == Undoable::Close {
            ops.push(ActionOp::State { change: StateOp::Reopen });
        }
        let held_by = match &self.before {
            ThreadState::InProgress { by } => Some(by),
            ThreadState::AwaitingPatient { owner } => Some(owner),
            ThreadState::Assigned { to: Assignee::Staff(s) } => Some(s),
            _ => None,
        };
        match (held_by, &self.before) {
            (Some(s), _) if s.id == me.id => ops.push(ActionOp::Claim),
            (Some(s), _) => {
                ops.push(ActionOp::Assign { to: AssignTarget::Staff { id: s.id.clone(), role: s.role } })
            }
            (None, ThreadState::Assigned { to: Assignee::Pool(pool) }) => {
                ops.push(ActionOp::Assign { to: AssignTarget::Pool { pool: *pool } })
            }
            (None, _) if self.what == Undoable::HandOver => {
                ops.push(ActionOp::Assign { to: AssignTarget::Pool { pool: Pool::home_of(self.category) } })
            }
            (None, _) => {}
        }
        ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StaffId;
    use crate::role::Role;

    fn staff(id: &str, role: Role) -> StaffRef {
        StaffRef { id: StaffId(id.into()), role }
    }

    fn last(what: Undoable, before: ThreadState) -> LastAction {
        LastAction {
            thread: ThreadId(7),
            what,
            before,
            category: Category::ClinicalQuestion,
            at: Timestamp::from_second(1_750_000_000).unwrap(),
        }
    }

    #[test]
    fn the_window_is_ten_seconds_from_the_action_and_never_before_it() {
        let a = last(Undoable::Close, ThreadState::Triaged);
        assert!(a.undoable_at(a.at));
        assert!(a.undoable_at(a.at + SignedDuration::from_millis(9_999)));
        assert!(!a.undoable_at(a.at + SignedDuration::from_secs(10)));
        assert!(!a.undoable_at(a.at - SignedDuration::from_millis(1)));
    }

    #[test]
    fn undo_reopens_and_gives_the_thread_back_to_whoever_held_it() {
        let me = staff("gp-1", Role::Gp);
        let colleague = staff("nurse-2", Role::Nurse);
        let mine = ThreadState::InProgress { by: me.clone() };
        assert_eq!(
            last(Undoable::Close, mine.clone()).undo_ops(&me),
            vec![ActionOp::State { change: StateOp::Reopen }, ActionOp::Claim]
        );
        assert_eq!(last(Undoable::HandOver, mine).undo_ops(&me), vec![ActionOp::Claim]);
        let theirs = ThreadState::AwaitingPatient { owner: colleague.clone() };
        assert_eq!(
            last(Undoable::HandOver, theirs).undo_ops(&me),
            vec![ActionOp::Assign { to: AssignTarget::Staff { id: colleague.id, role: Role::Nurse } }]
        );
        let queued = ThreadState::Assigned { to: Assignee::Pool(Pool::Nurse) };
        assert_eq!(
            last(Undoable::Close, queued).undo_ops(&me),
            vec![
                ActionOp::State { change: StateOp::Reopen },
                ActionOp::Assign { to: AssignTarget::Pool { pool: Pool::Nurse } }
            ]
        );
    }

    #[test]
    fn a_thread_nobody_held_goes_back_to_its_queue_after_a_hand_over_and_stays_triaged_after_a_close() {
        let me = staff("gp-1", Role::Gp);
        assert_eq!(
            last(Undoable::HandOver, ThreadState::New).undo_ops(&me),
            vec![ActionOp::Assign { to: AssignTarget::Pool { pool: Pool::Gp } }]
        );
        assert_eq!(
            last(Undoable::Close, ThreadState::Triaged).undo_ops(&me),
            vec![ActionOp::State { change: StateOp::Reopen }]
        );
    }
}
