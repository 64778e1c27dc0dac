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
//!   sealed to are the directory's, never the hub's unsigned list; the
//!   head must extend the one this device verified before and agree with
//!   every other device's signed claim (a fork shows), and this device's
//!   own claim is posted.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::Method;
use sealbox_crypto::directory::{fingerprint, Directory, HeadClaim};
use sealbox_crypto::ed25519_dalek::VerifyingKey;
use sealbox_crypto::x25519_dalek::PublicKey;
use sealbox_model::api::PracticeKeyView;
use sealbox_model::hub_api::{
    Base64Bytes, HeadRecord, HeadsPage, PoolPublicKey, PracticeKeys, SealedPracticeKey,
};
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;

use super::{Desk, WorkstationError};
use crate::account::pool_keys::open;
use crate::account::practice_key::{
    fetch_directory, served_practice_key, PinnedBy, PinnedKey, PracticeKey, TrustError,
};
use crate::store::Store;
use crate::sync::client::HubClient;
use crate::sync::SyncError;

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
    pub(super) async fn keep(
        self,
        store: &mut Store,
        hub: &HubClient,
    ) -> Result<Option<PinnedKey>, WorkstationError> {
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
            if me.x25519 != *x25519.as_bytes() || me.ed25519 != self.device.ed25519.verifying_key().to_bytes()
            {
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
        self.compare_heads(&dir).await?;
        self.take_shared_practice_key().await?;
        // Keys this desk already holds (the admin's own) are checked too.
        for (pool, version, public) in self.pool_keys.public_keys() {
            if dir.pool_key_version(pool, version) != Some(*public.as_bytes()) {
                return Err(unvouched(pool, version));
            }
        }
        let mut opened = Vec::with_capacity(sealed.keys.len());
        for blob in &sealed.keys {
            let secret = open(&practice, &device_id, &self.device.x25519, blob)?;
            if dir.pool_key_version(blob.pool, blob.key_version) != Some(*PublicKey::from(&secret).as_bytes())
            {
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

impl Desk {
    /// The directory's head against what this device verified before (the
    /// chain must extend it: a hub cannot roll back or rewrite what it
    /// showed) and against every other device's signed claim (the same
    /// hash where both reach: a fork shows); then this device's own claim
    /// posted and kept.
    async fn compare_heads(&self, dir: &Directory) -> Result<(), WorkstationError> {
        let practice = &self.profile.practice_id;
        let held = crate::sync::lock(&self.store).setting(HEAD_SETTING)?;
        if let Some(held) = held {
            let (seq, hash) = parse_head(&held)?;
            if !dir.check_head(seq, hash).map_err(TrustError::Refused)? {
                return Err(TrustError::RolledBack { seen: seq, served: dir.head().0 }.into());
            }
        }
        let heads = match self.hub.call::<(), HeadsPage>(Method::GET, "/v1/directory/heads", None).await {
            Ok(page) => page.map(|p| p.heads).unwrap_or_default(),
            // Waiting for approval: no claims to read or make yet.
            Err(SyncError::Status { status: 403, .. }) => return self.keep_head(dir),
            Err(e) => return Err(e.into()),
        };
        for record in heads.iter().filter(|h| h.device != self.profile.device_id) {
            // A claim the hub garbled, or from a device the directory does
            // not name, says nothing (the hub can withhold claims anyway).
            let Ok(claim) = HeadClaim::try_from(record) else { continue };
            let Some(device) = dir.device(&claim.device) else { continue };
            if claim.verify(practice, &device.ed25519) {
                dir.check_head(claim.seq, claim.hash).map_err(TrustError::Refused)?;
            }
        }
        let claim = HeadClaim::sign(&self.device.ed25519, practice, &self.profile.device_id, dir.head());
        self.hub
            .call::<_, serde_json::Value>(
                Method::POST,
                "/v1/directory/heads",
                Some(&HeadRecord::from(&claim)),
            )
            .await?;
        self.keep_head(dir)
    }

    fn keep_head(&self, dir: &Directory) -> Result<(), WorkstationError> {
        let (seq, hash) = dir.head();
        let value = format!("{seq}:{}", STANDARD.encode(hash));
        crate::sync::lock(&self.store).write(|w| w.set_setting(HEAD_SETTING, &value))?;
        Ok(())
    }
}

impl Desk {
    /// A second admin's workstation: the practice key another admin shared
    /// with it, kept (in the encrypted cache) only if it is the pinned key.
    async fn take_shared_practice_key(&self) -> Result<(), WorkstationError> {
        let Some(pinned) = &self.profile.practice_key else { return Ok(()) };
        if self.profile.role != Role::PracticeAdmin
            || PracticeKey::load(&crate::sync::lock(&self.store))?.is_some()
        {
            return Ok(());
        }
        let share = match self
            .hub
            .call::<(), SealedPracticeKey>(Method::GET, "/v1/devices/me/practice-key", None)
            .await
        {
            Ok(Some(share)) => share,
            // None shared (yet).
            Ok(None) | Err(SyncError::Status { status: 404, .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let key = PracticeKey::open_share(
            &self.profile.practice_id,
            &self.profile.device_id,
            &self.device.x25519,
            share.sealed.as_slice(),
            &pinned.key()?,
        )?;
        key.save(&mut crate::sync::lock(&self.store))?;
        Ok(())
    }
}

/// The setting holding the directory head this device last verified.
const HEAD_SETTING: &str = "directory.head";

fn parse_head(value: &str) -> Result<(u64, [u8; 32]), TrustError> {
    let malformed = || TrustError::Malformed("the directory head kept in the cache");
    let (seq, hash) = value.split_once(':').ok_or_else(malformed)?;
    let seq = seq.parse().map_err(|_| malformed())?;
    let hash = STANDARD.decode(hash).map_err(|_| malformed())?;
    Ok((seq, hash.as_slice().try_into().map_err(|_| malformed())?))
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
        assert!(matches!(
            decide_pin(Some(served), Role::Gp, Some(&other)),
            Err(TrustError::FingerprintMismatch)
        ));
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
