//! Sealing to a public key: anyone holding a recipient's X25519 public key can
//! seal bytes that only the holder of the matching secret can open.
//!
//! Used for envelope content keys (sealed to each recipient pool or to the
//! patient), for pool private keys sealed to an approved device, and for
//! replies sealed to a patient.
//!
//! Construction: a fresh ephemeral X25519 key pair per seal; the shared secret
//! goes through HKDF-SHA256 (info = domain string, ephemeral public key,
//! recipient public key) to give a 32-byte XChaCha20-Poly1305 key and a 24-byte
//! nonce. The key is never reused (the ephemeral key is fresh), so deriving the
//! nonce is safe and keeps the blob short. Caller-supplied associated data is
//! authenticated, not stored.
//!
//! Blob layout: `version (1) | ephemeral public key (32) | ciphertext + tag`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use x25519_dalek::{EphemeralSecret, PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// The current sealed-blob format.
pub const SEAL_VERSION: u8 = 1;
/// Bytes a sealed blob adds to its plaintext: version, ephemeral key, tag.
pub const SEAL_OVERHEAD: usize = 1 + 32 + 16;
const DOMAIN: &[u8] = b"sealbox/seal/v1";

/// Why a blob could not be sealed or opened. Never carries plaintext or keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Shorter than the smallest possible sealed blob.
    #[error("sealed blob is truncated ({0} bytes)")]
    Truncated(usize),
    /// A format version this build does not read.
    #[error("sealed blob format version {0} is not supported")]
    UnknownVersion(u8),
    /// The key agreement produced the all-zero secret (a low-order public key).
    #[error("the public key is not usable for sealing (low-order point)")]
    WeakKey,
    /// Authentication failed: wrong secret key, wrong associated data, or the
    /// blob was altered.
    #[error("sealed blob did not authenticate (wrong key, wrong context or tampered)")]
    DecryptFailed,
    /// The cipher refused to encrypt (input too large; not expected).
    #[error("sealing failed")]
    Encrypt,
}

/// Derives the one-time cipher key and nonce from the shared secret.
fn derive(
    shared: &[u8; 32],
    ephemeral: &PublicKey,
    recipient: &PublicKey,
) -> Result<(XChaCha20Poly1305, Zeroizing<[u8; 24]>), SealError> {
    let hk = Hkdf::<Sha256>::new(None, shared);
    let mut okm = Zeroizing::new([0u8; 56]);
    hk.expand_multi_info(&[DOMAIN, ephemeral.as_bytes(), recipient.as_bytes()], okm.as_mut_slice())
        .map_err(|_| SealError::Encrypt)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&okm[..32]).map_err(|_| SealError::Encrypt)?;
    let mut nonce = Zeroizing::new([0u8; 24]);
    nonce.copy_from_slice(&okm[32..]);
    Ok((cipher, nonce))
}

/// Seals `plaintext` to `recipient`, authenticating `aad`. The RNG is injected
/// so test vectors can be deterministic; use `OsRng` otherwise.
pub fn seal_to<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    recipient: &PublicKey,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, SealError> {
    let ephemeral = EphemeralSecret::random_from_rng(&mut *rng);
    let ephemeral_pub = PublicKey::from(&ephemeral);
    let shared = ephemeral.diffie_hellman(recipient);
    if !shared.was_contributory() {
        return Err(SealError::WeakKey);
    }
    let (cipher, nonce) = derive(shared.as_bytes(), &ephemeral_pub, recipient)?;
    let ct = cipher
        .encrypt(XNonce::from_slice(nonce.as_slice()), Payload { msg: plaintext, aad })
        .map_err(|_| SealError::Encrypt)?;
    let mut out = Vec::with_capacity(SEAL_OVERHEAD + plaintext.len());
    out.push(SEAL_VERSION);
    out.extend_from_slice(ephemeral_pub.as_bytes());
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a blob made by [`seal_to`] for the holder of `secret`, with the same
/// `aad`. The plaintext is zeroized when dropped.
pub fn open_sealed(secret: &StaticSecret, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    open_sealed_as(secret, &PublicKey::from(secret), blob, aad)
}

/// [`open_sealed`] with the secret's public key already at hand (deriving it
/// costs a scalar multiplication; a device opening thousands of envelopes
/// derives it once).
pub fn open_sealed_as(
    secret: &StaticSecret,
    recipient: &PublicKey,
    blob: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if blob.len() < SEAL_OVERHEAD {
        return Err(SealError::Truncated(blob.len()));
    }
    if blob[0] != SEAL_VERSION {
        return Err(SealError::UnknownVersion(blob[0]));
    }
    let mut eph = [0u8; 32];
    eph.copy_from_slice(&blob[1..33]);
    let ephemeral_pub = PublicKey::from(eph);
    let shared = secret.diffie_hellman(&ephemeral_pub);
    if !shared.was_contributory() {
        return Err(SealError::WeakKey);
    }
    let (cipher, nonce) = derive(shared.as_bytes(), &ephemeral_pub, recipient)?;
    cipher
        .decrypt(XNonce::from_slice(nonce.as_slice()), Payload { msg: &blob[33..], aad })
        .map(Zeroizing::new)
        .map_err(|_| SealError::DecryptFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::OsRng;

    fn pair(seed: u8) -> (StaticSecret, PublicKey) {
        let s = StaticSecret::from([seed; 32]);
        let p = PublicKey::from(&s);
        (s, p)
    }

    #[test]
    fn round_trips_with_aad() {
        let (s, p) = pair(3);
        let blob = seal_to(&mut OsRng, &p, b"content key bytes", b"ctx").unwrap();
        assert_eq!(blob.len(), SEAL_OVERHEAD + 17);
        assert!(!blob.windows(7).any(|w| w == b"content"));
        assert_eq!(open_sealed(&s, &blob, b"ctx").unwrap().as_slice(), b"content key bytes");
        // Fresh ephemeral key every time.
        assert_ne!(blob, seal_to(&mut OsRng, &p, b"content key bytes", b"ctx").unwrap());
    }

    #[test]
    fn wrong_key_aad_tamper_version_truncation_are_typed() {
        let (s, p) = pair(3);
        let (other, _) = pair(4);
        let blob = seal_to(&mut OsRng, &p, b"k", b"ctx").unwrap();
        assert_eq!(open_sealed(&other, &blob, b"ctx"), Err(SealError::DecryptFailed));
        assert_eq!(open_sealed(&s, &blob, b"ctx2"), Err(SealError::DecryptFailed));
        for i in 1..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x40;
            assert!(open_sealed(&s, &bad, b"ctx").is_err(), "byte {i}");
        }
        let mut v2 = blob.clone();
        v2[0] = 2;
        assert_eq!(open_sealed(&s, &v2, b"ctx"), Err(SealError::UnknownVersion(2)));
        assert_eq!(open_sealed(&s, &blob[..SEAL_OVERHEAD - 1], b"ctx"), Err(SealError::Truncated(48)));
    }

    #[test]
    fn low_order_recipient_is_refused() {
        let zero = PublicKey::from([0u8; 32]);
        assert_eq!(seal_to(&mut OsRng, &zero, b"k", b""), Err(SealError::WeakKey));
        let (s, _) = pair(3);
        let mut blob = vec![SEAL_VERSION];
        blob.extend_from_slice(&[0u8; 32 + 16]);
        assert_eq!(open_sealed(&s, &blob, b""), Err(SealError::WeakKey));
    }
}
