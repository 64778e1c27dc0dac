//! This device's own key pairs: X25519 (pool keys are sealed to it) and
//! Ed25519 (signs what the device sends). Made at enrolment and kept inside
//! the encrypted cache, and also beside it in `device-identity.sealed`,
//! wrapped under the cache's data key (itself wrapped under the security
//! key's KEK): a damaged cache can be set aside and rebuilt without losing
//! the device's enrolment. Either way they exist in memory only while
//! unlocked.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::secret::random_bytes;
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::hub_api::auth::DeviceKeys;
use sealbox_model::hub_api::Base64Bytes;
use zeroize::Zeroizing;

use sealbox_crypto::keywrap::{self, WrapContext};
use sealbox_crypto::secret::SecretKey;

use crate::store::{Store, StoreError};

/// The sealed copy's file in the device's data folder.
pub const IDENTITY_FILE: &str = "device-identity.sealed";

/// The sealed copy on disk: each secret wrapped (XChaCha20-Poly1305, bound
/// to the practice, user and device) under the data key.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedIdentity {
    x25519: String,
    ed25519: String,
}

/// Why the sealed copy could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IdentityFileError {
    /// The file could not be read or written.
    #[error("the device identity file could not be used ({0})")]
    Io(std::io::ErrorKind),
    /// It is not one this device wrote with this key.
    #[error("the device identity file is damaged or not this device's")]
    Damaged,
}

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

    /// Writes the sealed copy beside the cache (durably), wrapped under
    /// `data_key` for `ctx`.
    pub fn save_sealed(
        &self,
        dir: &std::path::Path,
        data_key: &SecretKey,
        ctx: &WrapContext,
    ) -> Result<(), IdentityFileError> {
        let wrap = |bytes: [u8; 32]| {
            keywrap::wrap(data_key, &SecretKey::from_bytes(bytes), ctx)
                .map(|w| STANDARD.encode(w))
                .map_err(|_| IdentityFileError::Damaged)
        };
        let sealed =
            SealedIdentity { x25519: wrap(self.x25519.to_bytes())?, ed25519: wrap(self.ed25519.to_bytes())? };
        let json = serde_json::to_vec(&sealed).map_err(|_| IdentityFileError::Damaged)?;
        crate::durable::write(dir, IDENTITY_FILE, &json).map_err(|e| IdentityFileError::Io(e.kind()))
    }

    /// Reads the sealed copy; `None` when there is none (a device enrolled
    /// before it existed).
    pub fn load_sealed(
        dir: &std::path::Path,
        data_key: &SecretKey,
        ctx: &WrapContext,
    ) -> Result<Option<Self>, IdentityFileError> {
        let bytes = match std::fs::read(dir.join(IDENTITY_FILE)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(IdentityFileError::Io(e.kind())),
        };
        let sealed: SealedIdentity =
            serde_json::from_slice(&bytes).map_err(|_| IdentityFileError::Damaged)?;
        let unwrap = |text: &str| {
            let blob = STANDARD.decode(text).map_err(|_| IdentityFileError::Damaged)?;
            keywrap::unwrap(data_key, &blob, ctx).map_err(|_| IdentityFileError::Damaged)
        };
        let (x, e) = (unwrap(&sealed.x25519)?, unwrap(&sealed.ed25519)?);
        Ok(Some(DeviceSecrets {
            x25519: StaticSecret::from(*x.expose()),
            ed25519: SigningKey::from_bytes(e.expose()),
        }))
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
