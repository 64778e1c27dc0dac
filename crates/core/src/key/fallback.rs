//! The design's weaker mode, for a security key without hmac-secret: the
//! KEK is a random key held in the OS keyring, released only against a
//! touch verified on this device ([`VerifiedTouch`]). Anyone who can read
//! this user's keyring can then unwrap the data key, so the mode is named
//! in the UI and the audit log, and a practice may refuse it.

use sealbox_crypto::secret::SecretKey;

use super::local::VerifiedTouch;
use super::{KeyError, SecurityKey};
use crate::cache::CacheConfig;
use crate::vault::{KekError, KekSource, Keyring, VaultError, DEVICE_SALT_LEN};

/// How this device's KEK is protected (kept in the profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum KeyMode {
    /// From the key's hmac-secret: nothing on disk can open the cache.
    #[default]
    #[serde(rename = "hmac_secret")]
    HmacSecret,
    /// Held in the OS keyring, released after a verified touch.
    #[serde(rename = "keyring_fallback_weaker")]
    KeyringFallback,
}

impl KeyMode {
    /// For the UI and the audit log.
    pub fn key(self) -> &'static str {
        match self {
            KeyMode::HmacSecret => "hmac_secret",
            KeyMode::KeyringFallback => "keyring_fallback_weaker",
        }
    }
}

/// The practice's rule on keys without hmac-secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyPolicy {
    /// Allow the weaker mode.
    pub allow_keyring_fallback: bool,
    /// Allow the demo's software key.
    pub allow_demo_key: bool,
}

impl From<sealbox_model::hub_api::PracticePolicy> for KeyPolicy {
    fn from(p: sealbox_model::hub_api::PracticePolicy) -> Self {
        KeyPolicy { allow_keyring_fallback: p.allow_weaker_keys, allow_demo_key: p.allow_demo_keys }
    }
}

/// The mode `key` can use under `policy`. The demo's software key only
/// where the practice allows demo keys.
pub fn choose_mode(key: &dyn SecurityKey, policy: KeyPolicy) -> Result<KeyMode, KeyError> {
    if key.is_demo() && !policy.allow_demo_key {
        return Err(KeyError::DemoKeyRefused);
    }
    if key.has_hmac_secret() {
        Ok(KeyMode::HmacSecret)
    } else if policy.allow_keyring_fallback {
        Ok(KeyMode::KeyringFallback)
    } else {
        Err(KeyError::Unsupported("hmac-secret, which this practice requires"))
    }
}

/// The weaker mode's KEK, as a [`KekSource`].
pub struct KeyringKek(SecretKey);

impl std::fmt::Debug for KeyringKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyringKek(<redacted>)")
    }
}

impl KeyringKek {
    /// At enrolment: a new random KEK, stored in the keyring (the touch
    /// proves the key is present).
    pub fn create(keyring: &Keyring, cfg: &CacheConfig, _touch: VerifiedTouch) -> Result<Self, VaultError> {
        let kek = SecretKey::generate();
        keyring.save_fallback_kek(&cfg.context, &kek)?;
        Ok(KeyringKek(kek))
    }

    /// At unlock: the stored KEK, only against a verified touch.
    pub fn release(keyring: &Keyring, cfg: &CacheConfig, _touch: VerifiedTouch) -> Result<Self, VaultError> {
        keyring.load_fallback_kek(&cfg.context)?.map(KeyringKek).ok_or(VaultError::RecordCorrupt)
    }
}

impl KekSource for KeyringKek {
    fn kek(&self, _device_salt: &[u8; DEVICE_SALT_LEN]) -> Result<SecretKey, KekError> {
        Ok(SecretKey::from_bytes(*self.0.expose()))
    }
}
