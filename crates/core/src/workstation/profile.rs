//! What this workstation remembers between runs without any key: which hub,
//! practice, clinician and device it belongs to, and the public part of the
//! enrolled credential (to verify the key offline). No secret and no
//! patient data: `profile.json` in the data directory.

use std::path::{Path, PathBuf};

use sealbox_crypto::keywrap::WrapContext;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Passkey, Url};

use super::WorkstationError;
use crate::account::practice_key::PinnedKey;
use crate::key::fallback::KeyMode;

/// The file name in the data directory.
pub const PROFILE_FILE: &str = "profile.json";

/// This workstation's enrolment.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The practice hub's base URL.
    pub hub: String,
    /// The practice.
    pub practice_id: String,
    /// The clinician (staff id at the hub).
    pub user_id: String,
    /// Their login name.
    pub username: String,
    /// Their name, as their invite gave it (profiles written before it was
    /// kept read as empty: the login name stands in).
    #[serde(default)]
    pub name: String,
    /// Their professional registration, shown under their replies.
    #[serde(default)]
    pub registration: Option<Registration>,
    /// Their role.
    pub role: Role,
    /// This desktop + security key, as the hub knows it.
    pub device_id: String,
    /// The relying party id the key's credential is scoped to.
    pub rp_id: String,
    /// The credential's public key and counter (verifies the key offline).
    pub passkey: Passkey,
    /// How the cache's KEK is protected: from the key's hmac-secret, or
    /// the weaker keyring mode (profiles written before it: hmac-secret).
    #[serde(default)]
    pub key_mode: KeyMode,
    /// In the weaker mode: the hub said the practice no longer allows it.
    /// Offline unlocks are refused until an online unlock finds it allowed
    /// again (this file is as open as the keyring the mode relies on).
    #[serde(default)]
    pub weaker_withdrawn: bool,
    /// Enrolled with the demo's software key (a demo or test practice
    /// only): named on the lock screen and in every unlock's audit entry.
    #[serde(default)]
    pub demo_key: bool,
    /// With the demo key: the hub said the practice no longer allows it.
    /// Offline unlocks are refused until an online unlock succeeds again.
    #[serde(default)]
    pub demo_withdrawn: bool,
    /// The practice key this workstation trusts (issue 21); `None` until
    /// the practice has one (profiles written before it: pinned at the
    /// next unlock verified by the hub).
    #[serde(default)]
    pub practice_key: Option<PinnedKey>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile").field("user_id", &self.user_id).field("device_id", &self.device_id).finish()
    }
}

impl Profile {
    /// How they sign a reply: "Dr Asha Rao, GP (GMC 7012345)".
    pub fn sign_off(&self) -> String {
        let name = if self.name.trim().is_empty() { &self.username } else { &self.name };
        match &self.registration {
            Some(r) => format!("{name}, {} ({})", self.role.title(), r.as_str()),
            None => format!("{name}, {}", self.role.title()),
        }
    }

    /// The origin a WebAuthn client reports for this relying party: plain
    /// HTTP only for `localhost` (development and tests), HTTPS otherwise.
    pub fn origin(&self) -> Result<Url, WorkstationError> {
        origin_of(&self.rp_id)
    }

    /// What the wrapped data key is bound to.
    pub fn context(&self) -> WrapContext {
        WrapContext::new(self.practice_id.clone(), self.user_id.clone(), self.device_id.clone())
    }

    fn path(dir: &Path) -> PathBuf {
        dir.join(PROFILE_FILE)
    }

    /// Reads the profile; `None` if this workstation is not enrolled.
    pub fn load(dir: &Path) -> Result<Option<Self>, WorkstationError> {
        match std::fs::read(Self::path(dir)) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map(Some).map_err(|_| WorkstationError::ProfileCorrupt)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(WorkstationError::Io(e.kind())),
        }
    }

    /// Writes it atomically and durably (see [`crate::durable`]).
    pub fn save(&self, dir: &Path) -> Result<(), WorkstationError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|_| WorkstationError::ProfileCorrupt)?;
        crate::durable::write(dir, PROFILE_FILE, &bytes).map_err(|e| WorkstationError::Io(e.kind()))
    }
}

/// The origin for relying party `rp_id`.
pub fn origin_of(rp_id: &str) -> Result<Url, WorkstationError> {
    let origin =
        if rp_id == "localhost" { "http://localhost".to_owned() } else { format!("https://{rp_id}") };
    Url::parse(&origin).map_err(|_| {
        WorkstationError::Hub(crate::sync::SyncError::Protocol("the relying party id is not a host"))
    })
}
