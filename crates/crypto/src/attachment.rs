//! Attachments (issue 23 point 12): the bytes a patient
//! attaches (a photo of a rash, a letter) are encrypted on the patient's
//! device under a fresh key of their own and stored at the hub as an opaque
//! blob; the key travels only inside the sealed envelope's attachment part
//! (so only the pools that may read attachments can open it), and a
//! workstation decrypts into memory, never to disk.
//!
//! Blob layout: `version (1) | nonce (24) | ciphertext+tag`. The associated
//! data binds the blob to its practice, thread and attachment id, so a blob
//! swapped for another at the hub (another patient's photo) fails to open
//! rather than showing the wrong image.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::secret::SecretKey;

/// The current blob format.
pub const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"sealbox/attachment";
/// The largest attachment accepted (10 MiB of plaintext).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The largest blob: format byte, nonce and tag around the largest attachment.
pub const MAX_BLOB_BYTES: usize = 1 + NONCE_LEN + MAX_ATTACHMENT_BYTES + TAG_LEN;
/// The smallest blob (an empty attachment).
pub const MIN_BLOB_BYTES: usize = 1 + NONCE_LEN + TAG_LEN;

/// Where a blob belongs. Identifiers only, no patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPlace<'a> {
    /// The practice.
    pub practice: &'a str,
    /// The thread it was sent on.
    pub thread: u64,
    /// Its id at the hub.
    pub id: &'a str,
}

impl AttachmentPlace<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let mut ad = Vec::with_capacity(DOMAIN.len() + 1 + 8 + 16 + self.practice.len() + self.id.len());
        ad.extend_from_slice(DOMAIN);
        ad.push(FORMAT_VERSION);
        ad.extend_from_slice(&(self.practice.len() as u64).to_be_bytes());
        ad.extend_from_slice(self.practice.as_bytes());
        ad.extend_from_slice(&self.thread.to_be_bytes());
        ad.extend_from_slice(&(self.id.len() as u64).to_be_bytes());
        ad.extend_from_slice(self.id.as_bytes());
        ad
    }
}

/// Why an attachment could not be sealed or opened. No content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachmentError {
    /// Larger than [`MAX_ATTACHMENT_BYTES`].
    #[error("the attachment is larger than {MAX_ATTACHMENT_BYTES} bytes")]
    TooLarge,
    /// Too short to be a blob, or of a format this build does not read.
    #[error("the attachment blob is malformed")]
    Malformed,
    /// The key is wrong, or the blob belongs elsewhere, or it was altered.
    #[error("the attachment did not authenticate (wrong key, another thread's, or altered)")]
    Rejected,
    /// The cipher refused to encrypt (not expected in practice).
    #[error("the attachment could not be encrypted")]
    Encrypt,
}

/// A patient's file sealed for a message on `thread` of `practice` (the
/// browser app and the simulator): a fresh id, the blob to put at the hub
/// (`PUT /v1/patient/threads/{thread}/attachments/{id}`), and the
/// reference, key included, that the message's sealed part carries.
pub fn seal_for_message(
    bytes: &[u8],
    media_type: &str,
    practice: &str,
    thread: u64,
) -> Result<(sealbox_model::message::AttachmentRef, Vec<u8>), AttachmentError> {
    let random: String = crate::secret::random_bytes::<12>().iter().map(|b| format!("{b:02x}")).collect();
    let id = sealbox_model::ids::AttachmentId(format!("att-{random}"));
    let (key, blob) = seal_attachment(bytes, &AttachmentPlace { practice, thread, id: &id.0 })?;
    let reference = sealbox_model::message::AttachmentRef {
        id,
        media_type: media_type.to_owned(),
        size_bytes: bytes.len() as u64,
        key: sealbox_model::hub_api::Base64Bytes(key.expose().to_vec()),
    };
    Ok((reference, blob))
}

/// Encrypts `bytes` under a fresh key for `place`: (the key, the blob).
pub fn seal_attachment(
    bytes: &[u8],
    place: &AttachmentPlace<'_>,
) -> Result<(SecretKey, Vec<u8>), AttachmentError> {
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(AttachmentError::TooLarge);
    }
    let key = SecretKey::generate();
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ad = place.associated_data();
    let ct =
        cipher.encrypt(&nonce, Payload { msg: bytes, aad: &ad }).map_err(|_| AttachmentError::Encrypt)?;
    let mut blob = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    blob.push(FORMAT_VERSION);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&ct);
    Ok((key, blob))
}

/// Decrypts `blob` with `key` for `place`, into memory that is wiped when
/// dropped.
pub fn open_attachment(
    key: &SecretKey,
    blob: &[u8],
    place: &AttachmentPlace<'_>,
) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
    if blob.len() < MIN_BLOB_BYTES || blob[0] != FORMAT_VERSION {
        return Err(AttachmentError::Malformed);
    }
    if blob.len() > MAX_BLOB_BYTES {
        return Err(AttachmentError::TooLarge);
    }
    let (nonce, ct) = blob[1..].split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let ad = place.associated_data();
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &ad })
        .map(Zeroizing::new)
        .map_err(|_| AttachmentError::Rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(thread: u64) -> AttachmentPlace<'static> {
        AttachmentPlace { practice: "P81001", thread, id: "att-1" }
    }

    #[test]
    fn an_attachment_opens_with_its_key_in_its_place_only() {
        let photo = b"\xff\xd8\xff\xe0 a jpeg's first bytes".to_vec();
        let (key, blob) = seal_attachment(&photo, &place(7)).unwrap();
        assert_eq!(open_attachment(&key, &blob, &place(7)).unwrap().as_slice(), photo.as_slice());
        // Another thread's place, another key, or one flipped bit: refused.
        assert_eq!(open_attachment(&key, &blob, &place(8)).unwrap_err(), AttachmentError::Rejected);
        assert_eq!(
            open_attachment(&SecretKey::generate(), &blob, &place(7)).unwrap_err(),
            AttachmentError::Rejected
        );
        let mut altered = blob.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(open_attachment(&key, &altered, &place(7)).unwrap_err(), AttachmentError::Rejected);
        assert_eq!(open_attachment(&key, &blob[..20], &place(7)).unwrap_err(), AttachmentError::Malformed);
        assert!(!blob.windows(10).any(|w| w == &photo[..10]), "the blob holds no plaintext");
    }

    #[test]
    fn an_attachment_over_the_limit_is_refused_before_encrypting() {
        let big = vec![0u8; MAX_ATTACHMENT_BYTES + 1];
        assert_eq!(seal_attachment(&big, &place(1)).unwrap_err(), AttachmentError::TooLarge);
    }
}
