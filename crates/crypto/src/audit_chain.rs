//! The audit hash chain: every audit event of a device is a link whose hash
//! covers the previous link's hash and the event's fields, so changing,
//! removing, reordering or inserting an event breaks every later link. A
//! device signs the head of each run of links it pushes (a segment) with its
//! Ed25519 key, so the hub can tell the device's chain from anyone else's.
//!
//! Link hash = SHA-256 over `"sealbox/audit/link/v1"`, then each field
//! length-prefixed (8 bytes, big-endian): previous hash, seq (8 bytes),
//! time in ms (8 bytes), actor, device, action, object. The first link of a
//! chain has seq 1 and the previous hash [`GENESIS`].
//!
//! Segment signature = Ed25519 over `"sealbox/audit/segment/v1"`, the device
//! id (length-prefixed), first seq, last seq, the hash before the first link
//! and the last link's hash.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sealbox_model::hub_api::{AuditLinkRecord, Base64Bytes};
use sha2::{Digest, Sha256};

/// The "previous hash" of a chain's first link.
pub const GENESIS: [u8; 32] = [0u8; 32];

const LINK_DOMAIN: &[u8] = b"sealbox/audit/link/v1";
const SEGMENT_DOMAIN: &[u8] = b"sealbox/audit/segment/v1";

/// One audit event as a link of its device's chain. Fields are ids, kinds
/// and times only, never clinical content, so `Debug` may show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Position in the device's chain, from 1.
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who (a staff id).
    pub actor: String,
    /// Which device recorded it.
    pub device: String,
    /// What ("view", "claim", "unlock", …).
    pub action: String,
    /// On what (an id).
    pub object: String,
    /// The previous link's hash ([`GENESIS`] for seq 1).
    pub prev_hash: [u8; 32],
    /// This link's hash.
    pub hash: [u8; 32],
}

/// The fields of an event, before it is chained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who.
    pub actor: &'a str,
    /// Which device.
    pub device: &'a str,
    /// What.
    pub action: &'a str,
    /// On what.
    pub object: &'a str,
}

impl Link {
    /// The link after `(prev_seq, prev_hash)` (use `(0, GENESIS)` to start).
    pub fn after(prev_seq: u64, prev_hash: [u8; 32], event: Event<'_>) -> Link {
        let seq = prev_seq + 1;
        Link {
            seq,
            at_ms: event.at_ms,
            actor: event.actor.to_owned(),
            device: event.device.to_owned(),
            action: event.action.to_owned(),
            object: event.object.to_owned(),
            prev_hash,
            hash: link_hash(&prev_hash, seq, &event),
        }
    }

    /// The hash its fields call for (equal to `hash` unless altered).
    pub fn expected_hash(&self) -> [u8; 32] {
        let event = Event {
            at_ms: self.at_ms,
            actor: &self.actor,
            device: &self.device,
            action: &self.action,
            object: &self.object,
        };
        link_hash(&self.prev_hash, self.seq, &event)
    }
}

/// A link as it travels to the hub.
impl From<&Link> for AuditLinkRecord {
    fn from(l: &Link) -> Self {
        AuditLinkRecord {
            seq: l.seq,
            at_ms: l.at_ms,
            actor: l.actor.clone(),
            device: l.device.clone(),
            action: l.action.clone(),
            object: l.object.clone(),
            prev_hash: Base64Bytes(l.prev_hash.to_vec()),
            hash: Base64Bytes(l.hash.to_vec()),
        }
    }
}

/// A link as the hub received it; the error names the field that is not 32
/// bytes. (The hashes are checked by [`verify_links`], not here.)
impl TryFrom<&AuditLinkRecord> for Link {
    type Error = &'static str;

    fn try_from(r: &AuditLinkRecord) -> Result<Self, Self::Error> {
        Ok(Link {
            seq: r.seq,
            at_ms: r.at_ms,
            actor: r.actor.clone(),
            device: r.device.clone(),
            action: r.action.clone(),
            object: r.object.clone(),
            prev_hash: r.prev_hash.as_slice().try_into().map_err(|_| "prev_hash")?,
            hash: r.hash.as_slice().try_into().map_err(|_| "hash")?,
        })
    }
}

fn link_hash(prev: &[u8; 32], seq: u64, e: &Event<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(LINK_DOMAIN);
    for field in [
        prev.as_slice(),
        &seq.to_be_bytes(),
        &e.at_ms.to_be_bytes(),
        e.actor.as_bytes(),
        e.device.as_bytes(),
        e.action.as_bytes(),
        e.object.as_bytes(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

/// Where and why a chain is broken. Names a position, never content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    /// The first link that does not hold (or the seq where one is missing).
    pub seq: u64,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks that `links` (in stored order) continue the chain after
/// `(start_seq, start_hash)` — `(0, GENESIS)` for a whole chain — with
/// consecutive seqs, each previous hash equal to the link before, every hash
/// matching its fields and every link recorded by `device`. Returns the
/// head `(seq, hash)`.
pub fn verify_links(
    device: &str,
    start: (u64, [u8; 32]),
    links: &[Link],
) -> Result<(u64, [u8; 32]), ChainBreak> {
    let (mut seq, mut hash) = start;
    for link in links {
        let next = seq + 1;
        if link.seq != next {
            let reason =
                if link.seq > next { "a link is missing before it" } else { "out of order or repeated" };
            return Err(ChainBreak { seq: next.min(link.seq), reason });
        }
        if link.prev_hash != hash {
            return Err(ChainBreak { seq: link.seq, reason: "does not follow the link before it" });
        }
        if link.expected_hash() != link.hash {
            return Err(ChainBreak { seq: link.seq, reason: "its fields do not match its hash" });
        }
        if link.device != device {
            return Err(ChainBreak { seq: link.seq, reason: "recorded by another device" });
        }
        (seq, hash) = (link.seq, link.hash);
    }
    Ok((seq, hash))
}

/// What a segment signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHead<'a> {
    /// The device whose chain it is.
    pub device: &'a str,
    /// Its first link's seq.
    pub first_seq: u64,
    /// Its last link's seq.
    pub last_seq: u64,
    /// The hash before its first link.
    pub prev_hash: [u8; 32],
    /// Its last link's hash.
    pub last_hash: [u8; 32],
}

impl SegmentHead<'_> {
    fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(SEGMENT_DOMAIN.len() + 8 + self.device.len() + 16 + 64);
        m.extend_from_slice(SEGMENT_DOMAIN);
        m.extend_from_slice(&(self.device.len() as u64).to_be_bytes());
        m.extend_from_slice(self.device.as_bytes());
        m.extend_from_slice(&self.first_seq.to_be_bytes());
        m.extend_from_slice(&self.last_seq.to_be_bytes());
        m.extend_from_slice(&self.prev_hash);
        m.extend_from_slice(&self.last_hash);
        m
    }

    /// The device's signature over it.
    pub fn sign(&self, key: &SigningKey) -> [u8; 64] {
        key.sign(&self.message()).to_bytes()
    }

    /// Checks `signature` by `key` (strict Ed25519).
    pub fn verify(&self, key: &VerifyingKey, signature: &[u8; 64]) -> Result<(), ChainBreak> {
        let sig = Signature::from_bytes(signature);
        key.verify_strict(&self.message(), &sig)
            .map_err(|_| ChainBreak { seq: self.last_seq, reason: "the segment signature does not verify" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<Link> {
        let mut out: Vec<Link> = Vec::new();
        for i in 0..n {
            let (seq, hash) = out.last().map_or((0, GENESIS), |l| (l.seq, l.hash));
            let object = format!("thread-{i}");
            let e = Event {
                at_ms: 1_000 + i as i64,
                actor: "gp-1",
                device: "dev-1",
                action: "view",
                object: &object,
            };
            out.push(Link::after(seq, hash, e));
        }
        out
    }

    #[test]
    fn a_whole_chain_verifies_and_returns_its_head() {
        let links = chain(5);
        assert_eq!(verify_links("dev-1", (0, GENESIS), &links), Ok((5, links[4].hash)));
        // And in two runs, the second starting at the first's head.
        let head = verify_links("dev-1", (0, GENESIS), &links[..2]).unwrap();
        assert_eq!(verify_links("dev-1", head, &links[2..]), Ok((5, links[4].hash)));
    }

    #[test]
    fn modify_delete_reorder_insert_and_foreign_links_are_found() {
        let links = chain(6);
        let check = |l: &[Link]| verify_links("dev-1", (0, GENESIS), l).unwrap_err();

        let mut modified = links.clone();
        modified[2].object = "thread-x".into();
        assert_eq!(check(&modified), ChainBreak { seq: 3, reason: "its fields do not match its hash" });

        let mut deleted = links.clone();
        deleted.remove(3);
        assert_eq!(check(&deleted).seq, 4);

        let mut swapped = links.clone();
        swapped.swap(1, 2);
        assert_eq!(check(&swapped).seq, 2);
        // Swapping contents but keeping the seqs in place is found too.
        let mut renumbered = swapped.clone();
        renumbered[1].seq = 2;
        renumbered[2].seq = 3;
        assert_eq!(check(&renumbered).seq, 2);

        let mut inserted = links.clone();
        let forged = Link::after(
            3,
            links[2].hash,
            Event { at_ms: 9, actor: "gp-1", device: "dev-1", action: "view", object: "t" },
        );
        inserted.insert(3, forged);
        // The forged link chains; the real seq 4 after it does not.
        assert_eq!(check(&inserted), ChainBreak { seq: 4, reason: "out of order or repeated" });

        let mut foreign = links.clone();
        foreign[0] = Link::after(
            0,
            GENESIS,
            Event { at_ms: 1, actor: "gp-1", device: "dev-2", action: "view", object: "t" },
        );
        assert_eq!(check(&foreign[..1]).reason, "recorded by another device");
    }

    #[test]
    fn links_cross_the_wire_unchanged_and_short_hashes_are_named() {
        let link = &chain(2)[1];
        let wire = AuditLinkRecord::from(link);
        assert_eq!(Link::try_from(&wire).as_ref(), Ok(link));
        let short = AuditLinkRecord { prev_hash: Base64Bytes(vec![0; 31]), ..wire.clone() };
        assert_eq!(Link::try_from(&short), Err("prev_hash"));
        let short = AuditLinkRecord { hash: Base64Bytes(vec![0; 33]), ..wire };
        assert_eq!(Link::try_from(&short), Err("hash"));
    }

    #[test]
    fn segment_signatures_bind_the_device_and_the_range() {
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let links = chain(3);
        let head = SegmentHead {
            device: "dev-1",
            first_seq: 1,
            last_seq: 3,
            prev_hash: GENESIS,
            last_hash: links[2].hash,
        };
        let sig = head.sign(&key);
        assert!(head.verify(&key.verifying_key(), &sig).is_ok());
        for other in [
            SegmentHead { device: "dev-2", ..head },
            SegmentHead { last_seq: 2, ..head },
            SegmentHead { last_hash: links[1].hash, ..head },
        ] {
            assert!(other.verify(&key.verifying_key(), &sig).is_err());
        }
        let stranger = SigningKey::from_bytes(&[4u8; 32]).verifying_key();
        assert!(head.verify(&stranger, &sig).is_err());
    }
}
