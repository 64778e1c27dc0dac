//! Opening an envelope as one recipient, or as every recipient a device
//! holds a key for.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{verify_batch, Signature, VerifyingKey};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::decode::{parse, parse_unverified, EnvelopeHeader, Parsed};
use super::error::EnvelopeError;
use super::types::{PartKind, RecipientId};
use super::{key_aad, mask_parts, part_aad, CONTENT_KEY_LEN};
use crate::seal::open_sealed_as;

/// One decrypted part. `Debug` prints the kind and length only.
pub struct OpenedPart {
    /// What it holds.
    pub kind: PartKind,
    /// The plaintext; zeroized on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for OpenedPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedPart")
            .field("kind", &self.kind)
            .field("plaintext", &format_args!("<{} bytes redacted>", self.plaintext.len()))
            .finish()
    }
}

/// An envelope opened by one recipient.
#[derive(Debug)]
pub struct OpenedEnvelope {
    /// The verified header.
    pub header: EnvelopeHeader,
    /// The parts sealed to this recipient, in envelope order.
    pub parts: Vec<OpenedPart>,
    /// Kinds of the parts not sealed to this recipient (not an error).
    pub withheld: Vec<PartKind>,
}

/// A recipient's key pair, as a device holds it to open many envelopes.
/// `Debug` shows the recipient only.
pub struct RecipientKey {
    /// Who it opens for.
    pub id: RecipientId,
    secret: StaticSecret,
    public: PublicKey,
}

impl std::fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl RecipientKey {
    /// The key pair of `id` (derives the public half once).
    pub fn new(id: RecipientId, secret: StaticSecret) -> Self {
        let public = PublicKey::from(&secret);
        RecipientKey { id, secret, public }
    }
}

/// Parses and verifies `bytes`, checks the sender if `expected_sender` is
/// given, then decrypts every part sealed to `recipient` with `secret`.
pub fn open_envelope(
    bytes: &[u8],
    recipient: RecipientId,
    secret: &StaticSecret,
    expected_sender: Option<&VerifyingKey>,
) -> Result<OpenedEnvelope, EnvelopeError> {
    open_envelope_as(bytes, &[RecipientKey::new(recipient, secret.clone())], expected_sender)
}

/// Parses and verifies `bytes` once, checks the sender if `expected_sender`
/// is given, then decrypts every part readable by any of `keys` (the first
/// key, in order, whose slot holds a part's content key opens it; a slot
/// that adds no part is not opened). `withheld` lists the parts none of them
/// may read; `NotARecipient` if that is all of them.
pub fn open_envelope_as(
    bytes: &[u8],
    keys: &[RecipientKey],
    expected_sender: Option<&VerifyingKey>,
) -> Result<OpenedEnvelope, EnvelopeError> {
    open_parsed(parse(bytes)?, keys, expected_sender)
}

/// [`open_envelope_as`] for many envelopes (a sync page), with the same
/// result for each, in order. The signatures are checked together with one
/// Ed25519 batch verification, about half the cost of checking each; if the
/// batch fails, each is checked on its own (`verify_strict`), so a bad
/// envelope fails alone. Senders with a weak (small-order) key never enter
/// the batch, so `verify_strict` refuses them as it would alone.
pub fn open_envelopes_as(
    envelopes: &[&[u8]],
    keys: &[RecipientKey],
    expected_sender: Option<&VerifyingKey>,
) -> Vec<Result<OpenedEnvelope, EnvelopeError>> {
    let parsed: Vec<Result<Parsed<'_>, EnvelopeError>> =
        envelopes.iter().map(|b| parse_unverified(b)).collect();
    let batched: Vec<&Parsed<'_>> =
        parsed.iter().filter_map(|p| p.as_ref().ok()).filter(|p| !p.header.sender.is_weak()).collect();
    let batch_verified = batched.len() > 1 && {
        let messages: Vec<&[u8]> = batched.iter().map(|p| p.signed).collect();
        let signatures: Vec<Signature> = batched.iter().map(|p| p.signature).collect();
        let senders: Vec<VerifyingKey> = batched.iter().map(|p| p.header.sender).collect();
        verify_batch(&messages, &signatures, &senders).is_ok()
    };
    parsed
        .into_iter()
        .map(|p| {
            let p = p?;
            if !batch_verified || p.header.sender.is_weak() {
                p.verify()?;
            }
            open_parsed(p, keys, expected_sender)
        })
        .collect()
}

/// Checks the sender, then decrypts every part readable by any of `keys`.
fn open_parsed(
    parsed: Parsed<'_>,
    keys: &[RecipientKey],
    expected_sender: Option<&VerifyingKey>,
) -> Result<OpenedEnvelope, EnvelopeError> {
    let h = &parsed.header;
    if expected_sender.is_some_and(|expected| *expected != h.sender) {
        return Err(EnvelopeError::UnexpectedSender);
    }
    let sender = h.sender.to_bytes();
    // Each part's content key, from the first of `keys` whose slot holds it.
    // A slot is opened (one key agreement) only if it adds a part; with
    // several keys for one recipient (versions), the first that opens it.
    let mut content: Vec<Option<Zeroizing<[u8; CONTENT_KEY_LEN]>>> = vec![None; parsed.parts.len()];
    for (at, key) in keys.iter().enumerate() {
        let Some(slot) = parsed.slots.iter().find(|s| s.id == key.id) else { continue };
        if mask_parts(slot.mask).all(|i| content.get(i).is_some_and(Option::is_some)) {
            continue;
        }
        let kaad = key_aad(&h.practice, h.thread_id, h.message_id, &sender, slot.id, slot.mask);
        let readable = match open_sealed_as(&key.secret, &key.public, slot.sealed, &kaad) {
            Ok(readable) => readable,
            // Several versions of one recipient's key (a rotated pool key):
            // the slot was sealed to one of them, so try the others.
            Err(_) if keys.iter().skip(at + 1).any(|k| k.id == key.id) => continue,
            Err(_) => return Err(EnvelopeError::DecryptFailed),
        };
        let indexes: Vec<usize> = mask_parts(slot.mask).collect();
        if readable.len() != indexes.len() * CONTENT_KEY_LEN {
            return Err(EnvelopeError::Malformed { what: "content key length" });
        }
        for (index, bytes) in indexes.into_iter().zip(readable.chunks_exact(CONTENT_KEY_LEN)) {
            if let Some(place @ None) = content.get_mut(index) {
                let mut k = Zeroizing::new([0u8; CONTENT_KEY_LEN]);
                k.copy_from_slice(bytes);
                *place = Some(k);
            }
        }
    }
    let mut parts = Vec::new();
    let mut withheld = Vec::new();
    for ((index, part), key) in parsed.parts.iter().enumerate().zip(&content) {
        let Some(key) = key else {
            withheld.push(part.kind);
            continue;
        };
        let cipher =
            XChaCha20Poly1305::new_from_slice(key.as_slice()).map_err(|_| EnvelopeError::DecryptFailed)?;
        let paad = part_aad(&h.practice, h.thread_id, h.message_id, &sender, index, part.kind);
        let plaintext = cipher
            .decrypt(XNonce::from_slice(part.nonce), Payload { msg: part.ciphertext, aad: &paad })
            .map(Zeroizing::new)
            .map_err(|_| EnvelopeError::DecryptFailed)?;
        parts.push(OpenedPart { kind: part.kind, plaintext });
    }
    if parts.is_empty() {
        return Err(EnvelopeError::NotARecipient);
    }
    Ok(OpenedEnvelope { header: parsed.header, parts, withheld })
}
