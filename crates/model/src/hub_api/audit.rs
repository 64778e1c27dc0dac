//! `POST /v1/audit/segments`: a device pushes the next run of its audit
//! chain, signed; the hub answers with the head it now holds. Links carry
//! ids, kinds and times only (see sealbox-crypto's `audit_chain`).

use serde::{Deserialize, Serialize};

use super::bytes::Base64Bytes;

/// Most links in one pushed segment.
pub const MAX_AUDIT_LINKS: usize = 1000;

/// One link of a device's audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditLinkRecord {
    /// Position in the device's chain, from 1.
    pub seq: u64,
    /// When, in ms since the Unix epoch.
    pub at_ms: i64,
    /// Who (a staff id).
    pub actor: String,
    /// The device that recorded it.
    pub device: String,
    /// What ("view", "claim", "unlock", …).
    pub action: String,
    /// On what (an id).
    pub object: String,
    /// The previous link's hash (32 bytes).
    pub prev_hash: Base64Bytes,
    /// This link's hash (32 bytes).
    pub hash: Base64Bytes,
}

/// Consecutive links of the caller's device, and the device's Ed25519
/// signature over the segment's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSegment {
    /// 1..=[`MAX_AUDIT_LINKS`] links, in chain order, continuing what the
    /// hub holds.
    pub links: Vec<AuditLinkRecord>,
    /// 64-byte Ed25519 signature (sealbox-crypto `SegmentHead::sign`).
    pub signature: Base64Bytes,
}

/// The last link the hub holds of a device's chain (seq 0 and 32 zero
/// bytes before the first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    /// Its seq.
    pub seq: u64,
    /// Its hash.
    pub hash: Base64Bytes,
}

/// `GET /v1/threads/{id}/activity`: who did what on a thread, from the
/// audit trail the hub holds (every device's pushed chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadActivity {
    /// Oldest first.
    pub events: Vec<ActivityEvent>,
}

/// One event about a thread or one of its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityEvent {
    /// When, in ms since the Unix epoch.
    pub at_ms: i64,
    /// Who (a staff id).
    pub actor: String,
    /// Their name, as the practice registered it.
    pub actor_name: String,
    /// What ("view", "claim", "reply", "refill_decision", …).
    pub action: String,
    /// On what: a message id, or `thread <id>`.
    pub object: String,
}
