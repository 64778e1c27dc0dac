//! `GET /v1/threads/{id}/history`: the patient's other threads of the same
//! category as the practice hub holds them — a workstation's cache purges
//! closed threads after its retention period, the hub keeps them — for a
//! role that may read them: when each began, where it stands, and its last
//! refill decision (who, when, and per medicine by place: the hub reads no
//! medicine).

use serde::{Deserialize, Serialize};

use super::actions::{ItemDecision, RefillChoice};
use crate::ids::ThreadId;
use crate::thread_state::StateKind;

/// The most earlier threads the hub returns, newest first.
pub const MAX_HISTORY: u32 = 20;

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadHistory {
    /// Newest first.
    pub threads: Vec<EarlierThread>,
}

/// One earlier thread of the patient's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlierThread {
    /// The thread.
    pub thread_id: ThreadId,
    /// When the patient began it (hub clock, Unix ms).
    pub created_at_ms: i64,
    /// Where it stands.
    pub state: StateKind,
    /// Its last approval, rejection or query, if any.
    pub decision: Option<EarlierDecision>,
}

/// A refill decision as the hub logged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlierDecision {
    /// The decision as a whole.
    pub decision: RefillChoice,
    /// Per medicine, when decided one by one.
    #[serde(default)]
    pub items: Vec<ItemDecision>,
    /// Who decided, by name as the practice's staff directory has it.
    pub by_name: String,
    /// When (hub clock, Unix ms).
    pub at_ms: i64,
}
