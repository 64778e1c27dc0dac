//! `POST /v1/actions`: a batch of thread actions, each applied on its own
//! (in order) with an idempotency key and the version it expects.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::bytes::Base64Bytes;
use crate::actor::StaffRef;
use crate::ids::StaffId;
use crate::ids::{MessageId, ThreadId};
use crate::pool::Pool;
use crate::refill::RejectionReason;
use crate::role::Role;
use crate::thread_state::Assignee;
use crate::triage::TriageDecision;

use super::token::IdempotencyKey;

/// The batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionsRequest {
    /// 1 to [`super::MAX_ACTIONS_PER_BATCH`] actions.
    pub actions: Vec<ActionRequest>,
}

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// Makes a retry return the first outcome instead of acting twice
    /// (scoped to the signed-in user).
    pub idempotency_key: IdempotencyKey,
    /// The thread.
    pub thread_id: ThreadId,
    /// The thread version the client last saw; a different current version
    /// is a conflict.
    pub expected_version: u64,
    /// What to do.
    pub op: ActionOp,
}

/// What to do to the thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum ActionOp {
    /// Take the thread: triage it if new, assign it to me unless it is
    /// already mine or my pool's, then start.
    Claim,
    /// Put it in a pool's or a person's queue.
    Assign {
        /// The queue.
        to: AssignTarget,
    },
    /// A plain state change.
    State {
        /// Which one.
        change: StateOp,
    },
    /// Send a sealed reply to the patient.
    Reply {
        /// Sender-chosen message id (1..2^63-1).
        message_id: MessageId,
        /// The sealed envelope.
        envelope: Base64Bytes,
    },
    /// Add an internal note for colleagues: sealed to the practice's pools
    /// only (the hub refuses an envelope with a slot for the patient, and
    /// never serves a note to the patient).
    Note {
        /// Sender-chosen message id (1..2^63-1).
        message_id: MessageId,
        /// The sealed envelope.
        envelope: Base64Bytes,
    },
    /// Decide a repeat prescription request. The decider must have viewed
    /// every patient message (checked on the desktop, which holds the view
    /// log); the hub checks category, state and permission.
    RefillDecision {
        /// The decision as a whole.
        decision: RefillChoice,
        /// Per medicine, when the request lists several and they are
        /// decided apart (`decision` must then be what they make as a
        /// whole: `refill::overall`); empty: `decision` for every one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        items: Vec<ItemDecision>,
    },
    /// Set the thread's priority and category (a new thread is triaged by
    /// it). Lowering an urgent thread needs a coded reason.
    Prioritise {
        /// The decision.
        decision: TriageDecision,
    },
    /// Close this thread as a repeat of `into`, an open thread of the same
    /// patient and category: its messages are shown in `into` from then on.
    /// The workstation proposes the link (it can read both); the hub checks
    /// patient, category, that `into` is open and the grant to close.
    Merge {
        /// The thread it repeats.
        into: ThreadId,
    },
}

/// Whose queue a thread goes to (the wire form of [`Assignee`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum AssignTarget {
    /// A pool's queue.
    Pool {
        /// Which pool.
        pool: Pool,
    },
    /// A named member of staff.
    Staff {
        /// Who.
        id: StaffId,
        /// Their role.
        role: Role,
    },
}

impl ActionOp {
    /// The sealed message a reply or a note carries, and whether it is a
    /// note (for colleagues only).
    pub fn sealed_message(&self) -> Option<(MessageId, &Base64Bytes, bool)> {
        match self {
            ActionOp::Reply { message_id, envelope } => Some((*message_id, envelope, false)),
            ActionOp::Note { message_id, envelope } => Some((*message_id, envelope, true)),
            _ => None,
        }
    }
}

impl From<AssignTarget> for Assignee {
    fn from(t: AssignTarget) -> Self {
        match t {
            AssignTarget::Pool { pool } => Assignee::Pool(pool),
            AssignTarget::Staff { id, role } => Assignee::Staff(StaffRef { id, role }),
        }
    }
}

/// An applied action as the log keeps it (a reply's envelope is in the
/// envelopes, not repeated here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum LoggedOp {
    /// See [`ActionOp::Claim`].
    Claim,
    /// See [`ActionOp::Assign`].
    Assign {
        /// The queue.
        to: AssignTarget,
    },
    /// See [`ActionOp::State`].
    State {
        /// Which one.
        change: StateOp,
    },
    /// See [`ActionOp::Reply`].
    Reply {
        /// The reply's message id.
        message_id: MessageId,
    },
    /// See [`ActionOp::Note`].
    Note {
        /// The note's message id.
        message_id: MessageId,
    },
    /// See [`ActionOp::RefillDecision`].
    RefillDecision {
        /// The decision as a whole.
        decision: RefillChoice,
        /// Per medicine (places in the request only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        items: Vec<ItemDecision>,
    },
    /// See [`ActionOp::Prioritise`].
    Prioritise {
        /// The decision.
        decision: TriageDecision,
    },
    /// See [`ActionOp::Merge`].
    Merge {
        /// The thread it repeats.
        into: ThreadId,
    },
}

impl From<&ActionOp> for LoggedOp {
    fn from(op: &ActionOp) -> Self {
        match op {
            ActionOp::Claim => LoggedOp::Claim,
            ActionOp::Assign { to } => LoggedOp::Assign { to: to.clone() },
            ActionOp::State { change } => LoggedOp::State { change: *change },
            ActionOp::Reply { message_id, .. } => LoggedOp::Reply { message_id: *message_id },
            ActionOp::Note { message_id, .. } => LoggedOp::Note { message_id: *message_id },
            ActionOp::RefillDecision { decision, items } => {
                LoggedOp::RefillDecision { decision: *decision, items: items.clone() }
            }
            ActionOp::Prioritise { decision } => LoggedOp::Prioritise { decision: *decision },
            ActionOp::Merge { into } => LoggedOp::Merge { into: *into },
        }
    }
}

/// State changes without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateOp {
    /// Confirm category and priority.
    Triage,
    /// Start work on an assigned thread.
    Start,
    /// Wait for the patient's answer.
    AwaitPatient,
    /// Finish.
    Close,
    /// Open again.
    Reopen,
}

impl From<StateOp> for crate::thread_state::ThreadAction {
    fn from(op: StateOp) -> Self {
        use crate::thread_state::ThreadAction;
        match op {
            StateOp::Triage => ThreadAction::Triage,
            StateOp::Start => ThreadAction::Start,
            StateOp::AwaitPatient => ThreadAction::AwaitPatient,
            StateOp::Close => ThreadAction::Close,
            StateOp::Reopen => ThreadAction::Reopen,
        }
    }
}

/// One medicine's decision in a request that lists several: its place in
/// the request (from 0) and whether it is issued. Names stay sealed: the
/// hub sees places only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDecision {
    /// The medicine's place in the request, from 0.
    pub item: u8,
    /// Issued or not, and why not.
    pub outcome: ItemOutcome,
}

/// What is decided for one medicine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum ItemOutcome {
    /// Issued.
    Issue,
    /// Not issued, with a coded reason.
    NotIssued {
        /// Why.
        reason: RejectionReason,
    },
}

/// A refill decision. Notes to the patient go in a sealed reply, never here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum RefillChoice {
    /// Approve.
    Approve,
    /// Reject with a coded reason.
    Reject {
        /// Why.
        reason: RejectionReason,
    },
    /// Ask the patient first (moves the thread to awaiting patient).
    QueryPatient,
}

/// The outcome for each action, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionsResponse {
    /// One per action.
    pub results: Vec<ActionResult>,
}

/// The outcome of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionResult {
    /// The action's idempotency key.
    pub idempotency_key: IdempotencyKey,
    /// What happened.
    pub outcome: ActionOutcome,
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", deny_unknown_fields)]
pub enum ActionOutcome {
    /// Done; the thread is now at `version`.
    Applied {
        /// The thread's new version.
        version: u64,
        /// The change-log sequence number of the action.
        seq: u64,
    },
    /// The thread had moved on: not applied.
    Conflict {
        /// The thread's version now.
        current_version: u64,
        /// Who made the last change (none for the patient or the hub).
        changed_by: Option<StaffRef>,
        /// When.
        changed_at: Timestamp,
    },
    /// Refused by the rules (state machine or permissions), or invalid.
    Rejected {
        /// Machine-readable reason (`illegal_transition`, `forbidden`,
        /// `not_found`, `duplicate_message`, ...).
        code: String,
        /// Human-readable explanation (no patient data).
        detail: String,
    },
}
