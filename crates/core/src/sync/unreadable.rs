//! Envelopes from the hub that could not be opened (tampered, an unknown
//! key or version, another practice's, refiled by the hub): kept in the
//! cache's quarantine with their sealed bytes and shown to the clinician as
//! "could not be decrypted" items. Never dropped, never retried silently.

use rusqlite::params;
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;

use super::plan::Unreadable;
use crate::store::write::Writer;
use crate::store::{Store, StoreError};

const KIND: &str = "envelope";

fn object_id(thread: ThreadId, message: MessageId) -> String {
    format!("{}/{}", thread.0, message.0)
}

/// One "could not be decrypted" item. No content: ids, time and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecryptable {
    /// The thread the hub filed it under.
    pub thread: ThreadId,
    /// The message id the hub gave.
    pub message: MessageId,
    /// When it was quarantined.
    pub at: Timestamp,
    /// Why (log-safe).
    pub reason: String,
}

/// Keeps `item` (replacing an earlier copy of the same message).
pub(crate) fn record(w: &mut Writer<'_>, item: &Unreadable, now: Timestamp) -> Result<(), StoreError> {
    let object = object_id(item.thread_id, item.message_id);
    w.tx()
        .prepare_cached("DELETE FROM quarantine WHERE kind = ?1 AND object_id = ?2")?
        .execute(params![KIND, object])?;
    w.quarantine_item(KIND, &object, &item.reason, &item.envelope, now)
}

impl Store {
    /// Every envelope that could not be opened, newest first.
    pub fn undecryptable(&self) -> Result<Vec<Undecryptable>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT object_id, at_ms, reason FROM quarantine WHERE kind = ?1 ORDER BY seq DESC",
        )?;
        let rows = stmt
            .query_map([KIND], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(object, at, reason)| {
                let (thread, message) = object.split_once('/').ok_or(StoreError::Decode("quarantined id"))?;
                let id = |s: &str| s.parse::<u64>().map_err(|_| StoreError::Decode("quarantined id"));
                Ok(Undecryptable {
                    thread: ThreadId(id(thread)?),
                    message: MessageId(id(message)?),
                    at: Timestamp::from_millisecond(at).map_err(|_| StoreError::Decode("quarantine time"))?,
                    reason,
                })
            })
            .collect()
    }
}
