//! The file `sealbox-hub patient-channels --out FILE` writes for the
//! simulator: the practice id and, per simulated patient, the pseudonym, the
//! channel token and the patient's own secret keys. The hub keeps only the
//! token's hash and the public keys.

use serde::{Deserialize, Serialize};

use super::bytes::Base64Bytes;
use super::token::ChannelToken;
use crate::ids::PatientId;

/// The simulator's practice file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeFile {
    /// The practice (bound into every envelope).
    pub practice_id: String,
    /// The patients.
    pub patients: Vec<SimPatient>,
    /// The practice key (Ed25519 public) the hub held when the file was
    /// written: the patients seal only to pool keys signed under it (issue
    /// 21). `None` for a practice with no key yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practice_key: Option<Base64Bytes>,
}

/// One simulated patient. `Debug` shows no secret (token redacted, keys as
/// lengths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimPatient {
    /// Pseudonym issued by the hub.
    pub patient_id: PatientId,
    /// Bearer token for `POST /v1/patient/messages` and `GET /v1/patient/replies`.
    pub channel_token: ChannelToken,
    /// 32-byte Ed25519 secret key (seed): signs the patient's envelopes.
    pub ed25519_secret: Base64Bytes,
    /// 32-byte X25519 secret key: opens replies sealed to the patient.
    pub x25519_secret: Base64Bytes,
}
