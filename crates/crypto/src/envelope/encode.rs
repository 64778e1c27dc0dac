//! Building and signing an envelope.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey};
use rand_core::CryptoRngCore;
use x25519_dalek::PublicKey;
use zeroize::Zeroizing;

use super::error::EnvelopeError;
use super::types::{PartKind, RecipientId};
use super::{
    key_aad, mask_parts, part_aad, CONTENT_KEY_LEN, FORMAT_VERSION, MAGIC, MAX_ENVELOPE, MAX_ID, MAX_PARTS,
    MAX_PART_PLAINTEXT, MAX_PRACTICE_LEN, MAX_RECIPIENTS, NONCE_LEN, SIGNATURE_LEN,
};
use crate::seal::seal_to;

/// The header fields the sender chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeFields<'a> {
    /// The practice id (1..=64 bytes of UTF-8).
    pub practice: &'a str,
    /// Thread id, in `1..=MAX_ID`.
    pub thread_id: u64,
    /// Message id, in `1..=MAX_ID`.
    pub message_id: u64,
}

/// One recipient of a part: who, and the X25519 public key to seal to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    /// Pool or patient.
    pub id: RecipientId,
    /// That recipient's X25519 public key.
    pub public_key: PublicKey,
}

/// One part to seal.
#[derive(Clone, Copy)]
pub struct PartInput<'a> {
    /// What it holds.
    pub kind: PartKind,
    /// The plaintext (at most [`MAX_PART_PLAINTEXT`] bytes).
    pub plaintext: &'a [u8],
    /// Who may read it (1..=8, no duplicates).
    pub recipients: &'a [Recipient],
}

impl std::fmt::Debug for PartInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartInput")
            .field("kind", &self.kind)
            .field("plaintext", &format_args!("<{} bytes redacted>", self.plaintext.len()))
            .field("recipients", &self.recipients)
            .finish()
    }
}

fn check_id(id: u64, what: &'static str) -> Result<(), EnvelopeError> {
    if id == 0 || id > MAX_ID {
        return Err(EnvelopeError::Malformed { what });
    }
    Ok(())
}

fn check_part(part: &PartInput<'_>) -> Result<(), EnvelopeError> {
    if part.plaintext.len() > MAX_PART_PLAINTEXT {
        return Err(EnvelopeError::TooLarge { what: "part plaintext bytes", max: MAX_PART_PLAINTEXT });
    }
    if part.recipients.is_empty() {
        return Err(EnvelopeError::Malformed { what: "part without recipients" });
    }
    if part.recipients.len() > MAX_RECIPIENTS {
        return Err(EnvelopeError::TooLarge { what: "recipients of a part", max: MAX_RECIPIENTS });
    }
    for (i, r) in part.recipients.iter().enumerate() {
        if part.recipients[..i].iter().any(|earlier| earlier.id == r.id) {
            return Err(EnvelopeError::Malformed { what: "duplicate recipient" });
        }
    }
    Ok(())
}

/// Every recipient of the envelope, in order of first appearance, with the
/// mask of the parts it may read. A recipient named with two different keys
/// is refused.
fn slots(parts: &[PartInput<'_>]) -> Result<Vec<(Recipient, u8)>, EnvelopeError> {
    let mut slots: Vec<(Recipient, u8)> = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        for r in part.recipients {
            match slots.iter_mut().find(|(seen, _)| seen.id == r.id) {
                Some((seen, _)) if seen.public_key != r.public_key => {
                    return Err(EnvelopeError::Malformed { what: "recipient with two keys" })
                }
                Some((_, mask)) => *mask |= 1 << index,
                None => slots.push((*r, 1 << index)),
            }
        }
    }
    if slots.len() > MAX_RECIPIENTS {
        return Err(EnvelopeError::TooLarge { what: "recipients", max: MAX_RECIPIENTS });
    }
    Ok(slots)
}

/// Seals `parts` for their recipients and signs the result with `sender`.
/// Each part gets a fresh random content key and nonce from `rng`, and each
/// recipient a fresh ephemeral key (inject a seeded RNG only in tests).
pub fn seal_envelope<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    sender: &SigningKey,
    fields: &EnvelopeFields<'_>,
    parts: &[PartInput<'_>],
) -> Result<Vec<u8>, EnvelopeError> {
    let practice = fields.practice;
    if practice.is_empty() {
        return Err(EnvelopeError::Malformed { what: "empty practice id" });
    }
    if practice.len() > MAX_PRACTICE_LEN {
        return Err(EnvelopeError::TooLarge { what: "practice id bytes", max: MAX_PRACTICE_LEN });
    }
    check_id(fields.thread_id, "thread id out of range")?;
    check_id(fields.message_id, "message id out of range")?;
    if parts.is_empty() {
        return Err(EnvelopeError::Malformed { what: "no parts" });
    }
    if parts.len() > MAX_PARTS {
        return Err(EnvelopeError::TooLarge { what: "part count", max: MAX_PARTS });
    }
    parts.iter().try_for_each(check_part)?;
    let slots = slots(parts)?;

    let (thread_id, message_id) = (fields.thread_id, fields.message_id);
    let sender_pub = sender.verifying_key().to_bytes();
    let mut keys: Vec<Zeroizing<[u8; CONTENT_KEY_LEN]>> = Vec::with_capacity(parts.len());
    let mut sealed_parts = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        let mut content_key = Zeroizing::new([0u8; CONTENT_KEY_LEN]);
        rng.fill_bytes(content_key.as_mut_slice());
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let cipher =
            XChaCha20Poly1305::new_from_slice(content_key.as_slice()).map_err(|_| EnvelopeError::Encrypt)?;
        let aad = part_aad(practice, thread_id, message_id, &sender_pub, index, part.kind);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: part.plaintext, aad: &aad })
            .map_err(|_| EnvelopeError::Encrypt)?;
        keys.push(content_key);
        sealed_parts.push((part.kind, nonce, ct));
    }

    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_VERSION);
    out.push(practice.len() as u8);
    out.extend_from_slice(practice.as_bytes());
    out.extend_from_slice(&thread_id.to_be_bytes());
    out.extend_from_slice(&message_id.to_be_bytes());
    out.extend_from_slice(&sender_pub);
    out.push(parts.len() as u8);
    out.push(slots.len() as u8);
    for (recipient, mask) in &slots {
        let mut readable = Zeroizing::new(Vec::with_capacity(CONTENT_KEY_LEN * MAX_PARTS));
        for index in mask_parts(*mask) {
            readable.extend_from_slice(keys[index].as_slice());
        }
        let aad = key_aad(practice, thread_id, message_id, &sender_pub, recipient.id, *mask);
        let sealed = seal_to(rng, &recipient.public_key, &readable, &aad)?;
        out.push(recipient.id.tag());
        out.push(*mask);
        out.extend_from_slice(&sealed);
    }
    for (kind, nonce, ct) in &sealed_parts {
        out.push(kind.tag());
        out.extend_from_slice(nonce);
        out.extend_from_slice(&(ct.len() as u32).to_be_bytes());
        out.extend_from_slice(ct);
    }
    if out.len() + SIGNATURE_LEN > MAX_ENVELOPE {
        return Err(EnvelopeError::TooLarge { what: "envelope bytes", max: MAX_ENVELOPE });
    }
    let signature = sender.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}
