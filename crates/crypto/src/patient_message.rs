//! The patient's side of a conversation (the browser app and the
//! simulator): a message sealed to exactly the pools that may read each
//! part (sealbox-model's permission matrix), who the patient is sealed to
//! every pool that reads some part, all signed with the channel's key; and
//! a reply opened with the channel's key, only if a practice device the
//! signed directory names signed it.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use sealbox_model::category::Category;
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::patient::PatientDetails;
use sealbox_model::permissions::pools_that_can_read_part;
use sealbox_model::pool::Pool;
use x25519_dalek::{PublicKey, StaticSecret};

use crate::directory::Directory;
use crate::envelope::{
    open_envelope, seal_envelope, EnvelopeError, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId,
};

/// The practice's current public key per pool.
#[derive(Debug, Clone)]
pub struct PoolKeys(BTreeMap<Pool, PublicKey>);

impl PoolKeys {
    /// From known keys (tests, benches).
    pub fn new(keys: impl IntoIterator<Item = (Pool, PublicKey)>) -> Self {
        PoolKeys(keys.into_iter().collect())
    }

    /// Each pool's newest key in a verified directory
    /// ([`crate::directory::verify_for_patient`]).
    pub fn from_directory(dir: &Directory) -> Self {
        PoolKeys::new(
            Pool::ALL
                .iter()
                .filter_map(|pool| dir.pool_key(*pool).map(|(_, key)| (*pool, PublicKey::from(key)))),
        )
    }

    fn get(&self, pool: Pool) -> Result<PublicKey, PatientSealError> {
        self.0.get(&pool).copied().ok_or(PatientSealError::MissingPoolKey(pool.key()))
    }
}

/// Why a patient's message could not be sealed. Names no content.
#[derive(Debug, thiserror::Error)]
pub enum PatientSealError {
    /// The practice has not published a key for a pool that must read it.
    #[error("the practice has no key for the {0} pool yet")]
    MissingPoolKey(&'static str),
    /// A part could not be encoded.
    #[error("a part of the message could not be encoded")]
    Encode,
    /// The envelope refused it (too large, too many parts).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

/// What a patient sends in one message.
#[derive(Debug, Clone, Copy)]
pub struct PatientMessage<'a> {
    /// The practice (bound into the envelope).
    pub practice: &'a str,
    /// The thread: new, or the patient's earlier one.
    pub thread_id: u64,
    /// This message's id, chosen by the sender.
    pub message_id: u64,
    /// The category the patient picked.
    pub category: Category,
    /// Free text, and for repeat prescriptions the medication request.
    pub parts: &'a [MessagePart],
    /// Who the patient is.
    pub details: &'a PatientDetails,
}

fn kind(part: &MessagePart) -> PartKind {
    match part {
        MessagePart::FreeText(_) => PartKind::FreeText,
        MessagePart::MedicationRequest(_) => PartKind::MedicationRequest,
        MessagePart::Attachment(_) => PartKind::AttachmentRef,
    }
}

/// Seals `message` from `sender` to the pools allowed to read each part.
pub fn seal_patient_message<R: CryptoRngCore + ?Sized>(
    rng: &mut R,
    sender: &SigningKey,
    pools: &PoolKeys,
    message: &PatientMessage<'_>,
) -> Result<Vec<u8>, PatientSealError> {
    let mut plaintexts = Vec::with_capacity(message.parts.len());
    let mut recipients = Vec::with_capacity(message.parts.len());
    for part in message.parts {
        plaintexts.push(part.to_sealed_plaintext().map_err(|_| PatientSealError::Encode)?);
        let to = pools_that_can_read_part(part, message.category)
            .into_iter()
            .map(|pool| Ok(Recipient { id: RecipientId::Pool(pool), public_key: pools.get(pool)? }))
            .collect::<Result<Vec<_>, PatientSealError>>()?;
        recipients.push(to);
    }
    let mut inputs: Vec<PartInput<'_>> = message
        .parts
        .iter()
        .zip(&plaintexts)
        .zip(&recipients)
        .map(|((part, plaintext), to)| PartInput { kind: kind(part), plaintext, recipients: to })
        .collect();
    let details = message.details.to_sealed_plaintext().map_err(|_| PatientSealError::Encode)?;
    let mut details_to: Vec<Recipient> = recipients.iter().flatten().copied().collect();
    details_to.sort_by_key(|r| r.id);
    details_to.dedup_by_key(|r| r.id);
    inputs.push(PartInput { kind: PartKind::PatientDetails, plaintext: &details, recipients: &details_to });
    let fields = EnvelopeFields {
        practice: message.practice,
        thread_id: message.thread_id,
        message_id: message.message_id,
    };
    Ok(seal_envelope(rng, sender, &fields, &inputs)?)
}

/// A reply from the practice, opened by the patient. `Debug` redacts the
/// text.
#[derive(Debug)]
pub struct OpenedReply {
    /// The thread.
    pub thread_id: u64,
    /// The message.
    pub message_id: u64,
    /// What the clinician wrote, signed off with their name and role.
    pub text: FreeText,
    /// The role of the device's member of staff, as the directory binds it.
    pub role: String,
    /// Sent from a device the practice has since revoked (it was approved
    /// when the practice signed its key).
    pub from_revoked_device: bool,
}

/// Why a reply was not shown. Names no content.
#[derive(Debug, thiserror::Error)]
pub enum ReplyOpenError {
    /// Not openable with this channel's key, or altered.
    #[error("the reply could not be opened: {0}")]
    Envelope(#[from] EnvelopeError),
    /// Bound to another practice.
    #[error("the reply names another practice")]
    OtherPractice,
    /// Signed by a key no practice device has in the signed directory: the
    /// hub (or someone) wrote it, not the practice.
    #[error("the reply is not signed by a computer the practice approved")]
    UnknownSender,
    /// A part is not a message part.
    #[error("a part of the reply could not be read")]
    Part,
}

/// Opens a reply sealed to the patient with `secret`, if a device of
/// `practice` the verified directory `dir` names signed it.
pub fn open_reply(
    bytes: &[u8],
    practice: &str,
    secret: &StaticSecret,
    dir: &Directory,
) -> Result<OpenedReply, ReplyOpenError> {
    let opened = open_envelope(bytes, RecipientId::Patient, secret, None)?;
    if opened.header.practice != practice {
        return Err(ReplyOpenError::OtherPractice);
    }
    let (_, device) =
        dir.device_by_signing_key(opened.header.sender.as_bytes()).ok_or(ReplyOpenError::UnknownSender)?;
    let mut text = String::new();
    for part in &opened.parts {
        if let MessagePart::FreeText(t) =
            MessagePart::from_sealed_plaintext(&part.plaintext).map_err(|_| ReplyOpenError::Part)?
        {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(t.reveal());
        }
    }
    Ok(OpenedReply {
        thread_id: opened.header.thread_id,
        message_id: opened.header.message_id,
        text: FreeText::new(text),
        role: device.role.clone(),
        from_revoked_device: device.revoked,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use chacha20poly1305::aead::OsRng;
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::directory::{Entry, Statement, GENESIS};

    const PRACTICE: &str = "P81001";

    fn directory(
        practice_key: &SigningKey,
        devices: &[(&str, &SigningKey)],
        revoke: Option<&str>,
    ) -> Directory {
        let mut entries: Vec<Entry> = devices
            .iter()
            .map(|(id, key)| Entry::Device {
                device: (*id).to_owned(),
                staff: format!("staff-{id}"),
                role: "gp".to_owned(),
                x25519: [7; 32],
                ed25519: key.verifying_key().to_bytes(),
            })
            .collect();
        entries.extend(revoke.map(|d| Entry::Revoke { device: d.to_owned() }));
        let mut dir = Directory::new(PRACTICE, practice_key.verifying_key());
        let mut head = (0, GENESIS);
        for entry in entries {
            let s = Statement::sign(practice_key, PRACTICE, head, entry);
            head = (s.seq, s.hash(PRACTICE));
            dir.apply(&s).unwrap();
        }
        dir
    }

    fn reply(from: &SigningKey, practice: &str, to: &StaticSecret, text: &str) -> Vec<u8> {
        let part = MessagePart::FreeText(FreeText::new(text)).to_sealed_plaintext().unwrap();
        let to = [Recipient { id: RecipientId::Patient, public_key: PublicKey::from(to) }];
        let input = [PartInput { kind: PartKind::FreeText, plaintext: &part, recipients: &to }];
        let fields = EnvelopeFields { practice, thread_id: 41, message_id: 42 };
        seal_envelope(&mut OsRng, from, &fields, &input).unwrap()
    }

    #[test]
    fn a_reply_opens_only_when_a_device_the_practice_signed_for_sent_it() {
        let practice_key = SigningKey::from_bytes(&[1; 32]);
        let (gp, stranger, retired) = (
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[3; 32]),
            SigningKey::from_bytes(&[4; 32]),
        );
        let dir = directory(&practice_key, &[("gp-pc", &gp), ("old-pc", &retired)], Some("old-pc"));
        let patient = StaticSecret::from([5; 32]);

        let opened = open_reply(
            &reply(&gp, PRACTICE, &patient, "Collect it Friday.\n\nDr Rao, GP"),
            PRACTICE,
            &patient,
            &dir,
        )
        .unwrap();
        assert_eq!(
            (
                opened.thread_id,
                opened.message_id,
                opened.text.reveal(),
                opened.role.as_str(),
                opened.from_revoked_device
            ),
            (41, 42, "Collect it Friday.\n\nDr Rao, GP", "gp", false)
        );
        let old =
            open_reply(&reply(&retired, PRACTICE, &patient, "earlier"), PRACTICE, &patient, &dir).unwrap();
        assert!(old.from_revoked_device);
        // The hub (or anyone) signing with a key of its own is not the practice.
        let forged = open_reply(&reply(&stranger, PRACTICE, &patient, "forged"), PRACTICE, &patient, &dir);
        assert!(matches!(forged, Err(ReplyOpenError::UnknownSender)), "{forged:?}");
        let elsewhere = open_reply(&reply(&gp, "Y00001", &patient, "x"), PRACTICE, &patient, &dir);
        assert!(matches!(elsewhere, Err(ReplyOpenError::OtherPractice)), "{elsewhere:?}");
        let not_mine =
            open_reply(&reply(&gp, PRACTICE, &patient, "x"), PRACTICE, &StaticSecret::from([6; 32]), &dir);
        assert!(matches!(not_mine, Err(ReplyOpenError::Envelope(_))), "{not_mine:?}");
    }
}
