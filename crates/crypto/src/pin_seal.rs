//! Bytes sealed under a PIN: the key is Argon2id(PIN, a random salt), the
//! cipher XChaCha20-Poly1305. For the demo's software key, whose state must
//! not lie in the keyring in clear: the PIN is never stored, and a wrong
//! PIN fails to open (it is checked by the tag, not by a comparison).
//!
//! A PIN is short, so the seal is only as strong as Argon2id makes guessing
//! it offline: this is why the demo key is a weaker mode than a hardware
//! key, whose PIN the key itself counts down.
//!
//! Blob layout: `version (1) | m_kib (4) | t (4) | p (1) | salt (16) |
//! nonce (24) | ciphertext+tag`, the header bound as associated data with
//! the caller's `context`.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::secret::random_bytes;

/// The current blob format.
pub const FORMAT_VERSION: u8 = 1;
/// Argon2id memory, in KiB (19 MiB: OWASP's minimum for Argon2id).
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const PASSES: u32 = 2;
const LANES: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + 4 + 1 + SALT_LEN;
const TAG_LEN: usize = 16;
/// The most memory a blob may ask for (so a tampered header cannot make
/// opening it allocate gigabytes): 256 MiB.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_PASSES: u32 = 16;
const DOMAIN: &[u8] = b"sealbox/pin-seal";

/// Why a blob could not be sealed or opened. Carries no secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinSealError {
    /// Too short, an unknown version, or cost parameters out of bounds.
    #[error("the sealed blob is malformed")]
    Malformed,
    /// The PIN (or the context) is not the one it was sealed with, or the
    /// blob was altered.
    #[error("the PIN did not open the sealed blob")]
    WrongPin,
    /// Key derivation or encryption failed.
    #[error("sealing failed")]
    Failed,
}

/// Seals `plaintext` under `pin`, bound to `context`.
pub fn seal(pin: &[u8], plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, PinSealError> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.push(FORMAT_VERSION);
    header.extend_from_slice(&MEMORY_KIB.to_be_bytes());
    header.extend_from_slice(&PASSES.to_be_bytes());
    header.push(LANES);
    header.extend_from_slice(&random_bytes::<SALT_LEN>());
    let key = derive(pin, &header)?;
    let cipher = XChaCha20Poly1305::new(key.as_slice().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let aad = associated_data(&header, context);
    let ct =
        cipher.encrypt(&nonce, Payload { msg: plaintext, aad: &aad }).map_err(|_| PinSealError::Failed)?;
    let mut out = header;
    out.extend_from_slice(nonce.as_slice());
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a blob [`seal`] made, with `pin` and the same `context`.
pub fn open(pin: &[u8], blob: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, PinSealError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || blob.first() != Some(&FORMAT_VERSION) {
        return Err(PinSealError::Malformed);
    }
    let (header, rest) = blob.split_at(HEADER_LEN);
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let key = derive(pin, header)?;
    let cipher = XChaCha20Poly1305::new(key.as_slice().into());
    let aad = associated_data(header, context);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
        .map(Zeroizing::new)
        .map_err(|_| PinSealError::WrongPin)
}

/// Argon2id with the header's parameters and salt.
fn derive(pin: &[u8], header: &[u8]) -> Result<Zeroizing<[u8; 32]>, PinSealError> {
    let word = |at: usize| -> Result<u32, PinSealError> {
        let bytes = header.get(at..at + 4).ok_or(PinSealError::Malformed)?;
        Ok(u32::from_be_bytes(bytes.try_into().map_err(|_| PinSealError::Malformed)?))
    };
    let (m_kib, t) = (word(1)?, word(5)?);
    let p = *header.get(9).ok_or(PinSealError::Malformed)?;
    let salt = header.get(10..HEADER_LEN).ok_or(PinSealError::Malformed)?;
    if m_kib > MAX_MEMORY_KIB || t > MAX_PASSES || p != LANES {
        return Err(PinSealError::Malformed);
    }
    let params = Params::new(m_kib, t, u32::from(p), Some(32)).map_err(|_| PinSealError::Malformed)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pin, salt, key.as_mut_slice())
        .map_err(|_| PinSealError::Failed)?;
    Ok(key)
}

fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(DOMAIN.len() + header.len() + 8 + context.len());
    ad.extend_from_slice(DOMAIN);
    ad.extend_from_slice(header);
    ad.extend_from_slice(&(context.len() as u64).to_be_bytes());
    ad.extend_from_slice(context);
    ad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_pin_opens_and_nothing_else_does() {
        let blob = seal(b"4821", b"credentials", b"user-1").unwrap();
        assert_eq!(open(b"4821", &blob, b"user-1").unwrap().as_slice(), b"credentials");
        assert_eq!(open(b"4822", &blob, b"user-1"), Err(PinSealError::WrongPin));
        assert_eq!(open(b"4821", &blob, b"user-2"), Err(PinSealError::WrongPin), "bound to its context");
        // The PIN is nowhere in the blob, nor the plaintext.
        assert!(!blob.windows(4).any(|w| w == b"4821"));
        assert!(!blob.windows(11).any(|w| w == b"credentials"));
        // Two seals of the same bytes differ (salt and nonce are fresh).
        assert_ne!(seal(b"4821", b"credentials", b"user-1").unwrap(), blob);
    }

    #[test]
    fn a_tampered_or_truncated_blob_is_refused_without_costly_work() {
        let blob = seal(b"4821", b"credentials", b"user-1").unwrap();
        // One byte of each part: version, memory, passes, lanes, salt,
        // nonce, ciphertext, tag.
        for i in [0, 1, 5, 9, 10, HEADER_LEN, HEADER_LEN + NONCE_LEN, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(open(b"4821", &bad, b"user-1").is_err(), "byte {i} flipped still opened");
        }
        assert_eq!(open(b"4821", &blob[..HEADER_LEN + NONCE_LEN], b"user-1"), Err(PinSealError::Malformed));
        // A header asking for 4 GiB of memory is refused before deriving.
        let mut greedy = blob.clone();
        greedy[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(open(b"4821", &greedy, b"user-1"), Err(PinSealError::Malformed));
    }
}
