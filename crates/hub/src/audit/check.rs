//! Verifying the audit trail the hub holds: for each device, the chain
//! (consecutive seqs, each link following the one before, every hash
//! matching its fields, every link naming the device) and the signed
//! segments (they cover the chain exactly, each one's first and last link
//! are the ones the device signed, each signature is the device's). The
//! first broken link of each device is reported.

use sealbox_crypto::audit_chain::{verify_links, ChainBreak, Link, SegmentHead, GENESIS};
use sealbox_crypto::ed25519_dalek::VerifyingKey;

use crate::args;
use crate::db::sql::Sql;
use crate::db::DbError;

/// Which chains to check: all, a user's devices, or the devices with an
/// event about a thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// A staff id: that user's devices.
    pub user: Option<String>,
    /// A thread id: devices with any event about it.
    pub thread: Option<String>,
}

/// One device's chain, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCheck {
    /// The device.
    pub device: String,
    /// Links held.
    pub links: u64,
    /// The first broken link, if any.
    pub broken: Option<ChainBreak>,
}

fn devices(conn: &dyn Sql, filter: &Filter) -> Result<Vec<String>, DbError> {
    conn.query_map(
        "SELECT DISTINCT d.id FROM devices d
         WHERE (EXISTS (SELECT 1 FROM audit_links l WHERE l.device_id = d.id)
                OR EXISTS (SELECT 1 FROM audit_segments s WHERE s.device_id = d.id))
           AND (?1 IS NULL OR d.staff_id = ?1)
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM audit_links l WHERE l.device_id = d.id AND l.object = ?2))
         ORDER BY d.id",
        args![filter.user, filter.thread],
        |r| r.get(0),
    )
}

/// A device's links in seq order.
pub fn links(conn: &dyn Sql, device: &str) -> Result<Vec<Link>, DbError> {
    let hash = |b: Vec<u8>| b.try_into().map_err(|_| DbError::Corrupt { what: "audit hash" });
    conn.query_map(
        "SELECT seq, at_ms, actor, device, action, object, prev_hash, hash FROM audit_links
         WHERE device_id = ?1 ORDER BY seq",
        args![device],
        |r| {
            Ok(Link {
                seq: u64::try_from(r.get::<i64>(0)?).map_err(|_| DbError::Corrupt { what: "audit seq" })?,
                at_ms: r.get(1)?,
                actor: r.get(2)?,
                device: r.get(3)?,
                action: r.get(4)?,
                object: r.get(5)?,
                prev_hash: hash(r.get(6)?)?,
                hash: hash(r.get(7)?)?,
            })
        },
    )
}

struct Segment {
    first: u64,
    last: u64,
    prev_hash: Vec<u8>,
    last_hash: Vec<u8>,
    signature: Vec<u8>,
}

fn segments(conn: &dyn Sql, device: &str) -> Result<Vec<Segment>, DbError> {
    conn.query_map(
        "SELECT first_seq, last_seq, prev_hash, last_hash, signature FROM audit_segments
         WHERE device_id = ?1 ORDER BY first_seq",
        args![device],
        |r| {
            Ok(Segment {
                first: u64::try_from(r.get::<i64>(0)?).unwrap_or(0),
                last: u64::try_from(r.get::<i64>(1)?).unwrap_or(0),
                prev_hash: r.get(2)?,
                last_hash: r.get(3)?,
                signature: r.get(4)?,
            })
        },
    )
}

fn device_key(conn: &dyn Sql, device: &str) -> Result<Option<VerifyingKey>, DbError> {
    let key: Option<Vec<u8>> = conn
        .query_opt("SELECT ed25519_public FROM devices WHERE id = ?1", args![device])?
        .ok_or(DbError::NoRow)?
        .get(0)?;
    Ok(key
        .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok()))
}

/// Checks one device's chain against its signed segments.
pub fn check_device(conn: &dyn Sql, device: &str) -> Result<DeviceCheck, DbError> {
    let links = links(conn, device)?;
    let count = links.len() as u64;
    let broken = verify_links(device, (0, GENESIS), &links)
        .err()
        .or_else(|| check_segments(conn, device, &links).err())
        .map(Some)
        .unwrap_or_default();
    Ok(DeviceCheck { device: device.to_owned(), links: count, broken })
}

fn check_segments(conn: &dyn Sql, device: &str, links: &[Link]) -> Result<(), ChainBreak> {
    let uncovered = |seq| ChainBreak { seq, reason: "not covered by a signed segment" };
    let (Ok(segments), Ok(Some(key))) = (segments(conn, device), device_key(conn, device)) else {
        return Err(ChainBreak { seq: 1, reason: "the device's segments or key cannot be read" });
    };
    let at = |seq: u64| usize::try_from(seq).ok().and_then(|s| s.checked_sub(1)).and_then(|i| links.get(i));
    let mut next = 1;
    for s in &segments {
        if s.first != next || s.last < s.first {
            return Err(uncovered(next));
        }
        let (Some(first), Some(last)) = (at(s.first), at(s.last)) else {
            return Err(ChainBreak { seq: s.last, reason: "a signed segment names links that are missing" });
        };
        let (Ok(prev_hash), Ok(last_hash), Ok(signature)) = (
            <[u8; 32]>::try_from(s.prev_hash.as_slice()),
            <[u8; 32]>::try_from(s.last_hash.as_slice()),
            <[u8; 64]>::try_from(s.signature.as_slice()),
        ) else {
            return Err(ChainBreak { seq: s.first, reason: "a signed segment is malformed" });
        };
        if first.prev_hash != prev_hash || last.hash != last_hash {
            return Err(ChainBreak { seq: s.first, reason: "differs from what the device signed" });
        }
        let head = SegmentHead { device, first_seq: s.first, last_seq: s.last, prev_hash, last_hash };
        head.verify(&key, &signature)?;
        next = s.last + 1;
    }
    if next != links.len() as u64 + 1 {
        return Err(uncovered(next));
    }
    Ok(())
}

/// Checks every chain `filter` selects.
pub fn check(conn: &dyn Sql, filter: &Filter) -> Result<Vec<DeviceCheck>, DbError> {
    devices(conn, filter)?.iter().map(|d| check_device(conn, d)).collect()
}
