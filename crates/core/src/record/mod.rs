//! Save to record on the workstation (issue 27): only a workstation can
//! do it (the hub never reads a message). The thread is mapped from the
//! cache ([`handled`]), its patient looked up by NHS number and matched
//! before anything is saved, the save queued in the cache with its own
//! audit event and sent to the practice's FHIR endpoint
//! ([`sender::RecordSender`]) until the endpoint takes it; a practice
//! without an endpoint exports the Bundle as a file.
//!
//! - [`config`]: the endpoint practice IT set up here (not the hub, not a
//!   clinician).
//! - [`desk`]: the rules at the desk: the workstation's key, what the
//!   thread shows, saving, confirming a match, saving on close.
//! - [`sender`]: the network side: look-ups, sends, exports, away from
//!   the desk.

pub mod config;
pub mod desk;
mod handled;
pub mod sender;

pub use config::RecordConfig;

/// Why a save to record did not happen. Log-safe: no patient data.
#[derive(Debug, thiserror::Error)]
pub enum SaveToRecordError {
    /// No record system is set up on this workstation.
    #[error("no record system is set up on this workstation; practice IT sets one up, or export the thread as a file")]
    NotSetUp,
    /// The set-up file is wrong.
    #[error("the record system set-up on this workstation is not usable: {0}")]
    Setup(String),
    /// The patient gave no NHS number: the record cannot be found.
    #[error("the patient gave no NHS number, so their record cannot be found; export the thread as a file instead")]
    NoNhsNumber,
    /// The patient has not been looked up in the record yet.
    #[error("the patient has not been found in the record yet; open the thread again when the record system can be reached")]
    NotLookedUp,
    /// The record's patient differs from the one who wrote, and nobody
    /// has confirmed them.
    #[error("the record's patient differs from what the patient wrote; a clinician must confirm the match before saving")]
    NotConfirmed,
    /// Unknown to the record, or two patients with one number: nothing a
    /// clinician can confirm.
    #[error(
        "the practice's record must be put right first (no patient, or more than one, has this NHS number)"
    )]
    RecordNeedsFixing,
    /// Nothing needs confirming.
    #[error("there is no mismatch to confirm")]
    NothingToConfirm,
    /// The Bundle could not be made.
    #[error(transparent)]
    Bundle(#[from] sealbox_record::RecordError),
    /// The endpoint failed or refused.
    #[error(transparent)]
    Endpoint(#[from] sealbox_record::endpoint::SaveError),
    /// A photo of the thread could not be fetched from the hub.
    #[error(
        "a photo of the thread could not be fetched from the practice hub; the save is kept to try again"
    )]
    Photo,
    /// The export file could not be written.
    #[error("the file could not be written ({0})")]
    Export(std::io::ErrorKind),
}
