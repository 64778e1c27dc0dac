//! The pool private keys this device holds. A device receives only the keys
//! of its holder's pools, so what it may not read it cannot decrypt.

use sealbox_crypto::envelope::{
    open_envelope_as, open_envelopes_as, EnvelopeError, OpenedEnvelope, PartKind, RecipientId, RecipientKey,
};
use sealbox_crypto::x25519_dalek::StaticSecret;
use sealbox_model::message::{MessagePart, PartDecodeError};
use sealbox_model::patient::PatientDetails;
use sealbox_model::pool::Pool;

/// Pool → private key, for one practice. `Debug` shows the pools only.
pub struct PoolKeyring {
    practice: String,
    pools: Vec<Pool>,
    keys: Vec<RecipientKey>,
}

impl std::fmt::Debug for PoolKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolKeyring").field("practice", &self.practice).field("pools", &self.pools()).finish()
    }
}

/// What an envelope held for this device.
pub struct OpenedMessage {
    /// The patient's details, when a part carried them.
    pub patient: Option<PatientDetails>,
    /// The message parts this device may read, in envelope order.
    pub parts: Vec<MessagePart>,
    /// The envelope's own thread and message ids (checked against the hub's
    /// record by the caller).
    pub thread_id: u64,
    /// See `thread_id`.
    pub message_id: u64,
    /// Whether any part is sealed to the patient (read from the signed
    /// header): a staff envelope that is not is an internal note.
    pub to_patient: bool,
}

/// Why an envelope could not be opened. Log-safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenFailure {
    /// The envelope itself is bad (tampered, truncated, unknown version, a
    /// wrong key, a bad signature).
    #[error("could not be decrypted: {0}")]
    Envelope(#[from] EnvelopeError),
    /// It opened, but a part is not what Sealbox writes.
    #[error("a decrypted part is not valid: {0}")]
    Part(#[from] PartDecodeError),
    /// It belongs to another practice.
    #[error("it belongs to another practice")]
    WrongPractice,
    /// A part sealed as one kind holds another (a sender sealing, say, an
    /// attachment to the pools of free text), or an attachment reference
    /// without a valid id and key.
    #[error("a part does not hold what its kind says")]
    PartMismatch,
}

impl PoolKeyring {
    /// The keys of `practice`'s pools this device holds.
    pub fn new(practice: impl Into<String>, keys: impl IntoIterator<Item = (Pool, StaticSecret)>) -> Self {
        let (pools, keys) = keys
            .into_iter()
            .map(|(pool, secret)| (pool, RecipientKey::new(RecipientId::Pool(pool), secret)))
            .unzip();
        PoolKeyring { practice: practice.into(), pools, keys }
    }

    /// The practice.
    pub fn practice(&self) -> &str {
        &self.practice
    }

    /// The pools whose keys are held.
    pub fn pools(&self) -> Vec<Pool> {
        self.pools.clone()
    }

    /// Opens what `bytes` seals to any held pool. `Ok(None)`: nothing in it
    /// is sealed to this device's pools (not an error; nothing is kept).
    pub fn open(&self, bytes: &[u8]) -> Result<Option<OpenedMessage>, OpenFailure> {
        self.decode(open_envelope_as(bytes, &self.keys, None))
    }

    /// [`PoolKeyring::open`] for many envelopes, in order, with their
    /// signatures checked as one batch ([`open_envelopes_as`]).
    pub fn open_many(&self, envelopes: &[&[u8]]) -> Vec<Result<Option<OpenedMessage>, OpenFailure>> {
        open_envelopes_as(envelopes, &self.keys, None).into_iter().map(|opened| self.decode(opened)).collect()
    }

    fn decode(
        &self,
        opened: Result<OpenedEnvelope, EnvelopeError>,
    ) -> Result<Option<OpenedMessage>, OpenFailure> {
        let opened = match opened {
            Ok(opened) => opened,
            Err(EnvelopeError::NotARecipient) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if opened.header.practice != self.practice {
            return Err(OpenFailure::WrongPractice);
        }
        let mut patient = None;
        let mut parts = Vec::with_capacity(opened.parts.len());
        for part in &opened.parts {
            match part.kind {
                PartKind::PatientDetails => {
                    patient = Some(PatientDetails::from_sealed_plaintext(&part.plaintext)?);
                }
                kind => {
                    let decoded = MessagePart::from_sealed_plaintext(&part.plaintext)?;
                    let fits = match (&decoded, kind) {
                        (MessagePart::FreeText(_), PartKind::FreeText)
                        | (MessagePart::MedicationRequest(_), PartKind::MedicationRequest) => true,
                        (MessagePart::Attachment(a), PartKind::AttachmentRef) => a.is_well_formed(),
                        _ => false,
                    };
                    if !fits {
                        return Err(OpenFailure::PartMismatch);
                    }
                    parts.push(decoded);
                }
            }
        }
        Ok(Some(OpenedMessage {
            patient,
            parts,
            thread_id: opened.header.thread_id,
            message_id: opened.header.message_id,
            to_patient: opened.header.parts.iter().any(|p| p.recipients.contains(&RecipientId::Patient)),
        }))
    }
}
