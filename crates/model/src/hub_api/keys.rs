//! `GET /v1/practice/keys`: the pools' public sealing keys.

use serde::{Deserialize, Serialize};

use super::bytes::Base64Bytes;
use crate::pool::Pool;

/// The practice and the X25519 public key of each pool an admin device has
/// published. Patients seal content keys to these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeKeys {
    /// The practice's id (bound into every envelope).
    pub practice_id: String,
    /// One entry per published pool.
    pub pools: Vec<PoolPublicKey>,
}

/// A pool's current public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolPublicKey {
    /// Which pool.
    pub pool: Pool,
    /// 32-byte X25519 public key.
    pub x25519_public: Base64Bytes,
    /// Increases each time the pool's key is replaced.
    pub key_version: u32,
}
