//! Why a rule refused an action. No variant carries patient data.

use crate::actor::ActorKind;
use crate::calendar::CalendarError;
use crate::category::Category;
use crate::permissions::Action;
use crate::pool::Pool;
use crate::thread_state::{ActionKind, StateKind};

/// A rule said no.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The action does not apply in the thread's current state.
    #[error("cannot {action} a thread that is {from}")]
    IllegalTransition {
        /// The state the thread is in.
        from: StateKind,
        /// What was attempted.
        action: ActionKind,
    },
    /// The permission matrix denies this role the action on this category.
    #[error("{actor} may not {action} on a {category} thread")]
    Forbidden {
        /// Who tried.
        actor: ActorKind,
        /// The permission that was needed.
        action: Action,
        /// The thread's category.
        category: Category,
    },
    /// A patient or the system tried an action only staff may take, or the
    /// reverse.
    #[error("{actor} cannot {action}")]
    WrongActor {
        /// Who tried.
        actor: ActorKind,
        /// What was attempted.
        action: ActionKind,
    },
    /// Only staff may do this.
    #[error("{actor} is not a member of staff")]
    NotStaff {
        /// Who tried.
        actor: ActorKind,
    },
    /// The thread is closed; reopen it first.
    #[error("the thread is closed")]
    ThreadClosed,
    /// The thread is assigned or held by someone else.
    #[error("the thread is not assigned to this member of staff")]
    NotAssignedToActor,
    /// The thread would go to a pool whose roles cannot read it.
    #[error("the {pool} pool cannot read a {category} thread")]
    AssigneeCannotRead {
        /// Target pool.
        pool: Pool,
        /// The thread's category.
        category: Category,
    },
    /// Approval or rejection before every patient message was viewed.
    #[error("{unviewed} patient message(s) not yet viewed by the approver")]
    UnviewedPatientMessages {
        /// How many the approver has not opened.
        unviewed: usize,
    },
    /// A refill decision on a thread with no patient message.
    #[error("the thread has no patient message to decide on")]
    NoPatientMessage,
    /// A refill decision on a thread that is not a repeat prescription.
    #[error("a {category} thread is not a repeat prescription request")]
    NotAPrescriptionThread {
        /// The thread's category.
        category: Category,
    },
    /// Rejecting for "other" needs an explanation.
    #[error("rejecting for another reason needs a note")]
    RejectionNoteRequired,
    /// Per-medicine decisions that do not fit the request: a medicine
    /// decided twice or not at all, one it does not list, or a decision as
    /// a whole that does not follow from them.
    #[error("each medicine of the request must be decided once, and the decision as a whole must follow from them")]
    ItemDecisions,
    /// Working-calendar problem (e.g. no opening hours configured).
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}
