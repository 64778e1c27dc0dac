//! A care navigator invites a patient to write from their browser (issue
//! 25 point 2): the invite's one-time code is made here, and the identity
//! tag of the patient's name, date of birth and NHS number from the
//! practice's record; the hub is sent only the lookup and the tag
//! (`POST /v1/patient/invites`). The link carries the practice key this
//! workstation pinned, not one the hub serves. Audited with the invite's
//! lookup, never who it is for.

use sealbox_crypto::patient_invite::{InviteCode, InviteError, InviteLink, PatientIdentity};
use sealbox_model::hub_api::{Base64Bytes, PatientInviteRequest};
use sealbox_model::ids::{PatientId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::nhs_number::NhsNumber;
use zeroize::Zeroizing;

use super::{Desk, WorkstationError};
use crate::audit;

/// How long an invite from the desktop stands.
pub const VALID_DAYS: u32 = 14;

/// Why no invite was made. Names nothing about the patient.
#[derive(Debug, thiserror::Error)]
pub enum PatientInviteError {
    /// Only care navigators and practice managers invite patients.
    #[error("only care navigators and practice managers invite patients")]
    NotYourRole,
    /// The details typed are not usable.
    #[error("{0}")]
    Details(#[from] InviteError),
    /// This workstation has not pinned the practice key yet.
    #[error("this workstation has no practice key yet; unlock once while the practice is set up")]
    NoPracticeKey,
    /// A new invite was asked for the patient of a thread not in the cache.
    #[error("that thread is not on this workstation")]
    NoSuchThread,
}

/// An invite to give a patient: the link (to print or text) and its code.
pub struct PatientInvitation {
    /// The whole link.
    pub link: Zeroizing<String>,
    /// The code alone, to type.
    pub code: Zeroizing<String>,
    /// The link as a QR code (SVG), to print on the patient's letter.
    pub qr_svg: Zeroizing<String>,
    /// Until when it stands.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for PatientInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientInvitation").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

impl Desk {
    /// Makes an invite for the patient the practice's record names so.
    pub async fn invite_patient(
        &self,
        name: &str,
        date_of_birth: &str,
        nhs_number: &str,
        now: Timestamp,
    ) -> Result<PatientInvitation, WorkstationError> {
        if !self.profile().role.may_invite_patients() {
            return Err(PatientInviteError::NotYourRole.into());
        }
        let identity =
            PatientIdentity::new(name, date_of_birth, Some(nhs_number).filter(|n| !n.trim().is_empty()))
                .map_err(PatientInviteError::from)?;
        self.issue_invite(&identity, None, "invite_patient", now).await
    }

    /// A lost phone: a new invite for the patient of `thread`, with the
    /// details they gave (name, date of birth, NHS number if given). Joining
    /// with it gives the same patient a new channel; the old one stops
    /// working at once (the hub closes it).
    pub async fn reinvite_patient(
        &self,
        thread: ThreadId,
        now: Timestamp,
    ) -> Result<PatientInvitation, WorkstationError> {
        if !self.profile().role.may_invite_patients() {
            return Err(PatientInviteError::NotYourRole.into());
        }
        let patient = {
            let shared = self.store();
            let store = crate::sync::lock(&shared);
            store.thread(thread)?.ok_or(PatientInviteError::NoSuchThread)?.patient
        };
        let born = patient.date_of_birth.reveal().to_string();
        let identity = PatientIdentity::new(
            patient.display_name.reveal(),
            &born,
            patient.nhs_number.as_ref().map(NhsNumber::reveal),
        )
        .map_err(PatientInviteError::from)?;
        self.issue_invite(&identity, Some(patient.id), "reinvite_patient", now).await
    }

    /// Stores an invite for `identity` at the hub (re-issuing `replaces`'s
    /// channel, if given), audits `action` with the lookup's first bytes,
    /// and returns the link, the code and the QR code.
    async fn issue_invite(
        &self,
        identity: &PatientIdentity,
        replaces: Option<PatientId>,
        action: &str,
        now: Timestamp,
    ) -> Result<PatientInvitation, WorkstationError> {
        let profile = self.profile();
        let practice_key = profile
            .practice_key
            .as_ref()
            .ok_or(PatientInviteError::NoPracticeKey)?
            .key()
            .map_err(|_| PatientInviteError::NoPracticeKey)?;
        let code = InviteCode::generate();
        let lookup = code.lookup();
        let request = PatientInviteRequest {
            lookup: Base64Bytes(lookup.to_vec()),
            identity_tag: Base64Bytes(code.tag(identity).to_vec()),
            replaces,
            valid_days: VALID_DAYS,
        };
        let issued = self.hub().invite_patient(&request).await?;
        let reference: String = lookup.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        store.write(|w| audit::append(w, now, &profile.user_id, action, &reference))?;
        let text = code.text();
        let link = InviteLink { code, practice: profile.practice_id.clone(), practice_key };
        let qr_svg = Zeroizing::new(link.qr(&profile.hub).map(|q| q.to_svg()).unwrap_or_default());
        Ok(PatientInvitation {
            link: link.url(&profile.hub),
            code: text,
            qr_svg,
            expires_at: issued.expires_at,
        })
    }
}
