//! sealbox-crypto: sealed envelopes, key wrapping, signatures and the audit
//! hash chain. No IO (apart from the operating system's random numbers).
//!
//! - [`secret`]: fixed-size secret keys that zeroize on drop and never print.
//! - [`keywrap`]: the data key wrapped under a key-encryption key
//!   (XChaCha20-Poly1305, associated data binding practice, user, device and
//!   format version).

pub mod keywrap;
pub mod secret;
