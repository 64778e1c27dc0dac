//! This device's own key pairs: X25519 (pool keys are sealed to it) and
//! Ed25519 (signs what the device sends). Made at enrolment, kept only
//! inside the encrypted cache, so they exist in memory only while unlocked.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::secret::random_bytes;
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::hub_api::auth::DeviceKeys;
use sealbox_model::hub_api::Base64Bytes;
use zeroize::Zeroizing;

use crate::store::{Store, StoreError};

const X25519_SETTING: &str = "device.x25519_secret";
const ED25519_SETTING: &str = "device.ed25519_secret";

/// The device's secret keys. `Debug` shows only the public halves' use.
pub struct DeviceSecrets {
    /// Opens pool keys sealed to this device.
    pub x25519: StaticSecret,
    /// Signs this device's envelopes and audit segments.
    pub ed25519: SigningKey,
}

impl std::fmt::Debug for DeviceSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceSecrets(<redacted>)")
    }
}

impl DeviceSecrets {
    /// New random key pairs.
    pub fn generate() -> Self {
        DeviceSecrets {
            x25519: StaticSecret::from(random_bytes::<32>()),
            ed25519: SigningKey::from_bytes(&random_bytes::<32>()),
        }
    }

    /// The public halves, as uploaded to the hub.
    pub fn public(&self) -> DeviceKeys {
        DeviceKeys {
            x25519_public: Base64Bytes(PublicKey::from(&self.x25519).as_bytes().to_vec()),
            ed25519_public: Base64Bytes(self.ed25519.verifying_key().as_bytes().to_vec()),
        }
    }

    /// Writes them into the (encrypted) cache.
    pub fn save(&self, store: &mut Store) -> Result<(), StoreError> {
        let x = Zeroizing::new(STANDARD.encode(self.x25519.as_bytes()));
        let e = Zeroizing::new(STANDARD.encode(self.ed25519.as_bytes()));
        store.write(|w| {
            w.set_setting(X25519_SETTING, &x)?;
            w.set_setting(ED25519_SETTING, &e)
        })
    }

    /// Reads them from the cache; `None` before enrolment finished.
    pub fn load(store: &Store) -> Result<Option<Self>, StoreError> {
        let (Some(x), Some(e)) = (store.setting(X25519_SETTING)?, store.setting(ED25519_SETTING)?) else {
            return Ok(None);
        };
        let (x, e) = (Zeroizing::new(x), Zeroizing::new(e));
        Ok(Some(DeviceSecrets {
            x25519: StaticSecret::from(key32(&x)?),
            ed25519: SigningKey::from_bytes(&key32(&e)?),
        }))
    }
}

/// A stored 32-byte key.
pub(crate) fn key32(b64: &str) -> Result<[u8; 32], StoreError> {
    let bytes =
        Zeroizing::new(STANDARD.decode(b64).map_err(|_| StoreError::Api("a stored key is not base64"))?);
    let mut out = [0u8; 32];
    if bytes.len() != 32 {
        return Err(StoreError::Api("a stored key is not 32 bytes"));
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}
