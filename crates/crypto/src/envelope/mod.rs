//! Sealed envelopes: the end-to-end encrypted, signed unit that carries one
//! message (patient → practice, or a reply practice → patient) through the hub.
//!
//! Each part (free text, medication request, attachment reference) has its
//! own random 32-byte content key, so each part can be sealed to a different
//! set of recipients: access is enforced by keys (a pharmacy device cannot
//! open the free text). The part is encrypted with XChaCha20-Poly1305; its
//! content key is sealed ([`crate::seal`]) to every recipient's X25519 public
//! key. Associated data binds the format version, practice, thread id, message
//! id, sender key, part index and part kind. The sender signs every byte
//! before the signature with Ed25519 (key carried in the header), so the hub
//! can check an envelope's shape and signature without any secret key
//! ([`EnvelopeHeader::parse`]).
//!
//! Byte layout (version 1, integers big-endian):
//!
//! ```text
//! magic "SBXE" (4) | version (1) | practice_len (1) | practice (UTF-8, 1..=64)
//! | thread_id (8) | message_id (8) | sender Ed25519 public key (32)
//! | part_count (1, 1..=8)
//! | part_count × [ kind (1) | recipient_count (1, 1..=8)
//!                | recipient_count × [ recipient tag (1) | sealed content key (81) ]
//!                | nonce (24) | ciphertext_len (4) | ciphertext + tag ]
//! | Ed25519 signature over everything before it (64)
//! ```

mod decode;
mod encode;
mod error;
mod open;
mod types;

pub use decode::{EnvelopeHeader, PartHeader};
pub use encode::{seal_envelope, EnvelopeFields, PartInput, Recipient};
pub use error::EnvelopeError;
pub use open::{open_envelope, open_envelope_as, OpenedEnvelope, OpenedPart, RecipientKey};
pub use types::{PartKind, RecipientId};

/// Leading bytes of every envelope.
pub const MAGIC: [u8; 4] = *b"SBXE";
/// The envelope format this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Most parts in one envelope.
pub const MAX_PARTS: usize = 8;
/// Most recipients of one part.
pub const MAX_RECIPIENTS: usize = 8;
/// Largest plaintext of one part (64 KiB).
pub const MAX_PART_PLAINTEXT: usize = 64 * 1024;
/// Largest encoded envelope (600 KiB).
pub const MAX_ENVELOPE: usize = 600 * 1024;
/// Longest practice id, in bytes.
pub const MAX_PRACTICE_LEN: usize = 64;
/// Thread and message ids are in `1..=MAX_ID` (they fit SQLite INTEGER).
pub const MAX_ID: u64 = (1 << 63) - 1;
/// Length of a content key sealed to one recipient.
pub const SEALED_KEY_LEN: usize = crate::seal::SEAL_OVERHEAD + CONTENT_KEY_LEN;

const CONTENT_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const SIGNATURE_LEN: usize = 64;

/// The bytes every part's and every sealed key's associated data starts with:
/// domain, version, practice (length-prefixed), thread, message, sender key,
/// part index and kind.
fn context_aad(
    domain: &[u8],
    practice: &str,
    thread_id: u64,
    message_id: u64,
    sender: &[u8; 32],
    index: usize,
    kind: PartKind,
) -> Vec<u8> {
    let mut ad = Vec::with_capacity(domain.len() + 1 + 1 + practice.len() + 16 + 32 + 2);
    ad.extend_from_slice(domain);
    ad.push(FORMAT_VERSION);
    ad.push(practice.len() as u8);
    ad.extend_from_slice(practice.as_bytes());
    ad.extend_from_slice(&thread_id.to_be_bytes());
    ad.extend_from_slice(&message_id.to_be_bytes());
    ad.extend_from_slice(sender);
    ad.push(index as u8);
    ad.push(kind.tag());
    ad
}

const PART_DOMAIN: &[u8] = b"sealbox/envelope/part";
const KEY_DOMAIN: &[u8] = b"sealbox/envelope/content-key";

/// Associated data of a part's ciphertext.
fn part_aad(
    practice: &str,
    thread_id: u64,
    message_id: u64,
    sender: &[u8; 32],
    index: usize,
    kind: PartKind,
) -> Vec<u8> {
    context_aad(PART_DOMAIN, practice, thread_id, message_id, sender, index, kind)
}

/// Associated data of a content key sealed to `recipient`.
#[allow(clippy::too_many_arguments)]
fn key_aad(
    practice: &str,
    thread_id: u64,
    message_id: u64,
    sender: &[u8; 32],
    index: usize,
    kind: PartKind,
    recipient: RecipientId,
) -> Vec<u8> {
    let mut ad = context_aad(KEY_DOMAIN, practice, thread_id, message_id, sender, index, kind);
    ad.push(recipient.tag());
    ad
}
