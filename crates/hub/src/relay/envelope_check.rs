//! What the hub can check of a sealed envelope without any key: that it is a
//! well-formed, correctly signed envelope (sealbox-crypto's
//! `EnvelopeHeader::parse`), for this practice, for the thread and message
//! ids of the request, and signed by the key registered for its sender (the
//! patient's channel, or the clinician's device for replies). Anything else
//! is refused with 400, naming the envelope's field, before a byte is stored.

use sealbox_crypto::envelope::{EnvelopeHeader, PartKind, RecipientId};
use sealbox_model::hub_api::PatientMessageRequest;

use super::channels::Channel;
use crate::http::ApiError;

/// Parses `bytes` (checking its signature: CPU work, done before the
/// database is touched) and checks it carries `thread_id` and `message_id`.
pub fn parse_for(
    bytes: &[u8],
    thread_id: u64,
    message_id: u64,
    field: &str,
) -> Result<EnvelopeHeader, ApiError> {
    let header = EnvelopeHeader::parse(bytes)
        .map_err(|e| ApiError::field(field, format!("not a valid sealed envelope: {e}")))?;
    if header.thread_id != thread_id || header.message_id != message_id {
        return Err(ApiError::field(field, "its thread or message id differs from the request's"));
    }
    Ok(header)
}

/// What a patient's envelope says of itself, once checked against the
/// request: who signed it and for which practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientSeal {
    /// The key that signed it, which must be its channel's.
    pub sender: [u8; 32],
    /// The practice it was sealed for, which must be this hub's.
    pub practice: String,
}

/// Checks a patient's envelope against the request (CPU work, no
/// storage); what it says, for [`signed_by`] and [`check_practice`].
pub fn patient_seal(req: &PatientMessageRequest) -> Result<PatientSeal, ApiError> {
    let header = parse_for(req.envelope.as_slice(), req.thread_id.0, req.message_id.0, "envelope")?;
    Ok(PatientSeal { sender: header.sender.to_bytes(), practice: header.practice })
}

/// The envelope must be signed by the channel's patient key.
pub fn signed_by(channel: &Channel, seal: &PatientSeal) -> Result<(), ApiError> {
    if seal.sender != channel.ed25519_public {
        return Err(ApiError::field("envelope", "not signed by this channel's patient key"));
    }
    Ok(())
}

/// A staff envelope may not carry a patient's identity: only the patient's
/// own messages name them (a reply naming someone else would rewrite the
/// patient on every workstation: a wrong-patient hazard).
pub fn no_patient_details(header: &EnvelopeHeader, field: &str) -> Result<(), ApiError> {
    if header.parts.iter().any(|p| p.kind == PartKind::PatientDetails) {
        return Err(ApiError::field(field, "a staff envelope may not carry patient details"));
    }
    Ok(())
}

/// An internal note is for the practice only: no part may be sealed to the
/// patient (what the patient could open, they could be shown).
pub fn not_to_the_patient(header: &EnvelopeHeader, field: &str) -> Result<(), ApiError> {
    if header.parts.iter().any(|p| p.recipients.contains(&RecipientId::Patient)) {
        return Err(ApiError::field(field, "an internal note may not be sealed to the patient"));
    }
    Ok(())
}

/// The envelope's practice must be this hub's.
pub fn check_practice(conn: &dyn crate::db::sql::Sql, sealed_for: &str, field: &str) -> Result<(), ApiError> {
    sealed_here(crate::db::practice::get(conn)?.as_ref(), sealed_for, field)
}

/// The envelope's practice must be `here`, this hub's as read.
pub fn sealed_here(
    here: Option<&crate::db::practice::Practice>,
    sealed_for: &str,
    field: &str,
) -> Result<(), ApiError> {
    match here {
        Some(practice) if practice.id == sealed_for => Ok(()),
        _ => Err(ApiError::field(field, "sealed for another practice")),
    }
}
