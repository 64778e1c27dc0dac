//! The device's audit trail: every action, view, unlock, lock and failed
//! attempt is a link of a hash chain (sealbox-crypto `audit_chain`) in the
//! encrypted cache, written in the same transaction as the change it
//! describes. [`verify`] checks the chain here; [`push`] sends what the hub
//! does not hold yet, in segments signed with the device's Ed25519 key.

use rusqlite::OptionalExtension;
use sealbox_crypto::audit_chain::{verify_links, ChainBreak, Event, Link, SegmentHead, GENESIS};
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_model::hub_api::{
    AuditHead, AuditLinkRecord, AuditSegment, Base64Bytes, ThreadActivity, MAX_AUDIT_LINKS,
};
use sealbox_model::jiff::Timestamp;

use crate::store::write::Writer;
use crate::store::{Store, StoreError};
use crate::sync::client::HubClient;
use crate::sync::{lock, SharedStore, SyncError};

/// The setting naming the device this cache belongs to.
const DEVICE_SETTING: &str = "device.id";
/// The setting holding the head the hub acknowledged: `seq:hex hash`.
const PUSHED_SETTING: &str = "audit.pushed";

/// Records which device this cache belongs to; every later link names it.
/// Called at enrolment, before the first event.
pub fn set_device(w: &mut Writer<'_>, device_id: &str) -> Result<(), StoreError> {
    w.set_setting(DEVICE_SETTING, device_id)
}

/// Appends an event to the chain, inside the caller's transaction.
pub fn append(
    w: &mut Writer<'_>,
    at: Timestamp,
    actor: &str,
    action: &str,
    object: &str,
) -> Result<(), StoreError> {
    append_hashed(w, at, actor, action, object).map(|_| ())
}

/// [`append`], returning the new link's hash (what a record names).
pub fn append_hashed(
    w: &mut Writer<'_>,
    at: Timestamp,
    actor: &str,
    action: &str,
    object: &str,
) -> Result<[u8; 32], StoreError> {
    let last: Option<(i64, Vec<u8>)> = w
        .tx()
        .query_row("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (seq, prev) = match last {
        None => (0, GENESIS),
        Some((seq, hash)) => (
            u64::try_from(seq).map_err(|_| StoreError::Decode("audit seq"))?,
            hash.try_into().map_err(|_| StoreError::Decode("audit hash"))?,
        ),
    };
    let device: String = w
        .tx()
        .query_row("SELECT value FROM settings WHERE key = ?1", [DEVICE_SETTING], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    let event = Event { at_ms: at.as_millisecond(), actor, device: &device, action, object };
    let link = Link::after(seq, prev, event);
    w.append_audit(&link)?;
    Ok(link.hash)
}

/// Why the device's chain does not verify.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The cache could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A link is altered, missing, out of order, inserted, or differs from
    /// what the hub acknowledged.
    #[error(transparent)]
    Broken(#[from] ChainBreak),
}

/// Checks the whole chain: consecutive, every hash matching its fields,
/// every link of this device, and still holding the head the hub
/// acknowledged (so links the hub holds cannot vanish here unnoticed).
/// Returns the head `(seq, hash)`.
pub fn verify(store: &Store) -> Result<(u64, [u8; 32]), AuditError> {
    let device = store.setting(DEVICE_SETTING)?.unwrap_or_default();
    let links = store.audit_links_after(0)?;
    let head = verify_links(&device, (0, GENESIS), &links)?;
    if let Some((seq, hash)) = pushed(store)? {
        let held = usize::try_from(seq).ok().and_then(|s| s.checked_sub(1)).and_then(|i| links.get(i));
        if held.is_none_or(|l| l.hash != hash) {
            return Err(ChainBreak { seq, reason: "differs from the head the hub acknowledged" }.into());
        }
    }
    Ok(head)
}

fn pushed(store: &Store) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let Some(text) = store.setting(PUSHED_SETTING)? else { return Ok(None) };
    let bad = || StoreError::Decode("audit push mark");
    let (seq, hex) = text.split_once(':').ok_or_else(bad)?;
    let seq = seq.parse().map_err(|_| bad())?;
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    Ok(Some((seq, bytes.try_into().map_err(|_| bad())?)))
}

/// The `audit.pushed` setting's text for a head: `seq:hex hash`.
fn push_mark(seq: u64, hash: &[u8]) -> String {
    format!("{seq}:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Sends the links the hub has not acknowledged, in signed segments of at
/// most [`MAX_AUDIT_LINKS`], and records each acknowledged head. Returns how
/// many links were sent. The cache is locked only between network calls.
pub async fn push(store: &SharedStore, hub: &HubClient, key: &SigningKey) -> Result<usize, SyncError> {
    // Start after what the hub holds (an acknowledgement may have been
    // lost), once it is certain that the hub's head is a link of this chain.
    let held: AuditHead = hub
        .call::<(), _>(reqwest::Method::GET, "/v1/audit/head", None)
        .await?
        .ok_or(SyncError::Protocol("the hub sent no audit head"))?;
    {
        let mut store = lock(store);
        if held.seq > 0 {
            let ours = store.audit_links_after(held.seq - 1)?.into_iter().next();
            if ours.is_none_or(|l| l.seq != held.seq || l.hash.as_slice() != held.hash.as_slice()) {
                return Err(SyncError::Protocol("the hub holds an audit chain this device does not"));
            }
        }
        if pushed(&store)?.map(|(seq, _)| seq) != Some(held.seq) && held.seq > 0 {
            let mark = push_mark(held.seq, held.hash.as_slice());
            store.write(|w| w.set_setting(PUSHED_SETTING, &mark))?;
        }
    }
    let mut sent = 0;
    loop {
        let (device, links) = {
            let store = lock(store);
            let after = pushed(&store)?.map_or(0, |(seq, _)| seq);
            let mut links = store.audit_links_after(after)?;
            links.truncate(MAX_AUDIT_LINKS);
            (store.setting(DEVICE_SETTING)?.unwrap_or_default(), links)
        };
        let (Some(first), Some(last)) = (links.first(), links.last()) else { return Ok(sent) };
        let head = SegmentHead {
            device: &device,
            first_seq: first.seq,
            last_seq: last.seq,
            prev_hash: first.prev_hash,
            last_hash: last.hash,
        };
        let segment = AuditSegment {
            links: links.iter().map(AuditLinkRecord::from).collect(),
            signature: Base64Bytes(head.sign(key).to_vec()),
        };
        let reply: Option<AuditHead> =
            hub.call(reqwest::Method::POST, "/v1/audit/segments", Some(&segment)).await?;
        let acked = reply.ok_or(SyncError::Protocol("the hub sent no audit head"))?;
        if acked.seq != last.seq || acked.hash.as_slice() != last.hash.as_slice() {
            return Err(SyncError::Protocol("the hub acknowledged another audit head"));
        }
        let mark = push_mark(last.seq, &last.hash);
        lock(store).write(|w| w.set_setting(PUSHED_SETTING, &mark))?;
        sent += links.len();
    }
}

/// `GET /v1/threads/{id}/activity`: every device's events about a thread.
pub async fn thread_activity(hub: &HubClient, thread: u64) -> Result<ThreadActivity, SyncError> {
    let reply: Option<ThreadActivity> =
        hub.call::<(), _>(reqwest::Method::GET, &format!("/v1/threads/{thread}/activity"), None).await?;
    reply.ok_or(SyncError::Protocol("the hub sent no activity"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::{new_store, t};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const EVENTS: i64 = 40;

    /// A cache with a chain of `EVENTS` links, all acknowledged by the hub.
    fn chained(dir: &std::path::Path) -> Store {
        let (mut store, _, _) = new_store(dir);
        store.write(|w| set_device(w, "dev-1")).unwrap();
        for i in 0..EVENTS {
            let action = ["view", "claim", "unlock", "lock:idle"][(i % 4) as usize];
            store.write(|w| append(w, t(i), "gp-1", action, &format!("{}", 100 + i))).unwrap();
        }
        let (seq, hash) = verify(&store).unwrap();
        assert_eq!(seq, EVENTS as u64);
        store.write(|w| w.set_setting(PUSHED_SETTING, &push_mark(seq, &hash))).unwrap();
        store
    }

    /// One random tampering with the `audit_events` table, in SQL, as
    /// someone holding the cache's key could do. Returns what was done.
    fn tamper(conn: &rusqlite::Connection, rng: &mut StdRng) -> String {
        let row = rng.gen_range(1..=EVENTS);
        match rng.gen_range(0..4) {
            0 => {
                let (column, value): (&str, rusqlite::types::Value) = match rng.gen_range(0..7) {
                    0 => ("at_ms", (1_750_000_000_001i64 + 2 * rng.gen_range(1..1_000_000)).into()),
                    1 => ("actor", "gp-2".to_owned().into()),
                    2 => ("device", "dev-2".to_owned().into()),
                    3 => ("action", "refill_approved".to_owned().into()),
                    4 => ("object", format!("{}", rng.gen_range(1..99)).into()),
                    5 => ("prev_hash", rng.gen::<[u8; 32]>().to_vec().into()),
                    _ => ("hash", rng.gen::<[u8; 32]>().to_vec().into()),
                };
                conn.execute(
                    &format!("UPDATE audit_events SET {column} = ?1 WHERE seq = ?2"),
                    rusqlite::params![value, row],
                )
                .unwrap();
                format!("modify {column} of {row}")
            }
            1 => {
                conn.execute("DELETE FROM audit_events WHERE seq = ?1", [row]).unwrap();
                format!("delete {row}")
            }
            2 => {
                let other = (row + rng.gen_range(1..EVENTS) - 1) % EVENTS + 1;
                // Swap every column but seq: the rows trade places.
                conn.execute_batch(&format!(
                    "CREATE TEMP TABLE swap AS SELECT * FROM audit_events WHERE seq IN ({row}, {other});
                     UPDATE audit_events SET (at_ms, actor, action, object, prev_hash, hash, device) =
                       (SELECT at_ms, actor, action, object, prev_hash, hash, device FROM swap
                        WHERE swap.seq = CASE audit_events.seq WHEN {row} THEN {other} ELSE {row} END)
                     WHERE seq IN ({row}, {other});
                     DROP TABLE swap;"
                ))
                .unwrap();
                format!("swap {row} and {other}")
            }
            _ => {
                // A well-formed link chained after `row - 1`, pushed in at
                // `row` (the later links move up by one).
                let prev: Vec<u8> = if row == 1 {
                    GENESIS.to_vec()
                } else {
                    conn.query_row("SELECT hash FROM audit_events WHERE seq = ?1", [row - 1], |r| r.get(0))
                        .unwrap()
                };
                let prev: [u8; 32] = prev.try_into().unwrap();
                let forged = Link::after(
                    (row - 1) as u64,
                    prev,
                    Event { at_ms: 1, actor: "gp-1", device: "dev-1", action: "view", object: "7" },
                );
                conn.execute_batch("UPDATE audit_events SET seq = -seq WHERE seq >= 0").unwrap();
                conn.execute("UPDATE audit_events SET seq = -seq + 1 WHERE seq <= -?1", [row]).unwrap();
                conn.execute("UPDATE audit_events SET seq = -seq WHERE seq < 0", []).unwrap();
                conn.execute(
                    "INSERT INTO audit_events(seq, at_ms, actor, device, action, object, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    rusqlite::params![
                        row,
                        forged.at_ms,
                        forged.actor,
                        forged.device,
                        forged.action,
                        forged.object,
                        forged.prev_hash.to_vec(),
                        forged.hash.to_vec()
                    ],
                )
                .unwrap();
                format!("insert at {row}")
            }
        }
    }

    #[test]
    fn a_thousand_random_tamperings_are_all_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = chained(dir.path());
        let mut rng = StdRng::seed_from_u64(9);
        for round in 0..1000 {
            store.conn().execute_batch("SAVEPOINT tamper").unwrap();
            let what = tamper(store.conn(), &mut rng);
            let found = verify(&store);
            store.conn().execute_batch("ROLLBACK TO tamper; RELEASE tamper").unwrap();
            assert!(matches!(found, Err(AuditError::Broken(_))), "round {round}: {what} was not found");
        }
        // Untouched, it still verifies.
        assert_eq!(verify(&store).unwrap().0, EVENTS as u64);
    }

    #[test]
    fn the_chain_names_the_device_and_reports_the_first_broken_link() {
        let dir = tempfile::tempdir().unwrap();
        let store = chained(dir.path());
        let links = store.audit_links_after(0).unwrap();
        assert!(links.iter().all(|l| l.device == "dev-1" && l.actor == "gp-1"));
        store.conn().execute("UPDATE audit_events SET object = '999' WHERE seq = 7", []).unwrap();
        match verify(&store) {
            Err(AuditError::Broken(b)) => assert_eq!(b.seq, 7),
            other => panic!("expected a break at 7, got {other:?}"),
        }
    }
}
