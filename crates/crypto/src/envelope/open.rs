//! Opening an envelope as one recipient.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::VerifyingKey;
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use super::decode::{parse, EnvelopeHeader};
use super::error::EnvelopeError;
use super::types::{PartKind, RecipientId};
use super::{key_aad, part_aad, CONTENT_KEY_LEN};
use crate::seal::open_sealed;

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

/// Parses and verifies `bytes`, checks the sender if `expected_sender` is
/// given, then decrypts every part sealed to `recipient` with `secret`.
pub fn open_envelope(
    bytes: &[u8],
    recipient: RecipientId,
    secret: &StaticSecret,
    expected_sender: Option<&VerifyingKey>,
) -> Result<OpenedEnvelope, EnvelopeError> {
    let parsed = parse(bytes)?;
    let h = &parsed.header;
    if expected_sender.is_some_and(|expected| *expected != h.sender) {
        return Err(EnvelopeError::UnexpectedSender);
    }
    let sender = h.sender.to_bytes();
    let mut parts = Vec::new();
    let mut withheld = Vec::new();
    for (index, part) in parsed.parts.iter().enumerate() {
        let Some((_, sealed)) = part.sealed_keys.iter().find(|(id, _)| *id == recipient) else {
            withheld.push(part.kind);
            continue;
        };
        let kaad = key_aad(&h.practice, h.thread_id, h.message_id, &sender, index, part.kind, recipient);
        let key = open_sealed(secret, sealed, &kaad).map_err(|_| EnvelopeError::DecryptFailed)?;
        if key.len() != CONTENT_KEY_LEN {
            return Err(EnvelopeError::Malformed { what: "content key length" });
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&key).map_err(|_| EnvelopeError::DecryptFailed)?;
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
