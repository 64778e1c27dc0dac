//! Binary data carried as standard base64 (with padding) in JSON.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Opaque bytes (a sealed envelope, a public key) as base64 in JSON. `Debug`
/// prints only the length.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Base64Bytes(pub Vec<u8>);

/// The text was not valid base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not valid base64")]
pub struct Base64Error;

impl Base64Bytes {
    /// Decodes standard base64.
    pub fn decode(text: &str) -> Result<Self, Base64Error> {
        STANDARD.decode(text).map(Base64Bytes).map_err(|_| Base64Error)
    }

    /// Encodes as standard base64.
    pub fn encode(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Base64Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Base64Bytes::decode(&text).map_err(|_| serde::de::Error::custom("not valid base64"))
    }
}
