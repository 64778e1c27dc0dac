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
    key_aad, part_aad, CONTENT_KEY_LEN, FORMAT_VERSION, MAGIC, MAX_ENVELOPE, MAX_ID, MAX_PARTS,
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

/// Seals `parts` for their recipients and signs the result with `sender`.
/// Each part gets a fresh random content key and nonce from `rng` (inject a
/// seeded RNG only in tests).
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

    let sender_pub = sender.verifying_key().to_bytes();
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_VERSION);
    out.push(practice.len() as u8);
    out.extend_from_slice(practice.as_bytes());
    out.extend_from_slice(&fields.thread_id.to_be_bytes());
    out.extend_from_slice(&fields.message_id.to_be_bytes());
    out.extend_from_slice(&sender_pub);
    out.push(parts.len() as u8);
    for (index, part) in parts.iter().enumerate() {
        let mut content_key = Zeroizing::new([0u8; CONTENT_KEY_LEN]);
        rng.fill_bytes(content_key.as_mut_slice());
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        out.push(part.kind.tag());
        out.push(part.recipients.len() as u8);
        for r in part.recipients {
            let aad =
                key_aad(practice, fields.thread_id, fields.message_id, &sender_pub, index, part.kind, r.id);
            let sealed = seal_to(rng, &r.public_key, content_key.as_slice(), &aad)?;
            out.push(r.id.tag());
            out.extend_from_slice(&sealed);
        }
        let cipher =
            XChaCha20Poly1305::new_from_slice(content_key.as_slice()).map_err(|_| EnvelopeError::Encrypt)?;
        let aad = part_aad(practice, fields.thread_id, fields.message_id, &sender_pub, index, part.kind);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: part.plaintext, aad: &aad })
            .map_err(|_| EnvelopeError::Encrypt)?;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&(ct.len() as u32).to_be_bytes());
        out.extend_from_slice(&ct);
    }
    if out.len() + SIGNATURE_LEN > MAX_ENVELOPE {
        return Err(EnvelopeError::TooLarge { what: "envelope bytes", max: MAX_ENVELOPE });
    }
    let signature = sender.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}
