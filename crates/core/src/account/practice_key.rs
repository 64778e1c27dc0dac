//! The practice key on an admin's workstation: an Ed25519 key made once,
//! kept inside the encrypted cache (so it opens only with the admin's
//! security key), its public half set at the hub, and used to sign the
//! practice's key directory (`sealbox_crypto::directory`). The hub never
//! holds the private half. [`fetch_directory`] is what any device does:
//! the hub's statements, replayed under the key the device pinned.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::Method;
use sealbox_crypto::directory::{fingerprint, Directory, DirectoryError, Entry, Statement};
use sealbox_crypto::ed25519_dalek::{SigningKey, VerifyingKey};
use sealbox_crypto::seal::{open_sealed, seal_to};
use sealbox_crypto::secret::random_bytes;
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::hub_api::{
    Base64Bytes, DirectoryPage, DirectoryPost, PracticeSigningKey, StatementRecord,
};
use zeroize::Zeroizing;

use crate::store::{Store, StoreError};
use crate::sync::client::HubClient;
use crate::sync::SyncError;

const SETTING: &str = "practice_signing_key";

/// Why the directory could not be read or extended. Log-safe: ids and
/// sequence numbers only.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The hub refused or could not be reached.
    #[error(transparent)]
    Hub(#[from] SyncError),
    /// A statement from the hub, or a head kept here, is not well formed.
    #[error("a key directory record is malformed ({0})")]
    Malformed(&'static str),
    /// A statement breaks the chain's rules, or is not signed by the
    /// practice key this device pinned.
    #[error(transparent)]
    Refused(#[from] DirectoryError),
    /// The cache could not keep the key.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Renewal questions the practice may not publish.
    #[error(transparent)]
    RenewalQuestions(#[from] sealbox_crypto::renewal_questions::RenewalQuestionsRefused),
    /// The invite named a practice key and the hub serves another.
    #[error(
        "the practice key this hub serves does not match the fingerprint in your invite; do not use this hub and tell your practice admin"
    )]
    FingerprintMismatch,
    /// The invite named a practice key and the hub serves none.
    #[error("your invite names a practice key but this hub has none; tell your practice admin")]
    NoPracticeKey,
    /// The hub serves another practice key than the one pinned here.
    #[error(
        "the practice hub now presents a different practice key from the one this workstation trusts; tell your practice admin"
    )]
    KeyChanged,
    /// A pool key sealed to this device is not in the signed directory.
    #[error(
        "the hub gave this device a {pool} pool key (version {version}) that the practice's signed key directory does not vouch for; it was not used; tell your practice admin"
    )]
    UnvouchedPoolKey {
        /// The pool.
        pool: &'static str,
        /// The key's version.
        version: u32,
    },
    /// The directory binds this device to keys it does not hold.
    #[error(
        "the practice's key directory binds this device to other keys than its own; tell your practice admin"
    )]
    DeviceKeysDiffer,
    /// The hub serves a shorter or other chain than this device verified.
    #[error(
        "the practice hub shows an older key directory (up to statement {served}) than this workstation verified (statement {seen}); tell your practice admin"
    )]
    RolledBack {
        /// The head this device verified before.
        seen: u64,
        /// The head the hub serves now.
        served: u64,
    },
    /// The practice key shared with this device is not the pinned one.
    #[error(
        "the practice key shared with this workstation is not the one it trusts; it was not kept; tell your practice admin"
    )]
    SharedKeyDiffers,
    /// The practice key is shared only with an approved admin's device.
    #[error("the practice key can be shared only with an approved practice admin's device")]
    NotAnAdminDevice,
    /// An admin's task needs the practice key, which this workstation does not hold.
    #[error("this workstation does not hold the practice key; use the practice admin's workstation")]
    NoKeyHere,
}

impl TrustError {
    /// A short key for the audit chain.
    pub fn key(&self) -> &'static str {
        match self {
            TrustError::Hub(_) => "hub",
            TrustError::Malformed(_) => "malformed",
            TrustError::Refused(DirectoryError::Fork { .. }) => "fork",
            TrustError::Refused(_) => "statement_refused",
            TrustError::Store(_) => "store",
            TrustError::FingerprintMismatch => "fingerprint_mismatch",
            TrustError::NoPracticeKey => "no_practice_key",
            TrustError::KeyChanged => "key_changed",
            TrustError::UnvouchedPoolKey { .. } => "unvouched_pool_key",
            TrustError::DeviceKeysDiffer => "device_keys_differ",
            TrustError::RolledBack { .. } => "rolled_back",
            TrustError::NoKeyHere => "no_key_here",
            TrustError::SharedKeyDiffers => "shared_key_differs",
            TrustError::NotAnAdminDevice => "not_an_admin_device",
            TrustError::RenewalQuestions(_) => "renewal_questions",
        }
    }
}

/// How this workstation came to trust the practice key it pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinnedBy {
    /// It made the key: the practice's first admin, at set-up.
    OwnKey,
    /// The invite carried the key's fingerprint and the hub's key had it.
    Invite,
    /// The invite carried no fingerprint: the key the hub served at first
    /// contact (two people compare the fingerprint in Settings).
    FirstUse,
}

/// The practice key a workstation pinned: every key it seals to, and every
/// device it trusts, must be signed under it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedKey {
    /// The Ed25519 public key.
    pub ed25519_public: Base64Bytes,
    /// How it came to be trusted.
    pub pinned_by: PinnedBy,
}

impl PinnedKey {
    /// Pins `key`.
    pub fn new(key: &VerifyingKey, pinned_by: PinnedBy) -> Self {
        PinnedKey { ed25519_public: Base64Bytes(key.as_bytes().to_vec()), pinned_by }
    }

    /// The key, to check statements under.
    pub fn key(&self) -> Result<VerifyingKey, TrustError> {
        verifying_key(&self.ed25519_public)
    }

    /// Its fingerprint, as people read it.
    pub fn fingerprint(&self) -> Result<String, TrustError> {
        Ok(fingerprint(&self.key()?))
    }
}

fn verifying_key(bytes: &Base64Bytes) -> Result<VerifyingKey, TrustError> {
    let raw: [u8; 32] = bytes.0.as_slice().try_into().map_err(|_| TrustError::Malformed("practice key"))?;
    VerifyingKey::from_bytes(&raw).map_err(|_| TrustError::Malformed("practice key"))
}

/// The practice's signing key. `Debug` shows only its fingerprint.
pub struct PracticeKey(SigningKey);

impl std::fmt::Debug for PracticeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PracticeKey").field(&self.fingerprint()).finish()
    }
}

impl PracticeKey {
    /// A new key (the first admin, at practice set-up).
    pub fn generate() -> Self {
        PracticeKey(SigningKey::from_bytes(&random_bytes::<32>()))
    }

    /// The public half: what devices pin.
    pub fn public(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The public half's fingerprint, as people read it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public())
    }

    /// Keeps it in the (encrypted) cache.
    pub fn save(&self, store: &mut Store) -> Result<(), StoreError> {
        let value = Zeroizing::new(STANDARD.encode(self.0.to_bytes()));
        store.write(|w| w.set_setting(SETTING, &value))
    }

    /// The key kept in the cache, if this workstation holds it.
    pub fn load(store: &Store) -> Result<Option<Self>, StoreError> {
        let Some(value) = store.setting(SETTING)? else { return Ok(None) };
        let value = Zeroizing::new(value);
        let bytes = Zeroizing::new(
            STANDARD
                .decode(value.as_bytes())
                .map_err(|_| StoreError::Api("the practice key is malformed"))?,
        );
        let bytes: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| StoreError::Api("the practice key is malformed"))?;
        Ok(Some(PracticeKey(SigningKey::from_bytes(&bytes))))
    }

    /// Signs `entry` as the statement after `head` of `practice`'s directory.
    pub fn sign(&self, practice: &str, head: (u64, [u8; 32]), entry: Entry) -> Statement {
        Statement::sign(&self.0, practice, head, entry)
    }

    /// The key sealed to another admin's device (`device_x25519`, as the
    /// directory binds it), bound to the practice and the device.
    pub fn seal_for(
        &self,
        practice: &str,
        device: &str,
        device_x25519: &[u8; 32],
    ) -> Result<Vec<u8>, TrustError> {
        let secret = Zeroizing::new(self.0.to_bytes());
        seal_to(
            &mut rand::rngs::OsRng,
            &PublicKey::from(*device_x25519),
            secret.as_slice(),
            &share_aad(practice, device),
        )
        .map_err(|_| TrustError::Malformed("the device's X25519 key"))
    }

    /// Opens a share sealed to this device; kept only if its public half is
    /// `pinned` (a hub cannot hand a device a key of its own).
    pub fn open_share(
        practice: &str,
        device: &str,
        device_secret: &StaticSecret,
        sealed: &[u8],
        pinned: &VerifyingKey,
    ) -> Result<Self, TrustError> {
        let bytes = open_sealed(device_secret, sealed, &share_aad(practice, device))
            .map_err(|_| TrustError::Malformed("the practice key shared with this device"))?;
        let raw: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| TrustError::Malformed("the practice key shared with this device"))?;
        let key = PracticeKey(SigningKey::from_bytes(&raw));
        if key.public() != *pinned {
            return Err(TrustError::SharedKeyDiffers);
        }
        Ok(key)
    }

    /// Signs `questions` as `practice`'s renewal questions and publishes
    /// them at the hub (which keeps only a higher version than it holds).
    pub async fn publish_renewal_questions(
        &self,
        hub: &HubClient,
        practice: &str,
        questions: &sealbox_model::renewal::RenewalQuestions,
    ) -> Result<(), TrustError> {
        let signed = sealbox_crypto::renewal_questions::sign(&self.0, practice, questions)?;
        hub.call::<_, serde_json::Value>(Method::PUT, "/v1/practice/renewal-questions", Some(&signed))
            .await?;
        Ok(())
    }

    /// Sets the public half at the hub (once; the same key again is fine).
    pub async fn publish(&self, hub: &HubClient) -> Result<(), SyncError> {
        let body = PracticeSigningKey { ed25519_public: Base64Bytes(self.public().as_bytes().to_vec()) };
        hub.call::<_, serde_json::Value>(Method::PUT, "/v1/practice/signing-key", Some(&body)).await.map(drop)
    }

    /// Signs `entries` as the next statements of `practice`'s directory
    /// (after the chain the hub holds, checked first under this key) and
    /// appends them; returns the directory with them.
    pub async fn append(
        &self,
        hub: &HubClient,
        practice: &str,
        entries: Vec<Entry>,
    ) -> Result<Directory, TrustError> {
        let mut dir = fetch_directory(hub, practice, self.public()).await?;
        let mut statements = Vec::with_capacity(entries.len());
        for entry in entries {
            let s = self.sign(practice, dir.head(), entry);
            dir.apply(&s)?;
            statements.push(s);
        }
        let body = DirectoryPost { statements: statements.iter().map(StatementRecord::from).collect() };
        hub.call::<_, serde_json::Value>(Method::POST, "/v1/directory", Some(&body)).await?;
        Ok(dir)
    }
}

/// The practice key the hub serves, if it holds one (what a new device
/// pins, after checking it against its invite).
pub async fn served_practice_key(hub: &HubClient) -> Result<Option<VerifyingKey>, TrustError> {
    fetch_page(hub).await?.practice_key.as_ref().map(verifying_key).transpose()
}

async fn fetch_page(hub: &HubClient) -> Result<DirectoryPage, TrustError> {
    Ok(hub
        .call::<(), DirectoryPage>(Method::GET, "/v1/directory?after=0", None)
        .await?
        .ok_or(SyncError::Protocol("the hub sent no body where one is required"))?)
}

/// What a shared practice key is bound to.
fn share_aad(practice: &str, device: &str) -> Vec<u8> {
    let mut ad = b"sealbox/practice-key-share/v1".to_vec();
    for part in [practice.as_bytes(), device.as_bytes()] {
        ad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        ad.extend_from_slice(part);
    }
    ad
}

/// The practice's directory as the hub serves it, every statement checked
/// under `pinned` (never under the key the hub serves beside them, which
/// must be the same).
pub async fn fetch_directory(
    hub: &HubClient,
    practice: &str,
    pinned: VerifyingKey,
) -> Result<Directory, TrustError> {
    let page = fetch_page(hub).await?;
    if let Some(served) = &page.practice_key {
        if served.0.as_slice() != pinned.as_bytes() {
            return Err(TrustError::KeyChanged);
        }
    }
    let mut dir = Directory::new(practice, pinned);
    for record in &page.statements {
        dir.apply(&Statement::try_from(record).map_err(TrustError::Malformed)?)?;
    }
    Ok(dir)
}
