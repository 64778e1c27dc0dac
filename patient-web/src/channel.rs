//! The patient's channel to the practice: its keys (made in the browser),
//! its token, and who the patient is. Kept only sealed under the patient's
//! passphrase (`sealbox_crypto::pin_seal`: Argon2id, XChaCha20-Poly1305);
//! opened into memory for a session and dropped at sign-out.

use rand_core::{OsRng, RngCore};
use sealbox_crypto::directory::Directory;
use sealbox_crypto::ed25519_dalek::{SigningKey, VerifyingKey};
use sealbox_crypto::patient_invite::{parse_date_of_birth, InviteLink, PatientIdentity};
use sealbox_crypto::patient_message::{
    open_reply, seal_patient_message, OpenedReply, PatientMessage, PoolKeys, ReplyOpenError,
};
use sealbox_crypto::pin_seal;
use sealbox_crypto::seal::{open_sealed, seal_to};
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{Base64Bytes, PatientJoinRequest, PatientJoined, PatientMessageRequest};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::message::MessagePart;
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::patient::{DateOfBirth, DisplayName, PatientDetails};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE: usize = 10;

/// Why joining, unlocking or sealing failed, in words for the patient.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("Please type your full name.")]
    Name,
    #[error("Please type your date of birth as day/month/year, for example 19/07/1984.")]
    DateOfBirth,
    #[error("That NHS number is not right. It has 10 digits, for example 943 476 5919.")]
    NhsNumber,
    #[error("Your passphrase needs at least {MIN_PASSPHRASE} characters. Three random words work well.")]
    ShortPassphrase,
    #[error("The two passphrases are not the same.")]
    PassphrasesDiffer,
    #[error("That passphrase is not right.")]
    WrongPassphrase,
    #[error("Your saved details could not be read on this device. Ask your practice for a new invite.")]
    Damaged,
    #[error("Your message could not be locked for sending: {0}")]
    Seal(String),
}

/// Who the patient says they are, as typed.
pub struct Typed<'a> {
    pub name: &'a str,
    pub date_of_birth: &'a str,
    pub nhs_number: &'a str,
    /// Where to be told of replies (blank: not told).
    pub email: &'a str,
}

/// The new channel's keys and the request that registers them.
pub struct Joining {
    signing: SigningKey,
    reply: StaticSecret,
    details: PatientDetails,
    /// What to post to `/v1/patient/join`.
    pub request: PatientJoinRequest,
}

/// Checks what the patient typed and makes the channel's keys.
pub fn begin_join(link: &InviteLink, typed: &Typed<'_>) -> Result<Joining, ChannelError> {
    // The NHS number is the patient's to give or leave out.
    let nhs = match typed.nhs_number.trim() {
        "" => None,
        text => Some(NhsNumber::parse(text).map_err(|_| ChannelError::NhsNumber)?),
    };
    let born = parse_date_of_birth(typed.date_of_birth).ok_or(ChannelError::DateOfBirth)?;
    let identity = PatientIdentity::new(typed.name, typed.date_of_birth, nhs.as_ref().map(NhsNumber::reveal))
        .map_err(|_| ChannelError::Name)?;
    // Typed, it joins an invite made with it or without it.
    let without_nhs = match nhs {
        Some(_) => Some(
            PatientIdentity::new(typed.name, typed.date_of_birth, None).map_err(|_| ChannelError::Name)?,
        ),
        None => None,
    };
    let signing = SigningKey::generate(&mut OsRng);
    let reply = StaticSecret::random_from_rng(OsRng);
    let request = PatientJoinRequest {
        lookup: Base64Bytes(link.code.lookup().to_vec()),
        identity_tag: Base64Bytes(link.code.tag(&identity).to_vec()),
        identity_tag_without_nhs: without_nhs.map(|i| Base64Bytes(link.code.tag(&i).to_vec())),
        ed25519_public: Base64Bytes(signing.verifying_key().to_bytes().to_vec()),
        x25519_public: Base64Bytes(PublicKey::from(&reply).to_bytes().to_vec()),
        notify_email: Some(typed.email.trim().to_owned()).filter(|e| !e.is_empty()),
    };
    let details = PatientDetails {
        display_name: DisplayName::new(typed.name.split_whitespace().collect::<Vec<_>>().join(" ")),
        date_of_birth: DateOfBirth::new(born),
        nhs_number: nhs,
        written_by: None,
    };
    Ok(Joining { signing, reply, details, request })
}

/// A channel the patient has opened with their passphrase.
pub struct Channel {
    pub practice: String,
    pub practice_key: VerifyingKey,
    token: Zeroizing<String>,
    signing: SigningKey,
    reply: StaticSecret,
    details: PatientDetails,
}

/// What IndexedDB keeps: the practice and its key in the clear (to ask
/// for the passphrase), everything else sealed under it.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredChannel {
    pub practice: String,
    pub practice_key: Base64Bytes,
    pub sealed: Base64Bytes,
}

/// The sealed part of [`StoredChannel`].
#[derive(Serialize, Deserialize)]
struct Secrets {
    patient_id: String,
    token: String,
    ed25519: Base64Bytes,
    x25519: Base64Bytes,
    details: PatientDetails,
    /// The practice key, sealed too: the copy kept in the clear (to ask
    /// for the passphrase) must be this one, or the record was changed.
    #[serde(default)]
    practice_key: Option<Base64Bytes>,
}

fn here_context(practice: &str) -> Vec<u8> {
    [b"sealbox/patient-channel/kept-here/v1/".as_slice(), practice.as_bytes()].concat()
}

fn context(practice: &str) -> Vec<u8> {
    [b"sealbox/patient-channel/v1/".as_slice(), practice.as_bytes()].concat()
}

impl Joining {
    /// The channel the hub opened for these keys.
    pub fn finish(self, link: &InviteLink, joined: PatientJoined) -> (Channel, String) {
        let channel = Channel {
            practice: link.practice.clone(),
            practice_key: link.practice_key,
            token: Zeroizing::new(joined.channel_token.0),
            signing: self.signing,
            reply: self.reply,
            details: self.details,
        };
        (channel, joined.patient_id.0)
    }
}

/// Checks a new passphrase and its repeat.
pub fn check_new_passphrase(first: &str, again: &str) -> Result<(), ChannelError> {
    if first.chars().count() < MIN_PASSPHRASE {
        return Err(ChannelError::ShortPassphrase);
    }
    if first != again {
        return Err(ChannelError::PassphrasesDiffer);
    }
    Ok(())
}

impl Channel {
    /// The bearer token for the hub.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Seals the channel under `passphrase` for IndexedDB.
    pub fn seal(&self, patient_id: &str, passphrase: &str) -> Result<StoredChannel, ChannelError> {
        let secrets = Secrets {
            patient_id: patient_id.to_owned(),
            token: self.token.to_string(),
            ed25519: Base64Bytes(self.signing.to_bytes().to_vec()),
            x25519: Base64Bytes(self.reply.to_bytes().to_vec()),
            details: self.details.clone(),
            practice_key: Some(Base64Bytes(self.practice_key.to_bytes().to_vec())),
        };
        let json = Zeroizing::new(serde_json::to_vec(&secrets).map_err(|_| ChannelError::Damaged)?);
        let sealed = pin_seal::seal(passphrase.as_bytes(), &json, &context(&self.practice))
            .map_err(|e| ChannelError::Seal(e.to_string()))?;
        Ok(StoredChannel {
            practice: self.practice.clone(),
            practice_key: Base64Bytes(self.practice_key.to_bytes().to_vec()),
            sealed: Base64Bytes(sealed),
        })
    }

    /// Opens a stored channel with the patient's passphrase.
    pub fn open(stored: &StoredChannel, passphrase: &str) -> Result<Channel, ChannelError> {
        let json =
            pin_seal::open(passphrase.as_bytes(), stored.sealed.as_slice(), &context(&stored.practice))
                .map_err(|_| ChannelError::WrongPassphrase)?;
        let secrets: Secrets = serde_json::from_slice(&json).map_err(|_| ChannelError::Damaged)?;
        // A practice key swapped in the clear copy (anything that can
        // write this site's storage) would have the browser seal to keys
        // the practice never vouched for: refused.
        if secrets
            .practice_key
            .as_ref()
            .is_some_and(|sealed| sealed.as_slice() != stored.practice_key.as_slice())
        {
            return Err(ChannelError::Damaged);
        }
        let key: [u8; 32] = stored.practice_key.as_slice().try_into().map_err(|_| ChannelError::Damaged)?;
        let ed: [u8; 32] = secrets.ed25519.as_slice().try_into().map_err(|_| ChannelError::Damaged)?;
        let x: [u8; 32] = secrets.x25519.as_slice().try_into().map_err(|_| ChannelError::Damaged)?;
        Ok(Channel {
            practice: stored.practice.clone(),
            practice_key: VerifyingKey::from_bytes(&key).map_err(|_| ChannelError::Damaged)?,
            token: Zeroizing::new(secrets.token),
            signing: SigningKey::from_bytes(&ed),
            reply: StaticSecret::from(x),
            details: secrets.details,
        })
    }

    /// Seals `bytes` to this channel's own key, to keep in this browser
    /// (the medicines asked for before): opened only with the channel, so
    /// only after the passphrase.
    pub fn seal_for_here(&self, bytes: &[u8]) -> Result<Vec<u8>, ChannelError> {
        seal_to(&mut OsRng, &PublicKey::from(&self.reply), bytes, &here_context(&self.practice))
            .map_err(|e| ChannelError::Seal(e.to_string()))
    }

    /// Opens what [`Channel::seal_for_here`] sealed.
    pub fn open_from_here(&self, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        open_sealed(&self.reply, sealed, &here_context(&self.practice)).ok()
    }

    /// Seals a message on `thread_id` to the practice's pools.
    pub fn seal_message(
        &self,
        pools: &PoolKeys,
        thread_id: ThreadId,
        category: Category,
        parts: &[MessagePart],
    ) -> Result<PatientMessageRequest, ChannelError> {
        let message_id = MessageId(wire_id());
        let message = PatientMessage {
            practice: &self.practice,
            thread_id: thread_id.0,
            message_id: message_id.0,
            category,
            parts,
            details: &self.details,
        };
        let envelope = seal_patient_message(&mut OsRng, &self.signing, pools, &message)
            .map_err(|e| ChannelError::Seal(e.to_string()))?;
        Ok(PatientMessageRequest { thread_id, message_id, category, envelope: Base64Bytes(envelope) })
    }

    /// Opens a reply sealed to this channel, if a device of the practice
    /// the verified directory names signed it.
    pub fn open_reply(&self, bytes: &[u8], dir: &Directory) -> Result<OpenedReply, ReplyOpenError> {
        open_reply(bytes, &self.practice, &self.reply, dir)
    }
}

/// A new thread's id.
pub fn new_thread() -> ThreadId {
    ThreadId(wire_id())
}

/// A random id between 1 and 2^63-1, as the hub's wire ids are.
fn wire_id() -> u64 {
    (OsRng.next_u64() >> 1).max(1)
}
