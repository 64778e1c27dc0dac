//! The sync engine: the bridge between the practice hub and this device's
//! encrypted cache.
//!
//! - [`keys`]: the pool private keys this device holds (opens envelopes).
//! - [`plan`]: pure: a sync page + keys + triage rules → what to write.
//! - [`apply`]: writes a plan (messages, triage, quarantine, cursor) in one
//!   transaction.
//! - [`client`]: the hub's HTTP API with bounded bodies and typed errors.
//! - [`outbox`]: clinician actions queued with their audit event, sent in
//!   order with idempotency keys, acknowledged or rebased.
//! - [`unreadable`]: envelopes that could not be opened, kept and listed.
//! - [`engine`]: pull to the hub's head, follow its event stream, and the
//!   online / offline status.

pub mod apply;
pub mod client;
pub mod engine;
pub mod keys;
pub mod outbox;
pub mod plan;
pub mod unreadable;

use crate::store::{Store, StoreError};

/// The cache as the sync engine and the UI share it. The engine locks it
/// only between network calls, never across one, so the clinician can read,
/// search, draft and queue while a sync waits on the hub.
pub type SharedStore = std::sync::Mutex<Store>;

/// Locks the shared cache. A panic while it was held cannot leave a
/// half-applied change (every write is one transaction), so a poisoned lock
/// is taken as it is.
pub fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a sync step failed. Log-safe: never message content, bodies, keys
/// or tokens.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The hub could not be reached, or the connection broke.
    #[error("the hub is unreachable ({0})")]
    Unreachable(&'static str),
    /// The hub answered with an error status.
    #[error("the hub answered {status} ({code})")]
    Status {
        /// HTTP status.
        status: u16,
        /// The problem code from its body, or "unknown".
        code: String,
    },
    /// The session is no longer valid: sign in again.
    #[error("the hub session has ended; sign in again")]
    SessionEnded,
    /// The reply was not what the API promises (wrong types, truncated).
    #[error("the hub's reply is malformed ({what})")]
    Malformed {
        /// Where it broke (a field path or a position; never a value).
        what: String,
    },
    /// The reply was larger than this client accepts.
    #[error("the hub's reply exceeds {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The hub sent nothing for too long.
    #[error("the hub stopped sending for {secs} s")]
    Stalled {
        /// How long.
        secs: u64,
    },
    /// The hub's reply breaks the protocol (e.g. a cursor going backwards).
    #[error("the hub broke the sync protocol: {0}")]
    Protocol(&'static str),
    /// The cache refused the write (nothing was half-written).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hub's address is not https (plain http only to this machine):
    /// a session token must never travel in clear.
    #[error("the hub's address must start with https:// (plain http only for this machine)")]
    InsecureHub,
    /// The HTTP client could not be set up.
    #[error("the HTTP client could not be set up")]
    Client,
    /// The task opening a page stopped before it finished (a defect, or
    /// the runtime shutting down); nothing of that page was written.
    #[error("opening a page of envelopes stopped unexpectedly")]
    Opening,
}

impl SyncError {
    /// True when retrying later may succeed (network trouble, a 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Unreachable(_) | SyncError::Stalled { .. } => true,
            SyncError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
