//! The workstation: one clinician's enrolled desktop, locked or open.
//!
//! - [`Workstation::enrol`]: invite code → the security key registered with
//!   the hub's relying party → a touch for this device's salt → KEK (HKDF of
//!   hmac-secret) → a new data key wrapped into the OS keyring and a new
//!   encrypted cache → device key pairs (kept in the cache) uploaded → the
//!   profile written.
//! - [`Workstation::unlock`]: a touch verified by the hub (online: a new
//!   session) or by webauthn-rs here against the enrolled credential
//!   (offline) → hmac-secret → KEK → data key → cache open → pool keys the
//!   admin sealed to this device opened → a [`Desk`] ready to sync.
//! - [`Desk::lock`]: the hub session ended, the cache closed, every key
//!   dropped (zeroized).
//!
//! A key without hmac-secret is used only if the practice's policy allows
//! it (the challenge of enrolment carries the policy; every online unlock
//! asks again): the weaker keyring mode, where the KEK is a random key in
//! the OS keyring released after a touch the hub or this device verified
//! (`key::fallback`). It is named in the profile, the audit chain and the UI.
//!
//! Every unlock, lock and failed attempt goes into the audit chain (failed
//! attempts at the next unlock: a locked cache cannot be written), and so
//! does every key from the hub that the practice's signed directory does
//! not vouch for (`trust.rs`: the unlock is refused).

mod activity;
mod admin;
pub mod attachment;
pub mod cover;
pub mod note;
pub mod patient_invite;
mod profile;
pub mod refill;
pub mod refill_history;
mod repeats;
pub mod reply;
pub mod room;
pub mod settings;
mod share;
mod staff;
mod thread;
mod triage;
mod trust;
pub mod undo;
mod view;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;

use sealbox_crypto::secret::random_bytes;
use sealbox_model::hub_api::auth::{SealedPoolKeys, Session as HubSession};
use sealbox_model::invite::{InviteText, InviteTextError};
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;
use sealbox_model::role::Role;
use zeroize::Zeroizing;

pub use profile::{origin_of, Profile, PROFILE_FILE};

use crate::account::device::DeviceSecrets;
use crate::account::pool_keys::{HeldPoolKeys, PoolKeyError};
use crate::account::practice_key::{served_practice_key, TrustError};
use crate::audit;
use crate::cache::{self, CacheConfig, CacheError};
use crate::key::fallback::{choose_mode, KeyMode, KeyPolicy, KeyringKek};
use crate::key::local::{LocalVerifier, VerifiedTouch};
use crate::key::{DerivedKek, KeyError, SecurityKey};
use crate::lock::throttle::{TryLater, UnlockThrottle};
use crate::store::{Store, StoreError};
use crate::sync::client::HubClient;
use crate::sync::engine::Engine;
use crate::sync::plan::TriageRules;
use crate::sync::{SharedStore, SyncError};
use crate::vault::Keyring;
use crate::vault::{KekSource, VaultError};

/// The audit entry naming the demo's software key, at enrolment (the
/// profile and the lock screen name it on every unlock).
const DEMO_KEY_AUDIT: &str = "demo_software_key";

/// Why enrolment, unlock or lock failed. Each says what to do; none carries
/// keys, tokens or patient data.
#[derive(Debug, thiserror::Error)]
pub enum WorkstationError {
    /// The inbox was asked for a queue or category that does not exist.
    #[error("there is no such queue or category")]
    UnknownQueue,
    /// This workstation has no enrolment yet.
    #[error("this workstation is not enrolled yet; enrol with an invite code from your practice admin")]
    NotEnrolled,
    /// It is enrolled already.
    #[error("this workstation is already enrolled")]
    AlreadyEnrolled,
    /// Removing a colleague from a shared workstation is a practice
    /// admin's, and nobody removes themselves.
    #[error("only a practice admin may remove a clinician from this workstation, and never themselves")]
    MayNotRemove,
    /// No clinician by that id is enrolled here.
    #[error("no clinician by that id is enrolled on this workstation")]
    NotInRoom,
    /// The key did not answer as needed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Too many failed attempts in a row.
    #[error(transparent)]
    TryLater(#[from] TryLater),
    /// The hub refused the key (not this clinician's, or revoked).
    #[error("the practice hub did not accept this security key")]
    HubRefused,
    /// The practice no longer allows this key's weaker keyring mode.
    #[error(
        "your practice no longer allows security keys without hmac-secret; ask your practice admin to enrol a key that has it"
    )]
    WeakerKeyRefused,
    /// Offline for longer than the practice allows since the last unlock
    /// the hub verified (a revoked device stops opening here).
    #[error(
        "this workstation has not reached the practice hub for over {hours} hours, longer than your practice allows for unlocking offline; connect it to the practice network and unlock again"
    )]
    OfflineTooLong {
        /// The practice's allowance, in hours.
        hours: u32,
    },
    /// The OS keyring refused (the weaker mode's KEK).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The cache or keyring refused.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The cache refused a write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hub failed.
    #[error(transparent)]
    Hub(#[from] SyncError),
    /// Pool keys could not be opened.
    #[error(transparent)]
    PoolKeys(#[from] PoolKeyError),
    /// The device identity kept beside the cache could not be used.
    #[error(transparent)]
    Identity(#[from] crate::account::device::IdentityFileError),
    /// The profile file is not one Sealbox wrote.
    #[error("this workstation's profile file is damaged; enrol again")]
    ProfileCorrupt,
    /// A file could not be read or written.
    #[error("the data directory could not be used ({0})")]
    Io(std::io::ErrorKind),
    /// The cache is still in use by a task that was not stopped.
    #[error("the cache is still in use; stop syncing before locking")]
    Busy,
    /// The triage rules could not be loaded.
    #[error("the triage rules could not be loaded")]
    Rules,
    /// A reply was refused before it was queued.
    #[error(transparent)]
    Reply(#[from] reply::ReplyError),
    /// sealbox-model's rules refuse the change.
    #[error(transparent)]
    Rule(#[from] sealbox_model::error::RuleError),
    /// Settings outside what the practice allows.
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    /// Save to record refused or failed.
    #[error(transparent)]
    Record(#[from] crate::record::SaveToRecordError),
    /// A refill decision was refused before it was queued.
    #[error(transparent)]
    Refill(#[from] refill::RefillError),
    /// A key from the hub is not vouched for by the practice key.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The typed invite is not one.
    #[error(transparent)]
    Invite(#[from] InviteTextError),
    /// A note or a hand-over was refused before it was queued.
    #[error(transparent)]
    Note(#[from] note::NoteError),
    /// A patient's invite was not made.
    #[error(transparent)]
    PatientInvite(#[from] patient_invite::PatientInviteError),
    /// A triage decision was refused before it was queued.
    #[error(transparent)]
    Triage(#[from] sealbox_model::triage::TriageError),
    /// An undo was not done.
    #[error(transparent)]
    Undo(#[from] undo::UndoError),
    /// A date could not be read.
    #[error("that is not a date (year-month-day)")]
    BadDate,
    /// A merge was asked of a thread not linked as a repeat.
    #[error("this thread is not linked as a repeat of an open request")]
    NotARepeat,
    /// An attachment was not shown.
    #[error(transparent)]
    Attachment(#[from] attachment::AttachmentError),
}

impl WorkstationError {
    /// A short key for the audit log and the throttle.
    pub fn reason(&self) -> &'static str {
        match self {
            WorkstationError::Key(KeyError::WrongKey) => "wrong_key",
            WorkstationError::Key(KeyError::WrongPin) => "wrong_pin",
            WorkstationError::Key(KeyError::Cancelled) => "cancelled",
            WorkstationError::Key(_) => "key_failed",
            WorkstationError::HubRefused => "hub_refused",
            WorkstationError::Cache(CacheError::WrongKey) => "wrong_key",
            _ => "failed",
        }
    }

    /// True for failures that count towards the throttle (the person at the
    /// keyboard failed), not the machine's own trouble.
    fn is_attempt(&self) -> bool {
        matches!(
            self,
            WorkstationError::Key(_)
                | WorkstationError::HubRefused
                | WorkstationError::Cache(CacheError::WrongKey)
        )
    }
}

/// How the key was verified at unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// By the hub: the desk has a hub session.
    Online,
    /// By this device (the hub was out of reach): no hub session.
    Offline,
}

/// An enrolled (or not yet enrolled) workstation.
#[derive(Debug)]
pub struct Workstation {
    dir: PathBuf,
    keyring: Keyring,
    profile: Option<Profile>,
    throttle: UnlockThrottle,
}

impl Workstation {
    /// The workstation whose data lives in `dir`.
    pub fn open(dir: PathBuf, keyring: Keyring) -> Result<Self, WorkstationError> {
        let profile = Profile::load(&dir)?;
        let throttle = UnlockThrottle::load(&dir).map_err(|e| WorkstationError::Io(e.kind()))?;
        Ok(Workstation { dir, keyring, profile, throttle })
    }

    /// Its enrolment, if any.
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// How long, at `now`, before the next unlock attempt is allowed
    /// (zero: now).
    pub fn unlock_wait(&self, now: Timestamp) -> sealbox_model::jiff::SignedDuration {
        self.throttle.wait_left(now)
    }

    /// The data directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn cache_config(&self, profile: &Profile) -> CacheConfig {
        CacheConfig { data_dir: self.dir.clone(), context: profile.context() }
    }

    /// Enrols this workstation with an invite code (see the module docs) and
    /// returns it open. A key without hmac-secret only if the practice
    /// allows the weaker mode; refused before it is registered otherwise.
    pub async fn enrol(
        &mut self,
        hub_url: &str,
        invite_code: &str,
        device_name: &str,
        key: &mut (dyn SecurityKey + Send),
        now: Timestamp,
    ) -> Result<Desk, WorkstationError> {
        if self.profile.is_some() {
            return Err(WorkstationError::AlreadyEnrolled);
        }
        let invite = InviteText::parse(invite_code)?;
        let anon = HubClient::anonymous(hub_url)?;
        let challenge = anon.enrol_start(&invite.code, device_name).await?;
        let policy = challenge.policy;
        let mode = choose_mode(key, KeyPolicy::from(policy))?;
        let rp_id = challenge.options.public_key.rp.id.clone();
        let origin = origin_of(&rp_id)?;
        let credential = key.register(&origin, challenge.options)?;
        let enrolled = anon.enrol_finish(challenge.ceremony_id, credential).await.map_err(|e| {
            if is_demo_key_refusal(&e) {
                KeyError::DemoKeyRefused.into()
            } else {
                WorkstationError::from(e)
            }
        })?;

        let salt = random_bytes::<32>();
        let asked = (mode == KeyMode::HmacSecret).then_some(&salt);
        let (session, output) = hub_sign_in(&anon, key, &origin, &enrolled.user_id, asked).await?;
        let hub = HubClient::new(anon.base(), session.token.clone())?;
        // Checked before anything is written here: a hub whose key is not
        // the one the invite names gets no workstation.
        let pin = trust::decide_pin(
            served_practice_key(&hub).await?,
            enrolled.role,
            invite.fingerprint.as_deref(),
        )?;
        let mut profile = Profile {
            hub: anon.base().to_owned(),
            practice_id: session.practice_id.clone(),
            user_id: enrolled.user_id,
            username: enrolled.username,
            name: enrolled.name,
            registration: enrolled.registration,
            role: enrolled.role,
            device_id: enrolled.device_id,
            rp_id,
            passkey: enrolled.passkey,
            key_mode: mode,
            weaker_withdrawn: false,
            demo_key: key.is_demo(),
            demo_withdrawn: false,
            practice_key: None,
        };
        let cfg = self.cache_config(&profile);
        let kek: Box<dyn KekSource + Send> = match (mode, output) {
            (KeyMode::HmacSecret, Some(output)) => Box::new(DerivedKek::new(output, salt)),
            (KeyMode::HmacSecret, None) => return Err(KeyError::Unsupported("hmac-secret").into()),
            (KeyMode::KeyringFallback, _) => {
                Box::new(KeyringKek::create(&self.keyring, &cfg, VerifiedTouch::by_hub(&session))?)
            }
        };
        let unlocked = cache::enrol_with_salt(&cfg, &self.keyring, kek.as_ref(), salt, now)?;
        let device = DeviceSecrets::generate();
        device.save_sealed(&self.dir, unlocked.session.data_key(), &cfg.context)?;
        let mut store = unlocked.session.into_store();
        device.save(&mut store)?;
        hub.upload_device_keys(&device.public()).await?;
        profile.practice_key = pin.keep(&mut store, &hub).await?;
        profile.save(&self.dir)?;
        store.write(|w| {
            audit::set_device(w, &profile.device_id)?;
            audit::append(w, now, &profile.user_id, "enrol", &profile.device_id)?;
            if mode == KeyMode::KeyringFallback {
                audit::append(
                    w,
                    now,
                    &profile.user_id,
                    &format!("key_mode:{}", mode.key()),
                    &profile.device_id,
                )?;
            }
            if profile.demo_key {
                audit::append(w, now, &profile.user_id, DEMO_KEY_AUDIT, &profile.device_id)?;
            }
            Ok::<_, StoreError>(())
        })?;
        let desk = Desk::new(profile.clone(), store, Verified::Online, hub)?;
        // The policy came with the enrolment challenge.
        desk.keep_policy(policy, now)?;
        desk.mark_online_unlock(now)?;
        self.profile = Some(profile);
        Ok(desk)
    }

    /// Unlocks with one touch of the enrolled key (see the module docs).
    /// Failed attempts are counted; after five, a growing wait.
    pub async fn unlock(
        &mut self,
        key: &mut (dyn SecurityKey + Send),
        now: Timestamp,
    ) -> Result<Desk, WorkstationError> {
        self.throttle.check(now)?;
        match self.try_unlock(key, now).await {
            Ok(mut desk) => {
                let failures = self.throttle.succeeded();
                if !failures.is_empty() {
                    // They go into the audit chain just below; the file
                    // must not hand them over again. (Nothing failed:
                    // nothing changed, no write.)
                    let _ = self.throttle.save(&self.dir);
                }
                let user = desk.profile.user_id.clone();
                let device = desk.profile.device_id.clone();
                let how = match (desk.verified, desk.profile.key_mode) {
                    (Verified::Online, KeyMode::HmacSecret) => "unlock",
                    (Verified::Offline, KeyMode::HmacSecret) => "unlock_offline",
                    (Verified::Online, mode) => &format!("unlock:{}", mode.key()),
                    (Verified::Offline, mode) => &format!("unlock_offline:{}", mode.key()),
                };
                desk.store_mut().write(|w| {
                    for f in &failures {
                        audit::append(w, f.at, &user, &format!("unlock_failed:{}", f.reason), &device)?;
                    }
                    audit::append(w, now, &user, how, &device)
                })?;
                Ok(desk)
            }
            Err(e) => {
                if e.is_attempt() {
                    self.throttle.failed(now, e.reason());
                    // Kept on the disk so a restart neither resets the wait
                    // nor loses the failure from the audit trail; if the
                    // disk refuses, the count still holds while the app runs.
                    let _ = self.throttle.save(&self.dir);
                }
                Err(e)
            }
        }
    }

    async fn try_unlock(
        &mut self,
        key: &mut (dyn SecurityKey + Send),
        now: Timestamp,
    ) -> Result<Desk, WorkstationError> {
        let mut profile = self.profile.clone().ok_or(WorkstationError::NotEnrolled)?;
        let cfg = self.cache_config(&profile);
        let salt = cache::device_salt(&cfg, &self.keyring)?;
        let origin = profile.origin()?;
        let anon = HubClient::anonymous(&profile.hub)?;
        let weaker = profile.key_mode == KeyMode::KeyringFallback;
        let asked = (!weaker).then_some(&salt);
        // The practice's policy, when this unlock already asked for it.
        let mut fetched = None;
        let (session, kek): (_, Box<dyn KekSource + Send>) =
            match hub_sign_in(&anon, key, &origin, &profile.user_id, asked).await {
                Ok((session, _)) if weaker => {
                    // The practice may have withdrawn the weaker mode since.
                    let hub = HubClient::new(&profile.hub, session.token.clone())?;
                    let policy = hub.practice_policy().await?;
                    fetched = Some(policy);
                    let allowed = policy.allow_weaker_keys;
                    if allowed == profile.weaker_withdrawn {
                        // Remembered here, so going offline does not get round it.
                        profile.weaker_withdrawn = !allowed;
                        profile.save(&self.dir)?;
                        self.profile = Some(profile.clone());
                    }
                    if !allowed {
                        let _ = hub.logout().await;
                        return Err(WorkstationError::WeakerKeyRefused);
                    }
                    let kek = KeyringKek::release(&self.keyring, &cfg, VerifiedTouch::by_hub(&session))?;
                    (Some(session), Box::new(kek))
                }
                Ok((session, output)) => {
                    if profile.demo_withdrawn {
                        // The hub let the demo key in again.
                        profile.demo_withdrawn = false;
                        profile.save(&self.dir)?;
                        self.profile = Some(profile.clone());
                    }
                    let output = output.ok_or(KeyError::Unsupported("hmac-secret"))?;
                    (Some(session), Box::new(DerivedKek::new(output, salt)))
                }
                Err(WorkstationError::Key(KeyError::DemoKeyRefused)) if profile.demo_key => {
                    // Remembered here, so going offline does not get round it.
                    if !profile.demo_withdrawn {
                        profile.demo_withdrawn = true;
                        profile.save(&self.dir)?;
                        self.profile = Some(profile.clone());
                    }
                    return Err(KeyError::DemoKeyRefused.into());
                }
                Err(WorkstationError::Hub(e)) if e.is_transient() => {
                    if (weaker && profile.weaker_withdrawn) || (profile.demo_key && profile.demo_withdrawn) {
                        return Err(if profile.demo_withdrawn {
                            KeyError::DemoKeyRefused.into()
                        } else {
                            WorkstationError::WeakerKeyRefused
                        });
                    }
                    let local = LocalVerifier::new(&profile.rp_id, &origin)?;
                    let kek: Box<dyn KekSource + Send> = if weaker {
                        let touch = local.verify(key, &mut profile.passkey)?;
                        Box::new(KeyringKek::release(&self.keyring, &cfg, touch)?)
                    } else {
                        Box::new(DerivedKek::new(local.sign_in(key, &mut profile.passkey, &salt)?, salt))
                    };
                    // The counter advanced: keep it, so a cloned key is caught.
                    profile.save(&self.dir)?;
                    self.profile = Some(profile.clone());
                    (None, kek)
                }
                Err(e) => return Err(e),
            };
        let unlocked = cache::unlock(&cfg, &self.keyring, kek.as_ref(), now)?;
        let (store, notice) = self.keep_identity(&cfg, &profile, unlocked, now)?;
        let verified = if session.is_some() { Verified::Online } else { Verified::Offline };
        let (token, counts_token) = session.map(|s| (s.token, Some(s.counts_token))).unwrap_or_default();
        let hub = HubClient::new(&profile.hub, token)?;
        if verified == Verified::Online && profile.practice_key.is_none() {
            // Enrolled before the practice had a key: pinned as first seen.
            if let Some(pin) = trust::pin_first_use(&hub).await? {
                profile.practice_key = Some(pin);
                profile.save(&self.dir)?;
                self.profile = Some(profile.clone());
            }
        }
        let mut desk = Desk::new(profile, store, verified, hub)?;
        desk.counts_token = counts_token.map(Zeroizing::new);
        desk.notice = notice;
        if desk.verified == Verified::Online {
            if let Err(e) = desk.refresh_pool_keys().await {
                if let WorkstationError::Trust(refused) = &e {
                    // A security event: kept in the audit chain (the desk,
                    // and every key it opened, is dropped all the same).
                    let (user, device) = (desk.profile.user_id.clone(), desk.profile.device_id.clone());
                    let action = format!("trust_refused:{}", refused.key());
                    desk.store_mut().write(|w| audit::append(w, now, &user, &action, &device))?;
                }
                return Err(e);
            }
            match fetched {
                Some(policy) => desk.keep_policy(policy, now)?,
                None => desk.refresh_policy_or_keep(now).await?,
            }
            desk.refresh_staff().await?;
            desk.mark_online_unlock(now)?;
        } else {
            // Refused after the cache opened: the policy and the last online
            // unlock live in it. The refusal is audited; the desk is dropped.
            desk.check_offline_allowance(now)?;
        }
        Ok(desk)
    }
}

impl Workstation {
    /// The device's identity survives a damaged cache: read from the cache,
    /// or (a cache set aside and started anew) restored from the sealed copy
    /// beside it, audited as `cache_rebuilt`, with what the clinician must
    /// know. A cache from before the sealed copy existed gets one now.
    fn keep_identity(
        &self,
        cfg: &CacheConfig,
        profile: &Profile,
        unlocked: cache::Unlocked,
        now: Timestamp,
    ) -> Result<(Store, Option<String>), WorkstationError> {
        let cache::Unlocked { mut session, quarantined } = unlocked;
        let held = DeviceSecrets::load(session.store())?;
        let notice = match held {
            Some(device) => {
                if !self.dir.join(crate::account::device::IDENTITY_FILE).exists() {
                    device.save_sealed(&self.dir, session.data_key(), &cfg.context)?;
                }
                quarantined.map(|q| q.user_message())
            }
            None => {
                // Nothing to rebuild from but the sealed copy; without it
                // the enrolment is lost and only a new one helps.
                let device = DeviceSecrets::load_sealed(&self.dir, session.data_key(), &cfg.context)?
                    .ok_or(WorkstationError::ProfileCorrupt)?;
                let store = session.store();
                device.save(store)?;
                store.write(|w| {
                    audit::set_device(w, &profile.device_id)?;
                    audit::append(w, now, &profile.user_id, "cache_rebuilt", &profile.device_id)
                })?;
                Some(quarantined.map_or_else(
                    || "This computer's copy of the inbox was started anew; messages are fetched again from the practice hub.".to_owned(),
                    |q| q.user_message(),
                ))
            }
        };
        Ok((session.into_store(), notice))
    }
}

/// One touch verified by the hub: a session, and the hmac-secret output
/// for `salt` when one is asked for.
async fn hub_sign_in(
    anon: &HubClient,
    key: &mut (dyn SecurityKey + Send),
    origin: &webauthn_rs::prelude::Url,
    user_id: &str,
    salt: Option<&[u8; 32]>,
) -> Result<(HubSession, Option<Zeroizing<[u8; 32]>>), WorkstationError> {
    let challenge = anon.login_start(user_id).await.map_err(refused)?;
    let assertion = key.sign_in(origin, challenge.options, salt)?;
    if salt.is_some() && assertion.hmac_secret.is_none() {
        return Err(KeyError::Unsupported("hmac-secret").into());
    }
    let session = anon.login_finish(challenge.ceremony_id, assertion.credential).await.map_err(refused)?;
    Ok((session, assertion.hmac_secret))
}

/// A 4xx at login means the hub refused this key or clinician.
fn refused(e: SyncError) -> WorkstationError {
    match e {
        e @ SyncError::Status { .. } if is_demo_key_refusal(&e) => KeyError::DemoKeyRefused.into(),
        SyncError::SessionEnded => WorkstationError::HubRefused,
        SyncError::Status { status, .. } if (400..500).contains(&status) && status != 429 => {
            WorkstationError::HubRefused
        }
        other => WorkstationError::Hub(other),
    }
}

/// The hub refused the demo's software key (its practice does not allow it).
fn is_demo_key_refusal(e: &SyncError) -> bool {
    matches!(e, SyncError::Status { status: 403, code } if code == "demo_key_refused")
}

/// The open workstation: the cache, this device's keys, the pool keys it
/// holds and (when verified online) a hub session.
pub struct Desk {
    profile: Profile,
    store: Arc<SharedStore>,
    device: DeviceSecrets,
    pool_keys: HeldPoolKeys,
    verified: Verified,
    hub: HubClient,
    send_gate: Arc<tokio::sync::Mutex<()>>,
    rules: Arc<TriageRules>,
    /// The counts-only token of the hub session (none offline).
    counts_token: Option<Zeroizing<String>>,
    /// What the clinician must be told about this unlock (a cache set
    /// aside and rebuilt), shown above the inbox.
    notice: Option<String>,
    /// The last close or hand-over, which can be undone for a few seconds.
    last_action: std::sync::Mutex<Option<sealbox_model::undo::LastAction>>,
}

/// What a locked desktop keeps: a client holding the counts-only token
/// (`GET /v1/events` only, 12 hours) and the pools to count, for
/// `notify::locked::LockedWatch`. No key, no session, no patient data.
#[derive(Debug)]
pub struct CountsOnly {
    /// The hub, with the counts-only token.
    pub hub: HubClient,
    /// The clinician's role: the hub's events on this token count what it
    /// may read.
    pub role: Role,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("profile", &self.profile)
            .field("pools", &self.pool_keys)
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

impl Desk {
    fn new(
        profile: Profile,
        store: Store,
        verified: Verified,
        hub: HubClient,
    ) -> Result<Self, WorkstationError> {
        let device = DeviceSecrets::load(&store)?.ok_or(WorkstationError::ProfileCorrupt)?;
        let pool_keys = HeldPoolKeys::load(&store)?;
        Ok(Desk {
            profile,
            store: Arc::new(std::sync::Mutex::new(store)),
            device,
            pool_keys,
            verified,
            hub,
            send_gate: Arc::default(),
            rules: Arc::new(TriageRules::uk_default().map_err(|_| WorkstationError::Rules)?),
            counts_token: None,
            notice: None,
            last_action: std::sync::Mutex::new(None),
        })
    }

    /// What the clinician must be told about this unlock, if anything (a
    /// damaged cache set aside and rebuilt).
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Whose desk.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// This clinician as the rules and the hub name them.
    pub(crate) fn me(&self) -> sealbox_model::actor::StaffRef {
        sealbox_model::actor::StaffRef {
            id: sealbox_model::ids::StaffId(self.profile.user_id.clone()),
            role: self.profile.role,
        }
    }

    /// How the key was verified.
    pub fn verified(&self) -> Verified {
        self.verified
    }

    /// The pools whose messages this device can open.
    pub fn pools(&self) -> Vec<Pool> {
        self.pool_keys.pools()
    }

    /// The shared cache (for the UI's queries and the sync engine).
    pub fn store(&self) -> Arc<SharedStore> {
        Arc::clone(&self.store)
    }

    fn store_mut(&mut self) -> std::sync::MutexGuard<'_, Store> {
        crate::sync::lock(&self.store)
    }

    /// Fetches the pool keys sealed to this device and keeps them in the cache.
    pub async fn refresh_pool_keys(&mut self) -> Result<(), WorkstationError> {
        let sealed = match self.hub.my_pool_keys().await {
            Ok(sealed) => sealed,
            // Enrolled but not yet approved by the practice admin: no pool
            // key yet, nothing to read; the unlock itself stands.
            Err(SyncError::Status { status: 403, .. }) => SealedPoolKeys { keys: Vec::new() },
            Err(e) => return Err(e.into()),
        };
        // Only keys the practice's signed directory vouches for (once
        // pinned), and the directory's keys to seal replies to, kept for
        // sealing while offline.
        let published = self.take_pool_keys(&sealed).await?;
        let published =
            serde_json::to_string(&published).map_err(|_| SyncError::Protocol("practice keys"))?;
        let keys = &self.pool_keys;
        let mut store = crate::sync::lock(&self.store);
        keys.save(&mut store)?;
        store.write(|w| w.set_setting(reply::PRACTICE_KEYS_SETTING, &published))?;
        Ok(())
    }

    /// Outbox items not yet acknowledged by the hub (replies, notes,
    /// changes): what [`crate::update::may_install`] weighs.
    pub fn unsent(&self) -> Result<usize, WorkstationError> {
        Ok(crate::sync::lock(&self.store).outbox()?.len())
    }

    /// A sync engine for this desk (hub session, the pool keys held, the UK
    /// triage rules). Offline, its calls fail as unreachable until a new
    /// unlock verified by the hub.
    pub fn engine(&self) -> Result<Engine, WorkstationError> {
        Ok(Engine::new(self.hub.clone(), self.pool_keys.keyring(&self.profile.practice_id), self.rules())
            .with_audit(self.device.ed25519.clone())
            .with_send_gate(Arc::clone(&self.send_gate)))
    }

    /// The practice's triage rules (UK defaults until the hub serves them).
    pub fn rules(&self) -> Arc<TriageRules> {
        Arc::clone(&self.rules)
    }

    /// Appends `action` on `object` to this clinician's audit chain.
    pub(crate) fn audit(&self, action: &str, object: &str, now: Timestamp) -> Result<(), WorkstationError> {
        let user = &self.profile.user_id;
        crate::sync::lock(&self.store).write(|w| audit::append(w, now, user, action, object))?;
        Ok(())
    }

    /// The hub client of this desk's session.
    pub fn hub(&self) -> &HubClient {
        &self.hub
    }

    /// Locks: the lock is audited, the hub session ended (best effort: an
    /// unreachable hub ends it by idle timeout), the cache closed and every
    /// key dropped. Fails with [`WorkstationError::Busy`] if a sync task
    /// still holds the cache — stop it first. Returns what the locked
    /// desktop may keep to count new messages (when the unlock was online).
    pub async fn lock(self, reason: &str, now: Timestamp) -> Result<Option<CountsOnly>, WorkstationError> {
        let Desk { profile, store, device, pool_keys, verified, hub, counts_token, .. } = self;
        let mutex = Arc::try_unwrap(store).map_err(|_| WorkstationError::Busy)?;
        let mut store = mutex.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        let action = format!("lock:{reason}");
        let audited = store.write(|w| audit::append(w, now, &profile.user_id, &action, &profile.device_id));
        drop((device, pool_keys));
        let closed = store.close();
        if verified == Verified::Online {
            // The session ends; the counts-only token is kept for the
            // locked screen's blind notifications.
            let _ = hub.lock_session().await;
        }
        drop(hub);
        audited?;
        closed.map_err(WorkstationError::Store)?;
        match counts_token {
            Some(token) => Ok(Some(CountsOnly {
                hub: HubClient::new(&profile.hub, token.to_string())?,
                role: profile.role,
            })),
            None => Ok(None),
        }
    }
}
