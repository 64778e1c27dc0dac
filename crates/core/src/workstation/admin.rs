//! The practice admin's tasks on their workstation. Each is signed into the
//! practice's key directory with the practice key this workstation holds
//! (issue 21), so no device takes a key the hub alone vouches for.

use reqwest::Method;
use sealbox_crypto::directory::Entry;
use sealbox_model::hub_api::auth::{DeviceInfo, DeviceKeys};
use sealbox_model::hub_api::{Base64Bytes, SealedPracticeKey};
use sealbox_model::role::Role;

use super::{Desk, WorkstationError};
use crate::account::pool_keys::{HeldPoolKeys, PoolKeyError};
use crate::account::practice_key::{PracticeKey, TrustError};

impl Desk {
    /// The practice key, if this workstation holds it (an admin's).
    fn practice_signing_key(&self) -> Result<PracticeKey, WorkstationError> {
        let store = crate::sync::lock(&self.store);
        Ok(PracticeKey::load(&store)?.ok_or(TrustError::NoKeyHere)?)
    }

    /// The practice's set-up, on its first admin's workstation, once: this
    /// device entered in the directory, then a key for every pool, made
    /// here, published at the hub and signed; this desk holds them.
    pub async fn set_up_pools(&mut self) -> Result<(), WorkstationError> {
        let key = self.practice_signing_key()?;
        let held = HeldPoolKeys::publish_new(&self.hub).await?;
        let own = self.device.public();
        let mut entries = vec![device_entry(
            &self.profile.device_id,
            &self.profile.user_id,
            self.profile.role.key(),
            &own,
        )?];
        entries.extend(held.public_keys().into_iter().map(|(pool, version, public)| Entry::PoolKey {
            pool,
            version,
            public: *public.as_bytes(),
        }));
        key.append(&self.hub, &self.profile.practice_id, entries).await?;
        held.save(&mut crate::sync::lock(&self.store))?;
        self.pool_keys = held;
        self.refresh_pool_keys().await
    }

    /// Approves a device waiting at the hub: its keys, bound to its member of
    /// staff and role, signed into the directory; then the pools its owner
    /// works in sealed to it. The device checks at its next unlock that the
    /// directory names its own keys, so a hub that swapped them is caught.
    pub async fn approve_device(&self, device: &DeviceInfo) -> Result<(), WorkstationError> {
        let key = self.practice_signing_key()?;
        let keys = device.keys.as_ref().ok_or(PoolKeyError::NoDeviceKeys)?;
        let entry = device_entry(&device.id, &device.user_id, device.role.key(), keys)?;
        key.append(&self.hub, &self.profile.practice_id, vec![entry]).await?;
        self.pool_keys.approve(&self.hub, &self.profile.practice_id, device).await?;
        Ok(())
    }

    /// Shares the practice key with another admin's device, for continuity
    /// (a practice must not depend on one workstation): sealed to that
    /// device's X25519 key as the signed directory binds it (never as the
    /// hub lists it), and only to an approved admin's device.
    pub async fn share_practice_key(&self, device_id: &str) -> Result<(), WorkstationError> {
        let key = self.practice_signing_key()?;
        let dir = self.directory().await?;
        let device = dir
            .device(device_id)
            .filter(|d| !d.revoked && d.role == Role::PracticeAdmin.key())
            .ok_or(TrustError::NotAnAdminDevice)?;
        let sealed = key.seal_for(&self.profile.practice_id, device_id, &device.x25519)?;
        let path = format!("/v1/devices/{device_id}/practice-key");
        let body = SealedPracticeKey { sealed: Base64Bytes(sealed) };
        self.hub.call::<_, serde_json::Value>(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// Revokes a device: signed into the directory (nothing is sealed to it
    /// again), then its sessions and pool-key blobs ended at the hub.
    pub async fn revoke_device(&self, device_id: &str) -> Result<(), WorkstationError> {
        let key = self.practice_signing_key()?;
        let entry = Entry::Revoke { device: device_id.to_owned() };
        key.append(&self.hub, &self.profile.practice_id, vec![entry]).await?;
        self.hub.revoke_device(device_id).await?;
        Ok(())
    }
}

fn device_entry(device: &str, staff: &str, role: &str, keys: &DeviceKeys) -> Result<Entry, WorkstationError> {
    let x25519: [u8; 32] =
        keys.x25519_public.0.as_slice().try_into().map_err(|_| PoolKeyError::NoDeviceKeys)?;
    let ed25519: [u8; 32] =
        keys.ed25519_public.0.as_slice().try_into().map_err(|_| PoolKeyError::NoDeviceKeys)?;
    Ok(Entry::Device {
        device: device.to_owned(),
        staff: staff.to_owned(),
        role: role.to_owned(),
        x25519,
        ed25519,
    })
}
