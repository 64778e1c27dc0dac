//! What the hub can check of a sealed envelope without any key. Until
//! sealbox-crypto's `EnvelopeHeader` exists the hub stores the bytes as
//! opaque; then this checks that the header's practice, thread and message
//! ids match the request and that the sender key is the channel's.

use sealbox_model::hub_api::PatientMessageRequest;

use super::channels::Channel;
use crate::http::ApiError;
use crate::state::AppState;

/// Checks a patient's envelope against the request and the channel.
pub fn check_patient_envelope(
    _state: &AppState,
    _channel: &Channel,
    _req: &PatientMessageRequest,
) -> Result<(), ApiError> {
    Ok(())
}
