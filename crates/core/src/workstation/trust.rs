//! The practice key this workstation trusts (issue 21): pinned at
//! enrolment, and every key taken from the hub checked under it.
//!
//! - At enrolment ([`decide_pin`], before anything is written): the practice's first admin makes the
//!   practice key (kept in the encrypted cache) and pins it; anyone else
//!   pins the key the hub serves, if its fingerprint is the one the invite
//!   carried (or, with an invite that carries none, as first seen: Settings
//!   shows the fingerprint to compare).
//! - At every unlock verified by the hub ([`Desk::check_directory`]): the
//!   hub's statements replayed under the pinned key; this device's own
//!   entry must name its own keys; every pool key the hub sealed to it must
//!   be the one the directory names for that version; the keys replies are
//!   sealed to are the directory's, never the hub's unsigned list.

use sealbox_crypto::directory::{fingerprint, Directory};
use sealbox_crypto::ed25519_dalek::VerifyingKey;
use sealbox_crypto::x25519_dalek::PublicKey;
use sealbox_model::api::PracticeKeyView;
use sealbox_model::hub_api::{Base64Bytes, PoolPublicKey, PracticeKeys};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;

use super::{Desk, WorkstationError};
use crate::account::practice_key::{
    fetch_directory, served_practice_key, PinnedBy, PinnedKey, PracticeKey, TrustError,
};
use crate::account::pool_keys::open;
use crate::store::Store;
use crate::sync::client::HubClient;

/// What a new workstation does about the practice key (see the module docs).
pub(super) enum Pin {
    /// Pin this key.
    Key(PinnedKey),
    /// The practice's set-up: its first admin makes the key.
    Make(PracticeKey),
    /// The practice has no key yet and the invite named none: pinned at the
    /// first unlock that finds one.
    Later,
}

/// Decides, before anything is written, what a new workstation pins: `served`
/// is the key the hub serves, `invite_fingerprint` what the invite carried.
pub(super) fn decide_pin(
    served: Option<VerifyingKey>,
    role: Role,
    invite_fingerprint: Option<&str>,
) -> Result<Pin, TrustError> {
    match (served, invite_fingerprint) {
        (Some(served), Some(expected)) if fingerprint(&served) == expected => {
            Ok(Pin::Key(PinnedKey::new(&served, PinnedBy::Invite)))
        }
        (Some(_), Some(_)) => Err(TrustError::FingerprintMismatch),
        (Some(served), None) => Ok(Pin::Key(PinnedKey::new(&served, PinnedBy::FirstUse))),
        (None, Some(_)) => Err(TrustError::NoPracticeKey),
        (None, None) if role == Role::PracticeAdmin => Ok(Pin::Make(PracticeKey::generate())),
        (None, None) => Ok(Pin::Later),
    }
}

impl Pin {
    /// Carries the decision out once the cache exists: a new key is kept in
    /// it and its public half set at the hub.
    pub(super) async fn keep(self, store: &mut Store, hub: &HubClient) -> Result<Option<PinnedKey>, WorkstationError> {
        match self {
            Pin::Key(pinned) => Ok(Some(pinned)),
            Pin::Make(key) => {
                key.save(store)?;
                key.publish(hub).await?;
                Ok(Some(PinnedKey::new(&key.public(), PinnedBy::OwnKey)))
            }
            Pin::Later => Ok(None),
        }
    }
}

/// For a workstation enrolled before its practice had a key: the key the
/// hub serves now, pinned as first seen (`None`: still none).
pub(super) async fn pin_first_use(hub: &HubClient) -> Result<Option<PinnedKey>, WorkstationError> {
    Ok(served_practice_key(hub).await?.map(|k| PinnedKey::new(&k, PinnedBy::FirstUse)))
}

impl Desk {
    /// The pinned key's fingerprint (`None`: not pinned yet).
    pub fn practice_fingerprint(&self) -> Option<String> {
        self.profile.practice_key.as_ref().and_then(|p| p.fingerprint().ok())
    }

    /// The pinned key as Settings shows it.
    pub(super) fn practice_key_view(&self) -> Option<PracticeKeyView> {
        let pinned = self.profile.practice_key.as_ref()?;
        let pinned_by = match pinned.pinned_by {
            PinnedBy::OwnKey => "Made on this workstation when the practice was set up.",
            PinnedBy::Invite => "Checked against the fingerprint in this workstation's invite.",
            PinnedBy::FirstUse => {
                "Taken from the practice hub at enrolment: compare it with your practice admin's before you rely on it."
            }
        };
        Some(PracticeKeyView { fingerprint: pinned.fingerprint().ok()?, pinned_by: pinned_by.to_owned() })
    }

    /// The directory as the hub serves it, checked under the pinned key,
    /// with this device's own entry checked (see the module docs).
    pub async fn directory(&self) -> Result<Directory, WorkstationError> {
        let pinned = self.profile.practice_key.as_ref().ok_or(TrustError::NoKeyHere)?;
        let dir = fetch_directory(&self.hub, &self.profile.practice_id, pinned.key()?).await?;
        if let Some(me) = dir.device(&self.profile.device_id) {
            let x25519 = PublicKey::from(&self.device.x25519);
            if me.x25519 != *x25519.as_bytes() || me.ed25519 != self.device.ed25519.verifying_key().to_bytes() {
                return Err(TrustError::DeviceKeysDiffer.into());
            }
        }
        Ok(dir)
    }

    /// Opens the pool keys the hub sealed to this device, keeping only
    /// those the directory vouches for (a pinned workstation), and returns
    /// the keys replies are sealed to.
    pub(super) async fn take_pool_keys(
        &mut self,
        sealed: &sealbox_model::hub_api::auth::SealedPoolKeys,
    ) -> Result<PracticeKeys, WorkstationError> {
        let (practice, device_id) = (self.profile.practice_id.clone(), self.profile.device_id.clone());
        if self.profile.practice_key.is_none() {
            // Not pinned yet (the practice has no key): as before issue 21.
            self.pool_keys.open_all(&practice, &device_id, &self.device.x25519, sealed)?;
            return Ok(self.hub.practice_keys().await?);
        }
        let dir = self.directory().await?;
        // Keys this desk already holds (the admin's own) are checked too.
        for (pool, version, public) in self.pool_keys.public_keys() {
            if dir.pool_key_version(pool, version) != Some(*public.as_bytes()) {
                return Err(unvouched(pool, version));
            }
        }
        let mut opened = Vec::with_capacity(sealed.keys.len());
        for blob in &sealed.keys {
            let secret = open(&practice, &device_id, &self.device.x25519, blob)?;
            if dir.pool_key_version(blob.pool, blob.key_version) != Some(*PublicKey::from(&secret).as_bytes()) {
                return Err(unvouched(blob.pool, blob.key_version));
            }
            opened.push((blob.pool, blob.key_version, secret));
        }
        for (pool, version, secret) in opened {
            self.pool_keys.insert(pool, version, secret);
        }
        let pools = Pool::ALL
            .iter()
            .filter_map(|pool| {
                dir.pool_key(*pool).map(|(version, public)| PoolPublicKey {
                    pool: *pool,
                    x25519_public: Base64Bytes(public.to_vec()),
                    key_version: version,
                })
            })
            .collect();
        Ok(PracticeKeys { practice_id: practice, pools })
    }
}

fn unvouched(pool: Pool, version: u32) -> WorkstationError {
    TrustError::UnvouchedPoolKey { pool: pool.key(), version }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> VerifyingKey {
        PracticeKey::generate().public()
    }

    #[test]
    fn the_invites_fingerprint_must_match_the_served_key() {
        let served = key();
        let fp = fingerprint(&served);
        assert!(matches!(
            decide_pin(Some(served), Role::Gp, Some(&fp)),
            Ok(Pin::Key(PinnedKey { pinned_by: PinnedBy::Invite, .. }))
        ));
        let other = fingerprint(&key());
        assert!(matches!(decide_pin(Some(served), Role::Gp, Some(&other)), Err(TrustError::FingerprintMismatch)));
        assert!(matches!(
            decide_pin(Some(served), Role::PracticeAdmin, Some(&other)),
            Err(TrustError::FingerprintMismatch)
        ));
        assert!(matches!(decide_pin(None, Role::PracticeAdmin, Some(&fp)), Err(TrustError::NoPracticeKey)));
    }

    #[test]
    fn only_an_admin_makes_the_key_and_only_when_the_practice_has_none() {
        assert!(matches!(decide_pin(None, Role::PracticeAdmin, None), Ok(Pin::Make(_))));
        assert!(matches!(decide_pin(None, Role::Gp, None), Ok(Pin::Later)));
        assert!(matches!(
            decide_pin(Some(key()), Role::PracticeAdmin, None),
            Ok(Pin::Key(PinnedKey { pinned_by: PinnedBy::FirstUse, .. }))
        ));
    }
}
