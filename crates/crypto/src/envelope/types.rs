//! The small vocabularies of the envelope format: part kinds and recipients.

use sealbox_model::pool::Pool;

/// What a part holds. The tag byte is part of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartKind {
    /// The patient's (or clinician's) free-text message.
    FreeText,
    /// A structured medication (repeat prescription) request.
    MedicationRequest,
    /// A reference to a separately stored attachment.
    AttachmentRef,
    /// The patient's identifying details (name, date of birth, NHS number).
    PatientDetails,
}

impl PartKind {
    /// Every kind.
    pub const ALL: [PartKind; 4] =
        [PartKind::FreeText, PartKind::MedicationRequest, PartKind::AttachmentRef, PartKind::PatientDetails];

    /// The byte written in the envelope.
    pub fn tag(self) -> u8 {
        match self {
            PartKind::FreeText => 1,
            PartKind::MedicationRequest => 2,
            PartKind::AttachmentRef => 3,
            PartKind::PatientDetails => 4,
        }
    }

    /// The kind for a tag byte, if any.
    pub fn from_tag(tag: u8) -> Option<Self> {
        PartKind::ALL.into_iter().find(|k| k.tag() == tag)
    }
}

/// Who a part's content key is sealed to: a practice pool (every device
/// holding that pool's private key) or the patient of the thread (replies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecipientId {
    /// A practice pool.
    Pool(Pool),
    /// The patient the thread belongs to.
    Patient,
}

impl RecipientId {
    /// The byte written in the envelope: pools 1..=4, the patient 0x10.
    pub fn tag(self) -> u8 {
        match self {
            RecipientId::Pool(Pool::Gp) => 1,
            RecipientId::Pool(Pool::Nurse) => 2,
            RecipientId::Pool(Pool::Pharmacy) => 3,
            RecipientId::Pool(Pool::Admin) => 4,
            RecipientId::Patient => 0x10,
        }
    }

    /// The recipient for a tag byte, if any.
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0x10 => Some(RecipientId::Patient),
            _ => Pool::ALL.into_iter().map(RecipientId::Pool).find(|r| r.tag() == tag),
        }
    }
}

impl From<Pool> for RecipientId {
    fn from(pool: Pool) -> Self {
        RecipientId::Pool(pool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_unknown_tags_are_none() {
        for k in PartKind::ALL {
            assert_eq!(PartKind::from_tag(k.tag()), Some(k));
        }
        for r in Pool::ALL.into_iter().map(RecipientId::Pool).chain([RecipientId::Patient]) {
            assert_eq!(RecipientId::from_tag(r.tag()), Some(r));
        }
        for t in [0u8, 5, 0xff] {
            assert_eq!(PartKind::from_tag(t), None);
        }
        for t in [0u8, 5, 0x11, 0xff] {
            assert_eq!(RecipientId::from_tag(t), None);
        }
    }
}
