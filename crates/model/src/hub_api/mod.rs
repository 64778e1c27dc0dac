//! The hub's wire types: the JSON bodies of the practice hub's HTTP API
//! (docs/hub-api.yaml), shared by the hub, the simulator and the desktop's
//! sync client. Every request type rejects unknown fields. Envelopes travel as
//! base64 of the sealed bytes; the hub never sees plaintext.

mod actions;
mod audit;
#[cfg(feature = "auth")]
pub mod auth;
mod bytes;
mod directory;
mod events;
mod history;
mod keys;
mod patient;
mod patient_join;
mod policy;
mod practice_file;
mod problem;
mod staff;
mod sync;
mod token;

pub use actions::{
    ActionOp, ActionOutcome, ActionRequest, ActionResult, ActionsRequest, ActionsResponse, AssignTarget,
    ItemDecision, ItemOutcome, LoggedOp, RefillChoice, StateOp,
};
pub use audit::{ActivityEvent, AuditHead, AuditLinkRecord, AuditSegment, ThreadActivity, MAX_AUDIT_LINKS};
pub use bytes::{Base64Bytes, Base64Error};
pub use directory::{
    DirectoryPage, DirectoryPost, EntryRecord, HeadRecord, HeadsPage, PracticeSigningKey, SealedPracticeKey,
    SignedRenewalQuestions, StatementRecord, MAX_STATEMENTS_PER_POST,
};
pub use events::{CategoryCount, PoolCounts, PushEvent};
pub use history::{EarlierDecision, EarlierThread, ThreadHistory, MAX_HISTORY};
pub use keys::{PoolPublicKey, PracticeKeys};
pub use patient::{PatientMessageAccepted, PatientMessageRequest, PatientRepliesPage};
pub use patient_join::{
    PatientInviteIssued, PatientInviteRequest, PatientJoinRequest, PatientJoined, MAX_JOIN_ATTEMPTS,
};
pub use policy::{PatientPolicy, PolicyError, PracticePolicy, DEMO_KEY_AAGUID};
pub use practice_file::{PracticeFile, SimPatient};
pub use problem::{FieldError, Problem};
pub use staff::{AbsenceRequest, StaffDirectory, StaffEntry, MAX_ABSENCE_DAYS};
pub use sync::{ActionLogEntry, Cursor, EnvelopeRecord, Sender, SyncPage, ThreadMeta};
pub use token::{ChannelToken, IdempotencyKey, IdempotencyKeyError};

/// Largest request body the hub accepts on any endpoint, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest sealed envelope, in bytes (before base64).
pub const MAX_ENVELOPE_BYTES: usize = 512 * 1024;
/// Most actions in one `POST /v1/actions` batch.
pub const MAX_ACTIONS_PER_BATCH: usize = 100;
/// Most changes in one sync page (the client may ask for fewer).
pub const MAX_SYNC_PAGE: u32 = 500;
/// Smallest and largest sender-chosen thread/message id (fits SQLite INTEGER).
pub const MIN_WIRE_ID: u64 = 1;
/// See [`MIN_WIRE_ID`].
pub const MAX_WIRE_ID: u64 = (1 << 63) - 1;

/// Whether a sender-chosen thread or message id is in range.
pub fn is_valid_wire_id(id: u64) -> bool {
    (MIN_WIRE_ID..=MAX_WIRE_ID).contains(&id)
}

#[cfg(test)]
mod tests;
