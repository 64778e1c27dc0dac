//! `POST /v1/patient/join`: a patient joins the practice with the invite it
//! gave them (`sealbox_crypto::patient_invite`), and their browser's new
//! channel keys. The hub sees neither the invite code nor who the patient
//! is: the lookup and the identity tag are derived from the code.

use serde::{Deserialize, Serialize};

use super::{Base64Bytes, ChannelToken};
use crate::ids::PatientId;
use crate::jiff::Timestamp;

/// Wrong details this many times and the invite is used up (the practice
/// issues another).
pub const MAX_JOIN_ATTEMPTS: u32 = 5;

/// The patient's side of joining.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientJoinRequest {
    /// The invite's lookup (32 bytes).
    pub lookup: Base64Bytes,
    /// The tag of the name, date of birth and (if typed) NHS number the
    /// patient gave (32 bytes).
    pub identity_tag: Base64Bytes,
    /// When the patient typed an NHS number: the tag of the name and date
    /// of birth alone, which joins where the practice's invite did not
    /// include the number. An invite that did include it still needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_tag_without_nhs: Option<Base64Bytes>,
    /// The channel's Ed25519 public key: it must sign the patient's envelopes.
    pub ed25519_public: Base64Bytes,
    /// The channel's X25519 public key: replies are sealed to it.
    pub x25519_public: Base64Bytes,
    /// Where to tell the patient that the practice replied (a blind
    /// notice: never a word of the reply), if they want to be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_email: Option<String>,
}

/// Joined: the channel to write on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientJoined {
    /// The patient's pseudonym at the hub (the same as before when the
    /// practice re-issued an invite for a lost device).
    pub patient_id: PatientId,
    /// Bearer token for the patient's messages and replies.
    pub channel_token: ChannelToken,
}

/// `POST /v1/patient/invites`: a care navigator's workstation stores an
/// invite it made (the code, and who the patient is, stay on the
/// workstation: the hub gets the lookup and the identity tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientInviteRequest {
    /// The invite's lookup (32 bytes).
    pub lookup: Base64Bytes,
    /// The tag of the patient's name, date of birth and NHS number (32 bytes).
    pub identity_tag: Base64Bytes,
    /// The patient whose lost device's channel it replaces, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<PatientId>,
    /// Days it stands (1 to 90).
    pub valid_days: u32,
}

/// The invite is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientInviteIssued {
    /// Until when the patient may join with it.
    pub expires_at: Timestamp,
}
