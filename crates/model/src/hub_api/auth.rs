//! Identity wire types (JSON): enrolment, login, devices and pool keys.
//! WebAuthn options and credentials are the standard WebAuthn JSON forms
//! (webauthn-rs types), so this module is behind the `auth` feature: the hub
//! and sealbox-core use it; the wasm UI does not.

use super::Base64Bytes;
use crate::pool::Pool;
use crate::role::Role;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

/// `POST /v1/enrol/start`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolStart {
    /// The invite code printed by `sealbox-hub invite`.
    pub invite_code: String,
    /// A name for this desktop, e.g. "Room 3 PC".
    pub device_name: String,
    /// Login name (defaults to the new user id).
    #[serde(default)]
    pub username: Option<String>,
}

/// A WebAuthn creation challenge for the security key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolChallenge {
    /// Pass back to finish.
    pub ceremony_id: String,
    /// `navigator.credentials.create()` options.
    pub options: CreationChallengeResponse,
    /// The practice's policy, so a workstation can refuse a key the
    /// practice does not allow before registering it.
    pub policy: super::PracticePolicy,
}

/// `POST /v1/enrol/finish`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolFinish {
    /// From start.
    pub ceremony_id: String,
    /// The authenticator's attestation.
    pub credential: RegisterPublicKeyCredential,
}

/// The member of staff and device created by enrolment.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolled {
    /// Staff id.
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// Their name, as the invite gave it.
    pub name: String,
    /// Their professional registration, as the invite gave it.
    pub registration: Option<crate::registration::Registration>,
    /// Role from the invite.
    pub role: Role,
    /// This desktop + security key.
    pub device_id: String,
    /// The registered credential's public part (id, public key, counter):
    /// the desktop keeps it to verify the key itself while offline.
    pub passkey: Passkey,
}

/// `POST /v1/login/start`: one of `user_id` or `username`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginStart {
    /// Staff id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Login name.
    #[serde(default)]
    pub username: Option<String>,
}

/// A WebAuthn request challenge.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginChallenge {
    /// Pass back to finish.
    pub ceremony_id: String,
    /// `navigator.credentials.get()` options.
    pub options: RequestChallengeResponse,
}

/// `POST /v1/login/finish`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginFinish {
    /// From start.
    pub ceremony_id: String,
    /// The authenticator's assertion.
    pub credential: PublicKeyCredential,
}

/// A new session.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// Bearer token (256-bit, base64url). Shown once.
    pub token: String,
    /// Accepted by `GET /v1/events` only, for 12 hours: a locked desktop
    /// keeps it (and drops `token`) to count new messages.
    pub counts_token: String,
    /// Staff id.
    pub user_id: String,
    /// Role.
    pub role: Role,
    /// The device (credential) used.
    pub device_id: String,
    /// The practice.
    pub practice_id: String,
    /// The session ends after this many seconds without a request.
    pub idle_timeout_secs: u64,
    /// And at this time (RFC 3339) whatever happens.
    pub expires_at: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("user_id", &self.user_id).field("device_id", &self.device_id).finish()
    }
}

/// One login or enrolment attempt.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LoginRecord {
    /// When (RFC 3339).
    pub at: String,
    /// `login` or `enrol`.
    pub kind: String,
    /// The device, when known.
    pub device_id: Option<String>,
    /// Client address.
    pub address: String,
    /// `ok`, `failed`, `throttled`, `counter_regression`, ...
    pub outcome: String,
}

/// `GET /v1/me/logins`: newest first.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoginHistory {
    /// Attempts.
    pub attempts: Vec<LoginRecord>,
}

/// `POST /v1/devices/keys`: this device's public keys.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeys {
    /// X25519 public key (pool keys are sealed to it), 32 bytes.
    pub x25519_public: Base64Bytes,
    /// Ed25519 public key (signs envelopes), 32 bytes.
    pub ed25519_public: Base64Bytes,
}

/// A device as an admin sees it (`GET /v1/devices`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Device id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Owner's role.
    pub role: Role,
    /// Its name.
    pub name: String,
    /// Uploaded keys, if any.
    pub keys: Option<DeviceKeys>,
    /// Approved for pool keys.
    pub approved: bool,
    /// Revoked.
    pub revoked: bool,
}

/// `GET /v1/devices`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceList {
    /// Every device.
    pub devices: Vec<DeviceInfo>,
}

/// One pool private key sealed to one device.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SealedPoolKey {
    /// Which pool.
    pub pool: Pool,
    /// Which version of its key.
    pub key_version: u32,
    /// Opaque to the hub (≤ 4 KiB).
    pub sealed: Base64Bytes,
}

/// `PUT /v1/devices/{id}/pool-keys` and `GET /v1/devices/me/pool-keys`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SealedPoolKeys {
    /// The blobs.
    pub keys: Vec<SealedPoolKey>,
}

/// `PUT /v1/practice/keys/{pool}`: publish a pool public key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublishPoolKey {
    /// X25519 public key, 32 bytes.
    pub x25519_public: Base64Bytes,
    /// Must be higher than the current version.
    pub key_version: u32,
}
