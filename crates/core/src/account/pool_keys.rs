//! Pool private keys travel from the practice admin's device to another
//! device sealed to that device's X25519 key ([`sealbox_crypto::seal`]),
//! bound to the practice, the device, the pool and the key version; the
//! hub stores the blobs and cannot open them. A device keeps the keys it
//! opened inside its encrypted cache ([`HeldPoolKeys`]).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sealbox_crypto::seal::{open_sealed, seal_to, SealError};
use sealbox_crypto::secret::random_bytes;
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::hub_api::auth::{DeviceInfo, PublishPoolKey, SealedPoolKey, SealedPoolKeys};
use sealbox_model::hub_api::Base64Bytes;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use zeroize::Zeroizing;

use super::device::key32;
use crate::store::{Store, StoreError};
use crate::sync::client::HubClient;
use crate::sync::keys::PoolKeyring;
use crate::sync::SyncError;

const DOMAIN: &[u8] = b"sealbox/pool-key/v1";
const SETTING_PREFIX: &str = "pool_key.";

/// Why pool keys could not be sealed, opened or kept. Log-safe.
#[derive(Debug, thiserror::Error)]
pub enum PoolKeyError {
    /// A blob did not open: not for this device, altered, or another practice's.
    #[error("a pool key sealed to this device did not open ({0})")]
    Open(SealError),
    /// Sealing failed (a low-order device key).
    #[error("a pool key could not be sealed ({0})")]
    Seal(SealError),
    /// The device has uploaded no public keys yet.
    #[error("the device has no public keys at the hub yet")]
    NoDeviceKeys,
    /// The hub refused or failed.
    #[error(transparent)]
    Hub(#[from] SyncError),
    /// The cache refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn aad(practice: &str, device_id: &str, pool: Pool, version: u32) -> Vec<u8> {
    let mut ad = Vec::with_capacity(DOMAIN.len() + practice.len() + device_id.len() + 16);
    ad.extend_from_slice(DOMAIN);
    for part in [practice.as_bytes(), device_id.as_bytes(), pool.key().as_bytes()] {
        ad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        ad.extend_from_slice(part);
    }
    ad.extend_from_slice(&version.to_be_bytes());
    ad
}

/// The pools whose keys a device of `role` holds: its own pool, or every
/// pool for an admin's device.
pub fn pools_for(role: Role) -> Vec<Pool> {
    if role == Role::PracticeAdmin {
        Pool::ALL.to_vec()
    } else {
        vec![role.pool()]
    }
}

/// Seals `secret` (pool `pool`, version `version`) to a device.
pub fn seal(
    practice: &str,
    device_id: &str,
    device_public: &PublicKey,
    pool: Pool,
    version: u32,
    secret: &StaticSecret,
) -> Result<SealedPoolKey, PoolKeyError> {
    let mut rng = rand::rngs::OsRng;
    let blob = seal_to(&mut rng, device_public, secret.as_bytes(), &aad(practice, device_id, pool, version))
        .map_err(PoolKeyError::Seal)?;
    Ok(SealedPoolKey { pool, key_version: version, sealed: Base64Bytes(blob) })
}

/// Opens a blob sealed to this device.
pub fn open(
    practice: &str,
    device_id: &str,
    device: &StaticSecret,
    sealed: &SealedPoolKey,
) -> Result<StaticSecret, PoolKeyError> {
    let bytes =
        open_sealed(device, &sealed.sealed.0, &aad(practice, device_id, sealed.pool, sealed.key_version))
            .map_err(PoolKeyError::Open)?;
    let key: [u8; 32] =
        bytes.as_slice().try_into().map_err(|_| PoolKeyError::Open(SealError::DecryptFailed))?;
    Ok(StaticSecret::from(key))
}

/// Every version of each pool's key this device holds (after a rotation,
/// older messages stay readable with the older versions). `Debug` lists
/// pools and versions only.
#[derive(Default)]
pub struct HeldPoolKeys {
    keys: BTreeMap<Pool, BTreeMap<u32, StaticSecret>>,
}

impl std::fmt::Debug for HeldPoolKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|(p, versions)| (p.key(), versions.keys().collect::<Vec<_>>())))
            .finish()
    }
}

impl HeldPoolKeys {
    /// Keeps `secret` as `pool`'s key at `version`.
    pub fn insert(&mut self, pool: Pool, version: u32, secret: StaticSecret) {
        self.keys.entry(pool).or_default().insert(version, secret);
    }

    /// The pools held.
    pub fn pools(&self) -> Vec<Pool> {
        self.keys.keys().copied().collect()
    }

    /// The public key of every version of every pool held.
    pub fn public_keys(&self) -> Vec<(Pool, u32, PublicKey)> {
        self.keys
            .iter()
            .flat_map(|(p, versions)| versions.iter().map(|(v, s)| (*p, *v, PublicKey::from(s))))
            .collect()
    }

    /// `pool`'s newest key and its version.
    pub fn newest(&self, pool: Pool) -> Option<(u32, &StaticSecret)> {
        self.keys.get(&pool)?.iter().next_back().map(|(v, s)| (*v, s))
    }

    /// True when no pool key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys for opening envelopes: every version, newest first (most
    /// messages are sealed to it).
    pub fn keyring(&self, practice: &str) -> PoolKeyring {
        PoolKeyring::new(
            practice.to_owned(),
            self.keys.iter().flat_map(|(p, versions)| versions.values().rev().map(|s| (*p, s.clone()))),
        )
    }

    /// Opens every blob the hub holds for this device.
    pub fn open_all(
        &mut self,
        practice: &str,
        device_id: &str,
        device: &StaticSecret,
        sealed: &SealedPoolKeys,
    ) -> Result<(), PoolKeyError> {
        for blob in &sealed.keys {
            let secret = open(practice, device_id, device, blob)?;
            self.insert(blob.pool, blob.key_version, secret);
        }
        Ok(())
    }

    /// Writes them into the (encrypted) cache: per pool, `version:key` for
    /// each version, `;`-separated.
    pub fn save(&self, store: &mut Store) -> Result<(), StoreError> {
        store.write(|w| {
            for (pool, versions) in &self.keys {
                let value = Zeroizing::new(
                    versions
                        .iter()
                        .map(|(v, s)| format!("{v}:{}", STANDARD.encode(s.as_bytes())))
                        .collect::<Vec<_>>()
                        .join(";"),
                );
                w.set_setting(&format!("{SETTING_PREFIX}{}", pool.key()), &value)?;
            }
            Ok(())
        })
    }

    /// Reads them from the cache (a single `version:key`, as written before
    /// rotation existed, reads as one version).
    pub fn load(store: &Store) -> Result<Self, StoreError> {
        let mut held = HeldPoolKeys::default();
        for pool in Pool::ALL {
            let Some(value) = store.setting(&format!("{SETTING_PREFIX}{}", pool.key()))? else { continue };
            let value = Zeroizing::new(value);
            for one in value.split(';') {
                let (version, b64) =
                    one.split_once(':').ok_or(StoreError::Api("a stored pool key is malformed"))?;
                let version =
                    version.parse().map_err(|_| StoreError::Api("a stored pool key is malformed"))?;
                held.insert(pool, version, StaticSecret::from(key32(b64)?));
            }
        }
        Ok(held)
    }

    /// The practice admin's first step: a new key for every pool, published
    /// at the hub as version 1 (re-publishing the same key is accepted).
    pub async fn publish_new(hub: &HubClient) -> Result<Self, PoolKeyError> {
        let mut held = HeldPoolKeys::default();
        for pool in Pool::ALL {
            let secret = StaticSecret::from(random_bytes::<32>());
            let public = PublicKey::from(&secret);
            let body =
                PublishPoolKey { x25519_public: Base64Bytes(public.as_bytes().to_vec()), key_version: 1 };
            hub.publish_pool_key(pool, &body).await?;
            held.insert(pool, 1, secret);
        }
        Ok(held)
    }

    /// The practice admin approves `device` and seals to it the key of its
    /// owner's pool (an admin's device gets every pool).
    pub async fn approve(
        &self,
        hub: &HubClient,
        practice: &str,
        device: &DeviceInfo,
    ) -> Result<(), PoolKeyError> {
        let keys = device.keys.as_ref().ok_or(PoolKeyError::NoDeviceKeys)?;
        let public: [u8; 32] =
            keys.x25519_public.0.as_slice().try_into().map_err(|_| PoolKeyError::NoDeviceKeys)?;
        let public = PublicKey::from(public);
        let pools = pools_for(device.role);
        let mut sealed = SealedPoolKeys { keys: Vec::new() };
        for pool in pools {
            if let Some((version, secret)) = self.newest(pool) {
                sealed.keys.push(seal(practice, &device.id, &public, pool, version, secret)?);
            }
        }
        hub.approve_device(&device.id).await?;
        hub.put_pool_keys(&device.id, &sealed).await?;
        Ok(())
    }
}
