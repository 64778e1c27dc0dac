//! This device's account at the practice hub: enrolment and sign-in with
//! the security key, the device's own key pairs, and the pool keys an
//! admin seals to it.
//!
//! - [`api`]: the hub's identity and device endpoints (typed, bounded, over
//!   the same [`crate::sync::client::HubClient`] as sync).
//! - [`device`]: this device's X25519 / Ed25519 key pairs, kept inside the
//!   encrypted cache.
//! - [`pool_keys`]: a pool private key sealed to one device, and opened by
//!   it; the practice admin's side (publish, approve, seal) included.
//! - [`practice_key`]: the practice's signing key on an admin's workstation,
//!   and the key directory as any device reads it (checked under its pin).

pub mod api;
pub mod device;
pub mod pool_keys;
pub mod practice_key;
