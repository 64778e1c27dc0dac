//! The cache's life cycle: enrol (make the data key and the cache), unlock
//! (keyring → KEK → DK → SQLCipher), lock, rekey, and wipe this device.

use sealbox_crypto::keywrap::{self, KeyWrapError, WrapContext};
use sealbox_crypto::secret::{random_bytes, SecretKey};
use sealbox_model::jiff::Timestamp;
use std::path::{Path, PathBuf};

use crate::data_dir::{self, DataDirError, CACHE_FILE};
use crate::store::open::{file_salt, file_shape, FileShape};
use crate::store::quarantine::{quarantine, QuarantineReason, Quarantined};
use crate::store::{self, database_files, Keying, Store, StoreError};
use crate::vault::{KekError, KekSource, KeyRecord, Keyring, VaultError, DEVICE_SALT_LEN};

/// Why enrolling, unlocking, rekeying or wiping failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// This device has no key record: enrol first.
    #[error("this device is not enrolled for this user")]
    NotEnrolled,
    /// This device already has a key record: wipe it before enrolling again.
    #[error("this device is already enrolled for this user")]
    AlreadyEnrolled,
    /// The key-encryption key did not unwrap the data key (wrong security
    /// key, or a record from another practice, user or device).
    #[error("wrong key: the security key does not unlock this device's cache")]
    WrongKey,
    /// The data key unwrapped but does not open the cache file that was made
    /// with it. The file is left untouched (it may hold unsent work).
    #[error("the cache key does not open this device's cache; the file was left untouched")]
    DataKeyMismatch,
    /// No KEK.
    #[error(transparent)]
    Kek(#[from] KekError),
    /// The keyring.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
}

fn unwrap_error(e: KeyWrapError) -> CacheError {
    match e {
        KeyWrapError::Rejected => CacheError::WrongKey,
        _ => CacheError::Vault(VaultError::RecordCorrupt),
    }
}

/// Where the cache is and whose it is.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// The data directory.
    pub data_dir: PathBuf,
    /// Practice, user and device (bound into the wrapped key).
    pub context: WrapContext,
}

impl CacheConfig {
    /// The data directory from `SEALBOX_DATA_DIR` or the platform default.
    pub fn from_env(context: WrapContext) -> Result<Self, CacheError> {
        Ok(CacheConfig { data_dir: data_dir::resolve()?, context })
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join(CACHE_FILE)
    }
}

/// An unlocked cache: the open store and the data key. [`Session::lock`] (or
/// dropping it) closes the database and zeroizes the key.
#[derive(Debug)]
pub struct Session {
    store: Store,
    data_key: SecretKey,
}

/// The result of an unlock.
#[derive(Debug)]
pub struct Unlocked {
    /// The open cache.
    pub session: Session,
    /// Set when the old file was unusable, moved aside and a fresh cache
    /// started; show [`Quarantined::user_message`].
    pub quarantined: Option<Quarantined>,
}

/// What "wipe this device" removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WipeReport {
    /// Whether a keyring entry was deleted.
    pub keyring_entry_removed: bool,
    /// Files deleted (the database, its -wal/-shm, quarantined copies).
    pub files_removed: Vec<PathBuf>,
}

fn create_fresh(
    cfg: &CacheConfig,
    dk: &SecretKey,
) -> Result<(Store, [u8; store::open::SALT_LEN]), CacheError> {
    let path = cfg.db_path();
    let store = store::open::open(&path, Keying::Encrypted(dk))?;
    let salt = file_salt(&path)?.ok_or(StoreError::Api("new cache has no salt"))?;
    Ok((store, salt))
}

/// Enrols this device: a new random data key, a new cache encrypted with it,
/// the key wrapped under `kek` and stored in the keyring. A cache file
/// already there (from an earlier enrolment) is quarantined, not reused.
pub fn enrol(
    cfg: &CacheConfig,
    keyring: &Keyring,
    kek: &dyn KekSource,
    now: Timestamp,
) -> Result<Unlocked, CacheError> {
    enrol_with_salt(cfg, keyring, kek, random_bytes(), now)
}

/// [`enrol`] with a device salt chosen by the caller: the security key must
/// be touched for the salt before the KEK exists (hmac-secret), so the app
/// picks the salt, asks the key, then enrols.
pub fn enrol_with_salt(
    cfg: &CacheConfig,
    keyring: &Keyring,
    kek: &dyn KekSource,
    device_salt: [u8; DEVICE_SALT_LEN],
    now: Timestamp,
) -> Result<Unlocked, CacheError> {
    if keyring.load(&cfg.context)?.is_some() {
        return Err(CacheError::AlreadyEnrolled);
    }
    data_dir::ensure(&cfg.data_dir)?;
    let quarantined = match file_shape(&cfg.db_path())? {
        FileShape::Absent => None,
        _ => Some(quarantine(&cfg.db_path(), QuarantineReason::Unrecognised, now)?),
    };
    let kek_key = kek.kek(&device_salt)?;
    let dk = SecretKey::generate();
    let (store, db_salt) = create_fresh(cfg, &dk)?;
    let wrapped = keywrap::wrap(&kek_key, &dk, &cfg.context).map_err(unwrap_error)?;
    keyring.save(&cfg.context, &KeyRecord { device_salt, db_salt, wrapped, wrapped_next: None })?;
    Ok(Unlocked { session: Session { store, data_key: dk }, quarantined })
}

/// The salt this device's security key is asked about at unlock.
pub fn device_salt(cfg: &CacheConfig, keyring: &Keyring) -> Result<[u8; DEVICE_SALT_LEN], CacheError> {
    Ok(keyring.load(&cfg.context)?.ok_or(CacheError::NotEnrolled)?.device_salt)
}

/// Unlocks the cache: reads the key record, asks `kek` for the KEK, unwraps
/// the data key and opens the cache. An unusable file is quarantined and a
/// fresh cache created (the caller tells the user it will be rebuilt from
/// the hub); a file that is ours but does not open with the key is left
/// alone ([`CacheError::DataKeyMismatch`]).
pub fn unlock(
    cfg: &CacheConfig,
    keyring: &Keyring,
    kek: &dyn KekSource,
    now: Timestamp,
) -> Result<Unlocked, CacheError> {
    let mut record = keyring.load(&cfg.context)?.ok_or(CacheError::NotEnrolled)?;
    let kek_key = kek.kek(&record.device_salt)?;
    let dk = keywrap::unwrap(&kek_key, &record.wrapped, &cfg.context).map_err(unwrap_error)?;
    let next = match &record.wrapped_next {
        Some(w) => Some(keywrap::unwrap(&kek_key, w, &cfg.context).map_err(unwrap_error)?),
        None => None,
    };
    drop(kek_key);
    data_dir::ensure(&cfg.data_dir)?;
    let path = cfg.db_path();

    let reason = match file_shape(&path)? {
        FileShape::Absent => None,
        FileShape::PlainSqlite | FileShape::TooShort => Some(QuarantineReason::NotSealbox),
        FileShape::Opaque(salt) => match store::open::open(&path, Keying::Encrypted(&dk)) {
            Ok(store) => {
                if record.wrapped_next.is_some() {
                    // A rekey stopped before the file changed: forget the next key.
                    record.wrapped_next = None;
                    keyring.save(&cfg.context, &record)?;
                }
                return Ok(Unlocked { session: Session { store, data_key: dk }, quarantined: None });
            }
            Err(StoreError::CannotDecrypt) => {
                if let Some(next_dk) = next {
                    // A rekey changed the file but not yet the record: finish it.
                    if let Ok(store) = store::open::open(&path, Keying::Encrypted(&next_dk)) {
                        record.wrapped = record.wrapped_next.take().unwrap_or_default();
                        record.db_salt = salt;
                        keyring.save(&cfg.context, &record)?;
                        return Ok(Unlocked {
                            session: Session { store, data_key: next_dk },
                            quarantined: None,
                        });
                    }
                }
                if salt == record.db_salt {
                    return Err(CacheError::DataKeyMismatch);
                }
                Some(QuarantineReason::Unrecognised)
            }
            Err(StoreError::NotSealbox) => Some(QuarantineReason::NotSealbox),
            Err(StoreError::Corrupt) => Some(QuarantineReason::Corrupt),
            Err(e) => return Err(e.into()),
        },
    };
    let quarantined = match reason {
        Some(r) => Some(quarantine(&path, r, now)?),
        None => None,
    };
    let (store, db_salt) = create_fresh(cfg, &dk)?;
    record.db_salt = db_salt;
    record.wrapped_next = None;
    keyring.save(&cfg.context, &record)?;
    Ok(Unlocked { session: Session { store, data_key: dk }, quarantined })
}

impl Session {
    /// The open cache.
    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The data key (to seal the device identity kept beside the cache).
    pub(crate) fn data_key(&self) -> &SecretKey {
        &self.data_key
    }

    /// The open store alone, for sharing with the sync engine; the data key
    /// is zeroized now (a rekey needs a fresh unlock).
    pub fn into_store(self) -> Store {
        let Session { store, data_key } = self;
        drop(data_key);
        store
    }

    /// Locks: closes the database and zeroizes the data key.
    pub fn lock(self) -> Result<(), CacheError> {
        let Session { store, data_key } = self;
        let closed = store.close();
        drop(data_key);
        closed.map_err(CacheError::from)
    }

    /// Rotates the data key: the next key is recorded (wrapped) first, then
    /// the database is checkpointed and re-encrypted, then the record
    /// switched over — a crash at any point leaves a cache that unlocks.
    pub fn rekey(
        &mut self,
        cfg: &CacheConfig,
        keyring: &Keyring,
        kek: &dyn KekSource,
    ) -> Result<(), CacheError> {
        let mut record = keyring.load(&cfg.context)?.ok_or(CacheError::NotEnrolled)?;
        let kek_key = kek.kek(&record.device_salt)?;
        // Prove the KEK before touching anything.
        let current = keywrap::unwrap(&kek_key, &record.wrapped, &cfg.context).map_err(unwrap_error)?;
        if current != self.data_key {
            return Err(CacheError::DataKeyMismatch);
        }
        let new_dk = SecretKey::generate();
        record.wrapped_next = Some(keywrap::wrap(&kek_key, &new_dk, &cfg.context).map_err(unwrap_error)?);
        keyring.save(&cfg.context, &record)?;
        self.store.rekey(&new_dk)?;
        record.wrapped = record.wrapped_next.take().unwrap_or_default();
        record.db_salt = file_salt(self.store.path())?.ok_or(StoreError::Api("cache has no salt"))?;
        keyring.save(&cfg.context, &record)?;
        self.data_key = new_dk;
        Ok(())
    }
}

impl Unlocked {
    /// Runs the full integrity check ([`Store::check_integrity`]: every
    /// page's HMAC and SQLite's structure). A corrupt cache is closed, moved
    /// aside and replaced by a fresh one (to be rebuilt from the hub); the
    /// result says so in `quarantined`. Reads the whole file: run it off the
    /// UI path after unlocking.
    pub fn verify_or_rebuild(
        self,
        cfg: &CacheConfig,
        keyring: &Keyring,
        now: Timestamp,
    ) -> Result<Unlocked, CacheError> {
        match self.session.store.check_integrity() {
            Ok(()) => Ok(self),
            Err(StoreError::Corrupt) => {
                let Session { store, data_key } = self.session;
                // Closing a corrupt database may itself report an error.
                let _ = store.close();
                let q = quarantine(&cfg.db_path(), QuarantineReason::Corrupt, now)?;
                let mut record = keyring.load(&cfg.context)?.ok_or(CacheError::NotEnrolled)?;
                let (store, db_salt) = create_fresh(cfg, &data_key)?;
                record.db_salt = db_salt;
                keyring.save(&cfg.context, &record)?;
                Ok(Unlocked { session: Session { store, data_key }, quarantined: Some(q) })
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Wipes this device: locks `session` if given, deletes the keyring entry,
/// the database with its -wal/-shm/-journal, the sealed device identity
/// and any quarantined copies, and says what it removed.
pub fn wipe_device(
    cfg: &CacheConfig,
    keyring: &Keyring,
    session: Option<Session>,
) -> Result<WipeReport, CacheError> {
    if let Some(s) = session {
        // Best effort: the files go regardless.
        let _ = s.lock();
    }
    let keyring_entry_removed = keyring.delete(&cfg.context)?;
    let mut files_removed = Vec::new();
    let db = cfg.db_path();
    for f in database_files(&db) {
        remove_if_present(&f, &mut files_removed)?;
    }
    // The device identity sealed beside the cache goes with it.
    remove_if_present(&cfg.data_dir.join(crate::account::device::IDENTITY_FILE), &mut files_removed)?;
    if let Ok(entries) = std::fs::read_dir(&cfg.data_dir) {
        let mut quarantined: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(CACHE_FILE) && n.contains(".quarantined-"))
            })
            .collect();
        quarantined.sort();
        for f in quarantined {
            remove_if_present(&f, &mut files_removed)?;
        }
    }
    Ok(WipeReport { keyring_entry_removed, files_removed })
}

fn remove_if_present(path: &Path, removed: &mut Vec<PathBuf>) -> Result<(), CacheError> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            removed.push(path.to_owned());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(path, &e).into()),
    }
}

#[cfg(test)]
mod tests;
