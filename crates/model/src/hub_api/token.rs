//! Secrets and keys that travel in requests.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A patient's channel token (a bearer secret issued by the practice). Never
/// printed: `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelToken(pub String);

impl fmt::Debug for ChannelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelToken(<redacted>)")
    }
}

/// A client-chosen key that makes an action safe to retry: 1 to 64 of
/// `A-Z a-z 0-9 - _ .`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

/// An idempotency key was empty, too long or had other characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 64 of A-Z a-z 0-9 - _ .")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    /// Validates a key.
    pub fn new(key: impl Into<String>) -> Result<Self, IdempotencyKeyError> {
        let key = key.into();
        let ok = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(IdempotencyKey(key))
        } else {
            Err(IdempotencyKeyError)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        IdempotencyKey::new(text).map_err(serde::de::Error::custom)
    }
}
