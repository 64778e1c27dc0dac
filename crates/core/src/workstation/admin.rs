//! The practice admin's tasks on their workstation. Each is signed into the
//! practice's key directory with the practice key this workstation holds
//! (issue 21), so no device takes a key the hub alone vouches for.

use reqwest::Method;
use sealbox_crypto::directory::Entry;
use sealbox_crypto::secret::random_bytes;
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::hub_api::auth::{DeviceInfo, DeviceKeys, PublishPoolKey, SealedPoolKeys};
use sealbox_model::hub_api::{Base64Bytes, SealedPracticeKey};
use sealbox_model::renewal::RenewalQuestions;
use sealbox_model::role::Role;

use super::{Desk, WorkstationError};
use crate::account::pool_keys::{pools_for, seal, HeldPoolKeys, PoolKeyError};
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
        self.refresh_pool_keys().await?;
        // Patients asking for a repeat are asked the standard questions
        // until the practice publishes its own.
        key.publish_renewal_questions(&self.hub, &self.profile.practice_id, &RenewalQuestions::standard())
            .await?;
        Ok(())
    }

    /// Publishes the practice's renewal questions, signed with the practice
    /// key this workstation holds; `questions.version` must be above the
    /// one the hub holds.
    pub async fn publish_renewal_questions(
        &self,
        questions: &RenewalQuestions,
    ) -> Result<(), WorkstationError> {
        let key = self.practice_signing_key()?;
        key.publish_renewal_questions(&self.hub, &self.profile.practice_id, questions).await?;
        Ok(())
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

    /// Revokes a device and rotates the keys of every pool it held: the
    /// revocation and each pool's next key version signed into the
    /// directory, the device's sessions and blobs ended at the hub, the new
    /// versions published and sealed to every remaining approved device of
    /// those pools as the directory binds it. Senders seal to the newest
    /// version from then on; devices keep the older versions for older
    /// messages, and the revoked device never gets the new ones. A device
    /// the directory never approved is only revoked at the hub.
    pub async fn revoke_device(&mut self, device_id: &str) -> Result<(), WorkstationError> {
        let key = self.practice_signing_key()?;
        let practice = self.profile.practice_id.clone();
        let dir = self.directory().await?;
        let Some(revoked) = dir.device(device_id).filter(|d| !d.revoked) else {
            self.hub.revoke_device(device_id).await?;
            return Ok(());
        };
        let mut entries = vec![Entry::Revoke { device: device_id.to_owned() }];
        let mut rotated = Vec::new();
        for pool in role_of(&revoked.role).map(pools_for).unwrap_or_default() {
            let version = dir.pool_key(pool).map_or(1, |(v, _)| v + 1);
            let secret = StaticSecret::from(random_bytes::<32>());
            entries.push(Entry::PoolKey { pool, version, public: *PublicKey::from(&secret).as_bytes() });
            rotated.push((pool, version, secret));
        }
        let after = key.append(&self.hub, &practice, entries).await?;
        self.hub.revoke_device(device_id).await?;
        for (pool, version, secret) in &rotated {
            let public = Base64Bytes(PublicKey::from(secret).as_bytes().to_vec());
            self.hub
                .publish_pool_key(*pool, &PublishPoolKey { x25519_public: public, key_version: *version })
                .await?;
        }
        for (id, device) in after.approved_devices().filter(|(id, _)| *id != self.profile.device_id) {
            let pools = role_of(&device.role).map(pools_for).unwrap_or_default();
            let public = PublicKey::from(device.x25519);
            let mut sealed = SealedPoolKeys { keys: Vec::new() };
            for (pool, version, secret) in rotated.iter().filter(|(p, ..)| pools.contains(p)) {
                sealed.keys.push(seal(&practice, id, &public, *pool, *version, secret)?);
            }
            if !sealed.keys.is_empty() {
                self.hub.put_pool_keys(id, &sealed).await?;
            }
        }
        for (pool, version, secret) in rotated {
            self.pool_keys.insert(pool, version, secret);
        }
        self.pool_keys.save(&mut crate::sync::lock(&self.store))?;
        self.refresh_pool_keys().await
    }
}

/// A role from its key as the directory records it.
fn role_of(key: &str) -> Option<Role> {
    Role::ALL.into_iter().find(|r| r.key() == key)
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
