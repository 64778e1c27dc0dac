//! Secret key material: 256-bit keys held in memory that is zeroized when the
//! value is dropped, and that never appears in `Debug` output.

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::OsRng;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length in bytes of every symmetric key Sealbox uses.
pub const KEY_LEN: usize = 32;

/// A 256-bit secret key. Zeroized on drop; `Debug` prints no key bytes.
/// Deliberately not `Clone`: a copy of a key is one more thing to zeroize.
#[derive(Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = SecretKey([0u8; KEY_LEN]);
        OsRng.fill_bytes(&mut key.0);
        key
    }

    /// Takes ownership of key bytes. The caller should zeroize its own copy
    /// (or pass a [`Zeroizing`] buffer it drops right after).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    /// Copies a key out of a slice; `None` unless it is exactly [`KEY_LEN`] long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(SecretKey(arr))
    }

    /// The key bytes, for handing to a cipher. Do not copy them anywhere that
    /// is not zeroized.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as lower-case hex in a buffer that is zeroized on drop (for
    /// SQLCipher's `PRAGMA key = "x'…'"`).
    pub fn to_hex(&self) -> Zeroizing<String> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = Zeroizing::new(String::with_capacity(KEY_LEN * 2));
        for b in self.0 {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        out
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Fills a fresh array with random bytes (salts, nonces; not for keys — use
/// [`SecretKey::generate`]).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    OsRng.fill_bytes(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_key_bytes() {
        let key = SecretKey::from_bytes([0xAB; KEY_LEN]);
        let out = format!("{key:?} {key:#?}");
        assert!(!out.to_lowercase().contains("ab"), "{out}");
        assert!(!out.contains("171"), "{out}");
    }

    #[test]
    fn hex_is_lowercase_and_complete() {
        let mut bytes = [0u8; KEY_LEN];
        bytes[0] = 0x0f;
        bytes[31] = 0xa0;
        let hex = SecretKey::from_bytes(bytes).to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex.starts_with("0f00"));
        assert!(hex.ends_with("00a0"));
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(SecretKey::generate(), SecretKey::generate());
        assert_eq!(SecretKey::from_slice(&[1u8; 31]), None);
    }
}
