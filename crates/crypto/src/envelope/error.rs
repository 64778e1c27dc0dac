//! Why an envelope could not be built, parsed or opened. Variants carry only
//! format facts (sizes, tags, field names) — never plaintext or keys.

use crate::seal::SealError;

/// Envelope errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The input ends before the format says it should.
    #[error("envelope is truncated")]
    Truncated,
    /// A size limit was exceeded.
    #[error("envelope {what} exceeds the limit of {max}")]
    TooLarge {
        /// Which limit (e.g. "envelope bytes", "part plaintext bytes").
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// Not an envelope (wrong leading bytes).
    #[error("not a sealbox envelope (bad magic)")]
    BadMagic,
    /// A format version this build does not read.
    #[error("envelope format version {0} is not supported")]
    UnknownVersion(u8),
    /// A field is structurally invalid.
    #[error("envelope is malformed: {what}")]
    Malformed {
        /// Which field.
        what: &'static str,
    },
    /// The Ed25519 signature does not verify against the embedded sender key
    /// (the envelope was altered or not signed by that key).
    #[error("envelope signature does not verify")]
    BadSignature,
    /// Signed correctly, but not by the sender the caller expected.
    #[error("envelope was signed by an unexpected sender")]
    UnexpectedSender,
    /// No part is sealed to this recipient.
    #[error("no part of the envelope is sealed to this recipient")]
    NotARecipient,
    /// A sealed content key or a part did not authenticate: wrong secret key
    /// for the named recipient, or tampered ciphertext.
    #[error("envelope part did not decrypt (wrong key or tampered)")]
    DecryptFailed,
    /// Sealing a content key failed while building (e.g. a low-order key).
    #[error("sealing a content key failed: {0}")]
    Seal(#[from] SealError),
    /// The cipher refused to encrypt a part (not expected).
    #[error("encrypting a part failed")]
    Encrypt,
}
