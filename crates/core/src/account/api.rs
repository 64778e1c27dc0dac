//! The hub's identity and device endpoints (docs/hub-api.yaml), typed with
//! `sealbox_model::hub_api::auth`. Errors are [`SyncError`]s: log-safe, with
//! the problem code of a refusal and nothing of the reply's content.

use reqwest::Method;
use sealbox_model::hub_api::auth::{
    DeviceKeys, DeviceList, EnrolChallenge, EnrolFinish, EnrolStart, Enrolled, LoginChallenge, LoginFinish,
    LoginHistory, LoginStart, PublishPoolKey, SealedPoolKeys, Session,
};
use sealbox_model::hub_api::{
    AbsenceRequest, PatientInviteIssued, PatientInviteRequest, PracticeKeys, PracticePolicy, StaffDirectory,
};
use sealbox_model::jiff::Timestamp;
use sealbox_model::pool::Pool;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use crate::sync::client::HubClient;
use crate::sync::SyncError;

fn required<T>(reply: Option<T>) -> Result<T, SyncError> {
    reply.ok_or(SyncError::Protocol("the hub sent no body where one is required"))
}

fn empty(reply: Option<serde_json::Value>) -> Result<(), SyncError> {
    match reply {
        None => Ok(()),
        Some(_) => Err(SyncError::Protocol("the hub sent a body where none is expected")),
    }
}

impl HubClient {
    /// `POST /v1/enrol/start` with an invite code.
    pub async fn enrol_start(
        &self,
        invite_code: &str,
        device_name: &str,
    ) -> Result<EnrolChallenge, SyncError> {
        let body = EnrolStart {
            invite_code: invite_code.to_owned(),
            device_name: device_name.to_owned(),
            username: None,
        };
        required(self.call(Method::POST, "/v1/enrol/start", Some(&body)).await?)
    }

    /// `POST /v1/enrol/finish` with the key's new credential.
    pub async fn enrol_finish(
        &self,
        ceremony_id: String,
        credential: RegisterPublicKeyCredential,
    ) -> Result<Enrolled, SyncError> {
        let body = EnrolFinish { ceremony_id, credential };
        required(self.call(Method::POST, "/v1/enrol/finish", Some(&body)).await?)
    }

    /// `POST /v1/login/start` for a member of staff.
    pub async fn login_start(&self, user_id: &str) -> Result<LoginChallenge, SyncError> {
        let body = LoginStart { user_id: Some(user_id.to_owned()), username: None };
        required(self.call(Method::POST, "/v1/login/start", Some(&body)).await?)
    }

    /// `POST /v1/login/finish` with the key's assertion: a new session.
    pub async fn login_finish(
        &self,
        ceremony_id: String,
        credential: PublicKeyCredential,
    ) -> Result<Session, SyncError> {
        let body = LoginFinish { ceremony_id, credential };
        required(self.call(Method::POST, "/v1/login/finish", Some(&body)).await?)
    }

    /// `POST /v1/lock`: ends this client's session at the hub, keeping the
    /// device's counts-only token (the workstation locked; it did not sign
    /// out).
    pub async fn lock_session(&self) -> Result<(), SyncError> {
        empty(self.call::<(), _>(Method::POST, "/v1/lock", None).await?)
    }

    /// `POST /v1/logout`: ends this client's session at the hub.
    pub async fn logout(&self) -> Result<(), SyncError> {
        empty(self.call::<(), _>(Method::POST, "/v1/logout", None).await?)
    }

    /// `POST /v1/devices/keys`: this device's public keys.
    pub async fn upload_device_keys(&self, keys: &DeviceKeys) -> Result<(), SyncError> {
        empty(self.call(Method::POST, "/v1/devices/keys", Some(keys)).await?)
    }

    /// `GET /v1/devices/me/pool-keys`: the pool keys sealed to this device.
    pub async fn my_pool_keys(&self) -> Result<SealedPoolKeys, SyncError> {
        required(self.call::<(), _>(Method::GET, "/v1/devices/me/pool-keys", None).await?)
    }

    /// `GET /v1/practice/keys`: every pool's current public sealing key.
    pub async fn practice_keys(&self) -> Result<PracticeKeys, SyncError> {
        required(self.call::<(), _>(Method::GET, "/v1/practice/keys", None).await?)
    }

    /// `GET /v1/practice/policy`: the practice's security policy.
    pub async fn practice_policy(&self) -> Result<PracticePolicy, SyncError> {
        let policy: PracticePolicy =
            required(self.call::<(), _>(Method::GET, "/v1/practice/policy", None).await?)?;
        policy.validate().map_err(|_| SyncError::Protocol("the practice policy is outside its bounds"))
    }

    /// `GET /v1/staff`: the practice's staff, to name colleagues.
    pub async fn staff(&self) -> Result<StaffDirectory, SyncError> {
        required(self.call::<(), _>(Method::GET, "/v1/staff", None).await?)
    }

    /// `PUT /v1/staff/me/absence`: away until `until` (none: back now).
    pub async fn set_absence(&self, until: Option<Timestamp>) -> Result<(), SyncError> {
        empty(self.call(Method::PUT, "/v1/staff/me/absence", Some(&AbsenceRequest { until })).await?)
    }

    /// `POST /v1/patient/invites`: stores a patient's invite made here.
    pub async fn invite_patient(
        &self,
        request: &PatientInviteRequest,
    ) -> Result<PatientInviteIssued, SyncError> {
        required(self.call(Method::POST, "/v1/patient/invites", Some(request)).await?)
    }

    /// `GET /v1/me/logins`: this clinician's sign-in attempts, newest first.
    pub async fn login_history(&self) -> Result<LoginHistory, SyncError> {
        required(self.call::<(), _>(Method::GET, "/v1/me/logins", None).await?)
    }

    /// `GET /v1/devices` (admin).
    pub async fn devices(&self) -> Result<DeviceList, SyncError> {
        required(self.call::<(), _>(Method::GET, "/v1/devices", None).await?)
    }

    /// `POST /v1/devices/{id}/approve` (admin).
    pub async fn approve_device(&self, device_id: &str) -> Result<(), SyncError> {
        let path = format!("/v1/devices/{}/approve", path_segment(device_id)?);
        empty(self.call::<(), _>(Method::POST, &path, None).await?)
    }

    /// `POST /v1/devices/{id}/revoke` (admin).
    pub async fn revoke_device(&self, device_id: &str) -> Result<(), SyncError> {
        let path = format!("/v1/devices/{}/revoke", path_segment(device_id)?);
        empty(self.call::<(), _>(Method::POST, &path, None).await?)
    }

    /// `PUT /v1/devices/{id}/pool-keys` (admin): pool keys sealed to it.
    pub async fn put_pool_keys(&self, device_id: &str, keys: &SealedPoolKeys) -> Result<(), SyncError> {
        let path = format!("/v1/devices/{}/pool-keys", path_segment(device_id)?);
        empty(self.call(Method::PUT, &path, Some(keys)).await?)
    }

    /// `PUT /v1/practice/keys/{pool}` (admin): publish a pool's public key.
    pub async fn publish_pool_key(&self, pool: Pool, key: &PublishPoolKey) -> Result<(), SyncError> {
        empty(self.call(Method::PUT, &format!("/v1/practice/keys/{}", pool.key()), Some(key)).await?)
    }
}

/// Ids go into paths only if they are plain tokens.
fn path_segment(id: &str) -> Result<&str, SyncError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(SyncError::Protocol("an id is not a plain token"))
    }
}
