//! `GET /v1/sync?cursor=N&limit=M`: everything that changed after a cursor.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::bytes::Base64Bytes;
use crate::actor::StaffRef;
use crate::category::Category;
use crate::ids::{MessageId, PatientId, ThreadId};
use crate::thread_state::ThreadState;

/// A position in the hub's change log: every stored envelope and applied
/// action gets the next sequence number. `0` is the beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub u64);

/// Who sent an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Sender {
    /// The thread's patient.
    Patient,
    /// A member of staff.
    Staff {
        /// Who.
        staff: StaffRef,
    },
}

/// A stored sealed envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeRecord {
    /// Its place in the change log.
    pub seq: u64,
    /// The thread.
    pub thread_id: ThreadId,
    /// The message.
    pub message_id: MessageId,
    /// Who sent it.
    pub sender: Sender,
    /// When the hub stored it.
    pub received_at: Timestamp,
    /// The sealed bytes.
    pub envelope: Base64Bytes,
}

/// A thread's shared state as the hub holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadMeta {
    /// The thread.
    pub thread_id: ThreadId,
    /// The patient's pseudonym.
    pub patient_id: PatientId,
    /// The patient's X25519 public key (seal replies to it).
    pub patient_x25519_public: Base64Bytes,
    /// Category (as picked by the patient, or corrected).
    pub category: Category,
    /// Life-cycle state.
    pub state: ThreadState,
    /// Increases by one with every applied action; actions name the version
    /// they expect.
    pub version: u64,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Who made the last change (none when the patient or the hub did).
    pub updated_by: Option<StaffRef>,
    /// The latest priority a person gave it (none: nobody has yet, and the
    /// workstation shows what the red-flag detector suggests).
    #[serde(default)]
    pub triage: Option<crate::triage::TriageSet>,
    /// The thread this one was merged into as a repeat (it is then closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<ThreadId>,
}

/// An applied action, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionLogEntry {
    /// Its place in the change log.
    pub seq: u64,
    /// The thread.
    pub thread_id: ThreadId,
    /// What was done.
    pub op: super::actions::LoggedOp,
    /// By whom.
    pub by: StaffRef,
    /// When the hub applied it.
    pub at: Timestamp,
    /// The thread's version after it.
    pub version: u64,
}

/// One page of changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncPage {
    /// Envelopes stored after the cursor, in order.
    pub envelopes: Vec<EnvelopeRecord>,
    /// Current metadata of every thread touched in this page.
    pub threads: Vec<ThreadMeta>,
    /// Actions applied after the cursor, in order.
    pub actions: Vec<ActionLogEntry>,
    /// Pass as `cursor` to get what comes after this page.
    pub next_cursor: Cursor,
    /// True when more changes are waiting (ask again at once).
    pub more: bool,
}
