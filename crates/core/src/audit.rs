//! The device's audit events: every action, view, unlock, lock and failed
//! attempt, in a SHA-256 hash chain inside the encrypted cache. (Pushing the
//! chain to the hub and verifying it is issue 9's.)

use rusqlite::OptionalExtension;
use sealbox_model::jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::store::write::{AuditRecord, Writer};
use crate::store::StoreError;

/// Appends an audit event chained to the previous one:
/// hash = SHA-256(prev hash ‖ time ‖ actor ‖ action ‖ object).
pub fn append(
    w: &mut Writer<'_>,
    at: Timestamp,
    actor: &str,
    action: &str,
    object: &str,
) -> Result<(), StoreError> {
    let prev: Vec<u8> = w
        .tx()
        .query_row("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| vec![0u8; 32]);
    let mut h = Sha256::new();
    for field in [
        prev.as_slice(),
        &at.as_millisecond().to_be_bytes(),
        actor.as_bytes(),
        action.as_bytes(),
        object.as_bytes(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    let hash = h.finalize().to_vec();
    w.append_audit(&AuditRecord {
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        object: object.to_owned(),
        prev_hash: prev,
        hash,
    })?;
    Ok(())
}
