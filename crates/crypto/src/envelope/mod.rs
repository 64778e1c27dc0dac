//! Sealed envelopes: the end-to-end encrypted, signed unit that carries one
//! message (patient → practice, or a reply practice → patient) through the hub.
//!
//! Each part (free text, medication request, attachment reference, patient
//! details) has its own random 32-byte content key, so each part can be
//! readable by a different set of recipients: access is enforced by keys (a
//! pharmacy device cannot open the free text). The part is encrypted with
//! XChaCha20-Poly1305. Each recipient has one slot: the content keys of the
//! parts it may read, concatenated and sealed ([`crate::seal`]) to its X25519
//! public key in one go, so opening costs one key agreement per recipient a
//! device holds, however many parts it reads. Associated data binds the format
//! version, practice, thread id, message id and sender key, plus the part
//! index and kind (parts) or the recipient tag and part mask (slots). The
//! sender signs every byte before the signature with Ed25519 (key carried in
//! the header), so the hub can check an envelope's shape and signature without
//! any secret key ([`EnvelopeHeader::parse`]).
//!
//! Byte layout (version 2, integers big-endian):
//!
//! ```text
//! magic "SBXE" (4) | version (1) | practice_len (1) | practice (UTF-8, 1..=64)
//! | thread_id (8) | message_id (8) | sender Ed25519 public key (32)
//! | part_count (1, 1..=8) | recipient_count (1, 1..=8)
//! | recipient_count × [ recipient tag (1) | part mask (1, bit i = part i)
//!                     | sealed content keys (49 + 32 × parts in the mask) ]
//! | part_count × [ kind (1) | nonce (24) | ciphertext_len (4) | ciphertext + tag ]
//! | Ed25519 signature over everything before it (64)
//! ```
//!
//! Version 1 (one sealed key per part per recipient) is no longer read: it
//! cost a key agreement per part, and no envelope of it outlives a sync.

mod decode;
mod encode;
mod error;
mod open;
mod types;

pub use decode::{EnvelopeHeader, PartHeader};
pub use encode::{seal_envelope, EnvelopeFields, PartInput, Recipient};
pub use error::EnvelopeError;
pub use open::{
    open_envelope, open_envelope_as, open_envelopes_as, OpenedEnvelope, OpenedPart, RecipientKey,
};
pub use types::{PartKind, RecipientId};

/// Leading bytes of every envelope.
pub const MAGIC: [u8; 4] = *b"SBXE";
/// The envelope format this build writes and reads.
pub const FORMAT_VERSION: u8 = 2;
/// Most parts in one envelope.
pub const MAX_PARTS: usize = 8;
/// Most recipients of one envelope (and so of one part).
pub const MAX_RECIPIENTS: usize = 8;
/// Largest plaintext of one part (64 KiB).
pub const MAX_PART_PLAINTEXT: usize = 64 * 1024;
/// Largest encoded envelope (600 KiB).
pub const MAX_ENVELOPE: usize = 600 * 1024;
/// Longest practice id, in bytes.
pub const MAX_PRACTICE_LEN: usize = 64;
/// Thread and message ids are in `1..=MAX_ID` (they fit SQLite INTEGER).
pub const MAX_ID: u64 = (1 << 63) - 1;

/// Length of a recipient slot's sealed content keys when it reads `parts` parts.
pub const fn sealed_keys_len(parts: usize) -> usize {
    crate::seal::SEAL_OVERHEAD + parts * CONTENT_KEY_LEN
}

const CONTENT_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const SIGNATURE_LEN: usize = 64;

/// The bytes every part's and every slot's associated data starts with:
/// domain, version, practice (length-prefixed), thread, message, sender key.
fn context_aad(domain: &[u8], practice: &str, thread_id: u64, message_id: u64, sender: &[u8; 32]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(domain.len() + 1 + 1 + practice.len() + 16 + 32 + 2);
    ad.extend_from_slice(domain);
    ad.push(FORMAT_VERSION);
    ad.push(practice.len() as u8);
    ad.extend_from_slice(practice.as_bytes());
    ad.extend_from_slice(&thread_id.to_be_bytes());
    ad.extend_from_slice(&message_id.to_be_bytes());
    ad.extend_from_slice(sender);
    ad
}

const PART_DOMAIN: &[u8] = b"sealbox/envelope/part";
const KEY_DOMAIN: &[u8] = b"sealbox/envelope/content-keys";

/// Associated data of a part's ciphertext: the context, part index and kind.
fn part_aad(
    practice: &str,
    thread_id: u64,
    message_id: u64,
    sender: &[u8; 32],
    index: usize,
    kind: PartKind,
) -> Vec<u8> {
    let mut ad = context_aad(PART_DOMAIN, practice, thread_id, message_id, sender);
    ad.push(index as u8);
    ad.push(kind.tag());
    ad
}

/// Associated data of a recipient slot's sealed content keys: the context,
/// the recipient and which parts the keys are for.
fn key_aad(
    practice: &str,
    thread_id: u64,
    message_id: u64,
    sender: &[u8; 32],
    recipient: RecipientId,
    mask: u8,
) -> Vec<u8> {
    let mut ad = context_aad(KEY_DOMAIN, practice, thread_id, message_id, sender);
    ad.push(recipient.tag());
    ad.push(mask);
    ad
}

/// The part indexes a slot's mask names, ascending.
fn mask_parts(mask: u8) -> impl Iterator<Item = usize> {
    (0..MAX_PARTS).filter(move |i| mask & (1 << i) != 0)
}
