//! sealbox-crypto: sealed envelopes, key wrapping, signatures and the audit
//! hash chain. No IO (apart from the operating system's random numbers).
//!
//! - [`secret`]: fixed-size secret keys that zeroize on drop and never print.
//! - [`keywrap`]: the data key wrapped under a key-encryption key
//!   (XChaCha20-Poly1305, associated data binding practice, user, device and
//!   format version).
//! - [`seal`]: sealing bytes to an X25519 public key (ephemeral X25519 +
//!   HKDF-SHA256 + XChaCha20-Poly1305).
//! - [`pin_seal`]: bytes sealed under a PIN (Argon2id + XChaCha20-Poly1305),
//!   for the demo's software key.
//! - [`envelope`]: the signed, per-part sealed message envelope the hub relays.
//! - [`directory`]: the practice's signed key directory (pool keys, devices,
//!   revocations) as a chain of statements signed with the practice key.
//! - [`patient_invite`]: a patient's one-time invite and the tag of who they are.
//! - [`patient_message`]: a patient's message sealed to the pools that may read it.
//! - [`audit_chain`]: the audit events' hash chain and signed segments.

pub mod attachment;
pub mod audit_chain;
pub mod directory;
pub mod envelope;
pub mod keywrap;
pub mod patient_invite;
pub mod patient_message;
pub mod pin_seal;
pub mod renewal_questions;
pub mod seal;
pub mod secret;

/// Re-exported so callers use the same key types as the envelope API.
pub use ed25519_dalek;
/// Re-exported so callers use the same key types as the envelope API.
pub use x25519_dalek;
