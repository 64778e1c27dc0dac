//! Key wrapping: a [`SecretKey`] (the cache's data key) encrypted under a
//! key-encryption key with XChaCha20-Poly1305.
//!
//! The associated data binds the blob to one practice, one user, one device
//! and the format version, so a blob copied to another device or user — or
//! an old format — fails to unwrap rather than yielding a key.
//!
//! Blob layout (73 bytes): `version (1) | nonce (24) | ciphertext+tag (48)`.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::secret::{SecretKey, KEY_LEN};

/// The current blob format.
pub const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Length of a wrapped key blob.
pub const WRAPPED_LEN: usize = 1 + NONCE_LEN + KEY_LEN + TAG_LEN;
const DOMAIN: &[u8] = b"sealbox/keywrap/data-key";

/// Who and where a wrapped key belongs to. Identifiers only, no patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapContext {
    /// The practice (e.g. its ODS code).
    pub practice: String,
    /// The clinician's staff id.
    pub user: String,
    /// This device's id.
    pub device: String,
}

impl WrapContext {
    /// Convenience constructor.
    pub fn new(practice: impl Into<String>, user: impl Into<String>, device: impl Into<String>) -> Self {
        WrapContext { practice: practice.into(), user: user.into(), device: device.into() }
    }

    /// The associated data: domain, version, then each field length-prefixed
    /// (so "ab"+"c" and "a"+"bc" differ).
    fn associated_data(&self, version: u8) -> Vec<u8> {
        let mut ad = Vec::with_capacity(DOMAIN.len() + 1 + 24 + self.practice.len() + self.user.len());
        ad.extend_from_slice(DOMAIN);
        ad.push(version);
        for field in [&self.practice, &self.user, &self.device] {
            ad.extend_from_slice(&(field.len() as u64).to_be_bytes());
            ad.extend_from_slice(field.as_bytes());
        }
        ad
    }
}

/// Why a blob could not be wrapped or unwrapped. Carries no key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyWrapError {
    /// The blob is not the right length.
    #[error("wrapped key has the wrong length ({0} bytes)")]
    Malformed(usize),
    /// The blob's format version is not one this build reads.
    #[error("wrapped key format version {0} is not supported")]
    UnsupportedVersion(u8),
    /// Authentication failed: the key-encryption key is wrong, or the blob
    /// belongs to another practice, user or device, or it was altered.
    #[error("wrapped key did not authenticate (wrong key-encryption key or context)")]
    Rejected,
    /// The cipher refused to encrypt (not expected in practice).
    #[error("wrapping failed")]
    Encrypt,
}

/// Wraps `key` under `kek` for `ctx`, with a fresh random nonce.
pub fn wrap(kek: &SecretKey, key: &SecretKey, ctx: &WrapContext) -> Result<Vec<u8>, KeyWrapError> {
    let cipher = XChaCha20Poly1305::new(kek.expose().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ad = ctx.associated_data(FORMAT_VERSION);
    let ct =
        cipher.encrypt(&nonce, Payload { msg: key.expose(), aad: &ad }).map_err(|_| KeyWrapError::Encrypt)?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Unwraps a blob made by [`wrap`] with the same `kek` and `ctx`.
pub fn unwrap(kek: &SecretKey, blob: &[u8], ctx: &WrapContext) -> Result<SecretKey, KeyWrapError> {
    if blob.len() != WRAPPED_LEN {
        return Err(KeyWrapError::Malformed(blob.len()));
    }
    let version = blob[0];
    if version != FORMAT_VERSION {
        return Err(KeyWrapError::UnsupportedVersion(version));
    }
    let nonce = XNonce::from_slice(&blob[1..1 + NONCE_LEN]);
    let cipher = XChaCha20Poly1305::new(kek.expose().into());
    let ad = ctx.associated_data(version);
    let plain = Zeroizing::new(
        cipher
            .decrypt(nonce, Payload { msg: &blob[1 + NONCE_LEN..], aad: &ad })
            .map_err(|_| KeyWrapError::Rejected)?,
    );
    SecretKey::from_slice(&plain).ok_or(KeyWrapError::Malformed(blob.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> WrapContext {
        WrapContext::new("P81001", "gp-ali", "dev-1")
    }

    #[test]
    fn round_trips_and_never_contains_the_key() {
        let kek = SecretKey::generate();
        let dk = SecretKey::generate();
        let blob = wrap(&kek, &dk, &ctx()).unwrap();
        assert_eq!(blob.len(), WRAPPED_LEN);
        assert!(!blob.windows(8).any(|w| w == &dk.expose()[..8]));
        assert_eq!(unwrap(&kek, &blob, &ctx()).unwrap(), dk);
    }

    #[test]
    fn nonces_are_fresh() {
        let kek = SecretKey::generate();
        let dk = SecretKey::generate();
        assert_ne!(wrap(&kek, &dk, &ctx()).unwrap(), wrap(&kek, &dk, &ctx()).unwrap());
    }

    #[test]
    fn wrong_kek_or_any_other_context_is_rejected() {
        let kek = SecretKey::generate();
        let dk = SecretKey::generate();
        let blob = wrap(&kek, &dk, &ctx()).unwrap();
        assert_eq!(unwrap(&SecretKey::generate(), &blob, &ctx()), Err(KeyWrapError::Rejected));
        for other in [
            WrapContext::new("P81002", "gp-ali", "dev-1"),
            WrapContext::new("P81001", "gp-bea", "dev-1"),
            WrapContext::new("P81001", "gp-ali", "dev-2"),
            // Length prefixes: moving a character between fields changes the AD.
            WrapContext::new("P8100", "1gp-ali", "dev-1"),
        ] {
            assert_eq!(unwrap(&kek, &blob, &other), Err(KeyWrapError::Rejected), "{other:?}");
        }
    }

    #[test]
    fn tampering_and_bad_shapes_are_typed_errors() {
        let kek = SecretKey::generate();
        let dk = SecretKey::generate();
        let blob = wrap(&kek, &dk, &ctx()).unwrap();
        for i in [1, 30, WRAPPED_LEN - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert_eq!(unwrap(&kek, &bad, &ctx()), Err(KeyWrapError::Rejected), "byte {i}");
        }
        let mut old = blob.clone();
        old[0] = 2;
        assert_eq!(unwrap(&kek, &old, &ctx()), Err(KeyWrapError::UnsupportedVersion(2)));
        assert_eq!(unwrap(&kek, &blob[..40], &ctx()), Err(KeyWrapError::Malformed(40)));
    }
}
