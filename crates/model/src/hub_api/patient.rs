//! The patient channel: `POST /v1/patient/messages` and
//! `GET /v1/patient/replies`, authorised by `Authorization: Bearer <channel token>`.

use serde::{Deserialize, Serialize};

use super::bytes::Base64Bytes;
use super::sync::{Cursor, EnvelopeRecord};
use crate::category::Category;
use crate::ids::{MessageId, ThreadId};

/// A sealed message from a patient. The ids are chosen by the sender and
/// must match the envelope's header; a new `thread_id` opens a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientMessageRequest {
    /// The thread (1..2^63-1).
    pub thread_id: ThreadId,
    /// The message (1..2^63-1), unique in the practice.
    pub message_id: MessageId,
    /// The category the patient picked (used when the thread is new).
    pub category: Category,
    /// The sealed envelope bytes.
    pub envelope: Base64Bytes,
}

/// The hub stored the message (or already had exactly this one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientMessageAccepted {
    /// The thread.
    pub thread_id: ThreadId,
    /// The message.
    pub message_id: MessageId,
    /// True when this exact message had been stored before (a safe retry).
    pub duplicate: bool,
}

/// Replies from the practice to this patient, after a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientRepliesPage {
    /// Sealed replies in order.
    pub replies: Vec<EnvelopeRecord>,
    /// Pass as `cursor` to get what comes after.
    pub next_cursor: Cursor,
    /// True when more are waiting.
    pub more: bool,
}
