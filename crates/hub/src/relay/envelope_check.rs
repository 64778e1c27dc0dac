//! What the hub can check of a sealed envelope without any key: that it is a
//! well-formed, correctly signed envelope (sealbox-crypto's
//! `EnvelopeHeader::parse`), for this practice, for the thread and message
//! ids of the request, and signed by the key registered for the channel.
//! Anything else is refused with 400 before a byte is stored.

use sealbox_crypto::envelope::EnvelopeHeader;
use sealbox_model::hub_api::PatientMessageRequest;

use super::channels::Channel;
use crate::http::ApiError;

/// Checks a patient's envelope against the request and the channel (the
/// signature check is CPU work, done before the database is touched);
/// returns the practice it names, for [`check_practice`] inside the write.
pub fn check_patient_envelope(channel: &Channel, req: &PatientMessageRequest) -> Result<String, ApiError> {
    let header = EnvelopeHeader::parse(req.envelope.as_slice())
        .map_err(|e| ApiError::field("envelope", format!("not a valid sealed envelope: {e}")))?;
    if header.thread_id != req.thread_id.0 || header.message_id != req.message_id.0 {
        return Err(ApiError::field("envelope", "its thread or message id differs from the request's"));
    }
    if header.sender.to_bytes() != channel.ed25519_public {
        return Err(ApiError::field("envelope", "not signed by this channel's patient key"));
    }
    Ok(header.practice)
}

/// The envelope's practice must be this hub's.
pub fn check_practice(conn: &rusqlite::Connection, sealed_for: &str) -> Result<(), ApiError> {
    match crate::db::practice::get(conn)? {
        Some(practice) if practice.id == sealed_for => Ok(()),
        _ => Err(ApiError::field("envelope", "sealed for another practice")),
    }
}
