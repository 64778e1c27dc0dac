//! The key vault: the data key (DK) exists on disk only wrapped under a
//! key-encryption key (KEK) and stored in the OS keyring.
//!
//! - [`KekSource`]: where the KEK comes from. In production, the clinician's
//!   hardware key (hmac-secret over this device's salt, through HKDF); that
//!   arrives with the login issue. Tests use a fixed key.
//! - [`Keyring`]: the OS credential store through keyring-core (v4 of the
//!   keyring ecosystem: keyring-core plus one store crate per platform — it
//!   registers nothing by itself, so [`Keyring::platform`] builds the store).
//! - [`KeyRecord`]: what the keyring entry holds: the device salt, the cache
//!   file's SQLCipher salt, the wrapped DK and, during a rekey, the wrapped
//!   next DK.

use keyring_core::{CredentialStore, Entry};
use sealbox_crypto::keywrap::{WrapContext, WRAPPED_LEN};
use sealbox_crypto::secret::SecretKey;
use std::sync::Arc;

use crate::store::open::SALT_LEN;

/// The keyring service name (the app identifier).
pub const SERVICE: &str = "org.sealbox.desktop";
/// The keyring service of the weaker mode's KEK (a key without hmac-secret).
pub const FALLBACK_SERVICE: &str = "org.sealbox.desktop.fallback-kek";
/// Length of the per-device salt given to the KEK source.
pub const DEVICE_SALT_LEN: usize = 32;

/// Why a KEK could not be produced.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KekError {
    /// The security key was not presented, timed out or refused.
    #[error("the security key did not provide a key (not presented, timed out or refused)")]
    NotPresented,
    /// The source failed for another reason.
    #[error("the key source failed: {0}")]
    Failed(&'static str),
}

/// A source of the key-encryption key. It is asked for the KEK of this
/// device's salt each time the cache is unlocked; it must return the same
/// key for the same salt, and never store it.
pub trait KekSource {
    /// The KEK for `device_salt`.
    fn kek(&self, device_salt: &[u8; DEVICE_SALT_LEN]) -> Result<SecretKey, KekError>;
}

/// Why the vault failed. Messages say what to install or unlock; they carry
/// no key material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No OS keyring could be reached.
    #[error("no OS keyring is available: {hint}")]
    KeyringUnavailable {
        /// What to install or start.
        hint: &'static str,
    },
    /// The keyring is there but locked or refused access.
    #[error("the OS keyring is locked or refused access: {hint}")]
    KeyringLocked {
        /// What to unlock.
        hint: &'static str,
    },
    /// The keyring failed in another way.
    #[error("the OS keyring failed: {0}")]
    KeyringFailed(&'static str),
    /// The keyring entry is not a Sealbox key record.
    #[error("the keyring entry for this device is not a valid Sealbox key record")]
    RecordCorrupt,
}

#[cfg(target_os = "linux")]
const UNAVAILABLE_HINT: &str = "Sealbox keeps its key in the Secret Service; install and start gnome-keyring \
     (package gnome-keyring) or another Secret Service provider in this desktop session, with a D-Bus session bus";
#[cfg(target_os = "macos")]
const UNAVAILABLE_HINT: &str =
    "Sealbox keeps its key in the macOS Keychain; make sure the login keychain exists";
#[cfg(target_os = "windows")]
const UNAVAILABLE_HINT: &str =
    "Sealbox keeps its key in Windows Credential Manager; make sure the service is running";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const UNAVAILABLE_HINT: &str = "this platform has no supported OS keyring";

#[cfg(target_os = "linux")]
const LOCKED_HINT: &str =
    "unlock the login keyring (Secret Service, e.g. with Seahorse or by logging in again) and retry";
#[cfg(not(target_os = "linux"))]
const LOCKED_HINT: &str = "unlock the login keychain / credential store and retry";

fn map_keyring(e: keyring_core::Error) -> VaultError {
    match e {
        keyring_core::Error::NoStorageAccess(_) => VaultError::KeyringLocked { hint: LOCKED_HINT },
        keyring_core::Error::PlatformFailure(_) | keyring_core::Error::NoDefaultStore => {
            VaultError::KeyringUnavailable { hint: UNAVAILABLE_HINT }
        }
        keyring_core::Error::BadDataFormat(..) | keyring_core::Error::BadEncoding(_) => {
            VaultError::RecordCorrupt
        }
        keyring_core::Error::TooLong(..) => VaultError::KeyringFailed("a value is too long for this keyring"),
        keyring_core::Error::Invalid(..) => VaultError::KeyringFailed("the keyring rejected the entry name"),
        keyring_core::Error::Ambiguous(_) => VaultError::KeyringFailed("more than one keyring entry matches"),
        keyring_core::Error::NotSupportedByStore(_) => {
            VaultError::KeyringFailed("not supported by this keyring")
        }
        _ => VaultError::KeyringFailed("unexpected keyring error"),
    }
}

/// The OS keyring (or, in unit tests, a mock store).
#[derive(Clone)]
pub struct Keyring {
    store: Arc<CredentialStore>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("vendor", &self.store.vendor()).finish()
    }
}

impl Keyring {
    /// The platform's keyring: Secret Service on Linux, Keychain on macOS,
    /// Credential Manager on Windows. Fails with what to install when there
    /// is none.
    pub fn platform() -> Result<Self, VaultError> {
        #[cfg(target_os = "linux")]
        let store: Arc<CredentialStore> =
            dbus_secret_service_keyring_store::Store::new().map_err(map_keyring)?;
        #[cfg(target_os = "macos")]
        let store: Arc<CredentialStore> =
            apple_native_keyring_store::keychain::Store::new().map_err(map_keyring)?;
        #[cfg(target_os = "windows")]
        let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new().map_err(map_keyring)?;
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        return Err(VaultError::KeyringUnavailable { hint: UNAVAILABLE_HINT });
        #[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
        Ok(Keyring { store })
    }

    /// A keyring over any keyring-core store (unit tests use the mock).
    pub fn with_store(store: Arc<CredentialStore>) -> Self {
        Keyring { store }
    }

    pub(crate) fn entry(&self, ctx: &WrapContext) -> Result<Entry, VaultError> {
        let user = format!("{}/{}/{}", ctx.practice, ctx.user, ctx.device);
        self.store.build(SERVICE, &user, None).map_err(map_keyring)
    }

    /// The record for `ctx`, or None if this device is not enrolled.
    pub fn load(&self, ctx: &WrapContext) -> Result<Option<KeyRecord>, VaultError> {
        match self.entry(ctx)?.get_secret() {
            Ok(bytes) => KeyRecord::decode(&bytes).map(Some),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }

    /// Stores (replaces) the record for `ctx`.
    pub fn save(&self, ctx: &WrapContext, record: &KeyRecord) -> Result<(), VaultError> {
        self.entry(ctx)?.set_secret(&record.encode()).map_err(map_keyring)
    }

    /// Deletes the record for `ctx` (and a fallback KEK, if any); true if
    /// there was a record.
    pub fn delete(&self, ctx: &WrapContext) -> Result<bool, VaultError> {
        let removed = match self.entry(ctx)?.delete_credential() {
            Ok(()) => true,
            Err(keyring_core::Error::NoEntry) => false,
            Err(e) => return Err(map_keyring(e)),
        };
        match self.fallback_entry(ctx)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(removed),
            Err(e) => Err(map_keyring(e)),
        }
    }

    /// Stores a secret blob under `service` / `account` (e.g. the software
    /// authenticator's state, for the demo).
    pub(crate) fn save_blob(&self, service: &str, account: &str, bytes: &[u8]) -> Result<(), VaultError> {
        self.store.build(service, account, None).map_err(map_keyring)?.set_secret(bytes).map_err(map_keyring)
    }

    /// Deletes the blob under `service` / `account`; true if there was one.
    pub(crate) fn delete_blob(&self, service: &str, account: &str) -> Result<bool, VaultError> {
        match self.store.build(service, account, None).map_err(map_keyring)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_keyring(e)),
        }
    }

    /// The blob under `service` / `account`, if any.
    pub(crate) fn load_blob(
        &self,
        service: &str,
        account: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, VaultError> {
        match self.store.build(service, account, None).map_err(map_keyring)?.get_secret() {
            Ok(bytes) => Ok(Some(zeroize::Zeroizing::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn fallback_entry(&self, ctx: &WrapContext) -> Result<Entry, VaultError> {
        let user = format!("{}/{}/{}", ctx.practice, ctx.user, ctx.device);
        self.store.build(FALLBACK_SERVICE, &user, None).map_err(map_keyring)
    }

    /// Stores the weaker mode's KEK for `ctx`.
    pub(crate) fn save_fallback_kek(&self, ctx: &WrapContext, kek: &SecretKey) -> Result<(), VaultError> {
        self.fallback_entry(ctx)?.set_secret(kek.expose()).map_err(map_keyring)
    }

    /// The weaker mode's KEK for `ctx`, if this device uses that mode.
    pub(crate) fn load_fallback_kek(&self, ctx: &WrapContext) -> Result<Option<SecretKey>, VaultError> {
        match self.fallback_entry(ctx)?.get_secret() {
            Ok(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                SecretKey::from_slice(&bytes).map(Some).ok_or(VaultError::RecordCorrupt)
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }
}

const MAGIC: &[u8; 4] = b"SBXK";
const RECORD_VERSION: u8 = 1;

/// What the keyring entry holds. Nothing in it is secret without the KEK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// Given to the KEK source (hmac-secret salt).
    pub device_salt: [u8; DEVICE_SALT_LEN],
    /// The SQLCipher salt (first 16 bytes) of the cache file this DK opens:
    /// tells "this is our file but the key does not open it" (keep it) from
    /// "this is some other file" (quarantine it).
    pub db_salt: [u8; SALT_LEN],
    /// The DK wrapped under the KEK.
    pub wrapped: Vec<u8>,
    /// During a rekey: the next DK, wrapped; the cache may already use it.
    pub wrapped_next: Option<Vec<u8>>,
}

impl KeyRecord {
    /// `SBXK | version | device_salt | db_salt | has_next | wrapped | [wrapped_next]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 1 + DEVICE_SALT_LEN + SALT_LEN + 1 + 2 * WRAPPED_LEN);
        out.extend_from_slice(MAGIC);
        out.push(RECORD_VERSION);
        out.extend_from_slice(&self.device_salt);
        out.extend_from_slice(&self.db_salt);
        out.push(u8::from(self.wrapped_next.is_some()));
        out.extend_from_slice(&self.wrapped);
        if let Some(next) = &self.wrapped_next {
            out.extend_from_slice(next);
        }
        out
    }

    /// Parses [`KeyRecord::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, VaultError> {
        let head = 4 + 1 + DEVICE_SALT_LEN + SALT_LEN + 1;
        if bytes.len() < head || &bytes[..4] != MAGIC || bytes[4] != RECORD_VERSION {
            return Err(VaultError::RecordCorrupt);
        }
        let mut device_salt = [0u8; DEVICE_SALT_LEN];
        device_salt.copy_from_slice(&bytes[5..5 + DEVICE_SALT_LEN]);
        let mut db_salt = [0u8; SALT_LEN];
        db_salt.copy_from_slice(&bytes[5 + DEVICE_SALT_LEN..5 + DEVICE_SALT_LEN + SALT_LEN]);
        let has_next = bytes[head - 1];
        let rest = &bytes[head..];
        let (wrapped, wrapped_next) = match (has_next, rest.len()) {
            (0, n) if n == WRAPPED_LEN => (rest.to_vec(), None),
            (1, n) if n == 2 * WRAPPED_LEN => {
                (rest[..WRAPPED_LEN].to_vec(), Some(rest[WRAPPED_LEN..].to_vec()))
            }
            _ => return Err(VaultError::RecordCorrupt),
        };
        Ok(KeyRecord { device_salt, db_salt, wrapped, wrapped_next })
    }
}

/// A fixed KEK, for tests and the benchmark. Not for production: the real
/// source is the hardware key.
#[cfg(test)]
pub(crate) struct FixedKek(pub(crate) [u8; 32]);

#[cfg(test)]
impl KekSource for FixedKek {
    fn kek(&self, device_salt: &[u8; DEVICE_SALT_LEN]) -> Result<SecretKey, KekError> {
        // Mix in the salt the way the real source does (different salt,
        // different KEK), without pulling HKDF in just for tests.
        let mut k = self.0;
        for (a, b) in k.iter_mut().zip(device_salt) {
            *a ^= b;
        }
        Ok(SecretKey::from_bytes(k))
    }
}

#[cfg(test)]
pub(crate) mod tests;
