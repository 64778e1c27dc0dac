//! Audit events produced by the rules. They carry ids, kinds and times only:
//! never message text, names or medication (the audit chain leaves the device).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::ids::{MessageId, ThreadId};
use crate::refill::RejectionReason;
use crate::thread_state::{ActionKind, StateKind};

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AuditKind {
    /// A thread changed state (or took an action that keeps it in place).
    Transition {
        /// The action.
        action: ActionKind,
        /// Before.
        from: StateKind,
        /// After.
        to: StateKind,
    },
    /// A repeat prescription was approved.
    RefillApproved {
        /// True if approved although the medication review date had passed.
        review_overdue: bool,
    },
    /// A repeat prescription was rejected.
    RefillRejected {
        /// The coded reason (the optional note stays out of the audit log).
        reason: RejectionReason,
    },
    /// A clinician copied a note into a message's medication part.
    SharedIntoMedicationPart {
        /// The message.
        message: MessageId,
    },
}

/// One audit event, ready for the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When (the time passed to the rule).
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// Which thread.
    pub thread: ThreadId,
    /// What.
    pub kind: AuditKind,
}
