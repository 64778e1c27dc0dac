//! A planned message → a sealed envelope: each part sealed to exactly the
//! pools that may read it (sealbox-model's permission matrix), signed with
//! the patient's key.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;
use x25519_dalek::{PublicKey, StaticSecret};

use sealbox_crypto::envelope::{seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId};
use sealbox_model::hub_api::{PracticeKeys, SimPatient};
use sealbox_model::message::MessagePart;
use sealbox_model::permissions::pools_that_can_read_part;
use sealbox_model::pool::Pool;

use crate::traffic::PlannedMessage;
use crate::SimError;

/// The practice's current public key per pool.
#[derive(Debug, Clone)]
pub struct PoolKeys(BTreeMap<Pool, PublicKey>);

impl PoolKeys {
    /// From `GET /v1/practice/keys`; the highest key version of each pool wins.
    pub fn from_published(keys: &PracticeKeys) -> Result<Self, SimError> {
        let mut newest: BTreeMap<Pool, (u32, PublicKey)> = BTreeMap::new();
        for k in &keys.pools {
            let bytes: [u8; 32] =
                k.x25519_public.as_slice().try_into().map_err(|_| SimError::BadKey("pool public key"))?;
            if newest.get(&k.pool).is_none_or(|(v, _)| *v < k.key_version) {
                newest.insert(k.pool, (k.key_version, PublicKey::from(bytes)));
            }
        }
        Ok(PoolKeys(newest.into_iter().map(|(pool, (_, key))| (pool, key)).collect()))
    }

    /// From known keys (tests, benches).
    pub fn new(keys: impl IntoIterator<Item = (Pool, PublicKey)>) -> Self {
        PoolKeys(keys.into_iter().collect())
    }

    fn get(&self, pool: Pool) -> Result<PublicKey, SimError> {
        self.0.get(&pool).copied().ok_or(SimError::MissingPoolKey(pool.key()))
    }
}

/// The patient's signing key from the practice file.
pub fn signing_key(patient: &SimPatient) -> Result<SigningKey, SimError> {
    let seed: [u8; 32] =
        patient.ed25519_secret.as_slice().try_into().map_err(|_| SimError::BadKey("patient signing key"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The patient's X25519 secret (opens replies) from the practice file.
pub fn reply_secret(patient: &SimPatient) -> Result<StaticSecret, SimError> {
    let bytes: [u8; 32] =
        patient.x25519_secret.as_slice().try_into().map_err(|_| SimError::BadKey("patient reply key"))?;
    Ok(StaticSecret::from(bytes))
}

fn kind(part: &MessagePart) -> PartKind {
    match part {
        MessagePart::FreeText(_) => PartKind::FreeText,
        MessagePart::MedicationRequest(_) => PartKind::MedicationRequest,
        MessagePart::Attachment(_) => PartKind::AttachmentRef,
    }
}

/// Seals `planned` from `patient` to the pools allowed to read each part.
pub fn seal_message(
    practice_id: &str,
    patient: &SimPatient,
    pools: &PoolKeys,
    planned: &PlannedMessage,
) -> Result<Vec<u8>, SimError> {
    let sender = signing_key(patient)?;
    let mut plaintexts = Vec::with_capacity(planned.parts.len());
    let mut recipients = Vec::with_capacity(planned.parts.len());
    for part in &planned.parts {
        plaintexts.push(part.to_sealed_plaintext().map_err(|e| SimError::Seal(e.to_string()))?);
        let to = pools_that_can_read_part(part, planned.category)
            .into_iter()
            .map(|pool| Ok(Recipient { id: RecipientId::Pool(pool), public_key: pools.get(pool)? }))
            .collect::<Result<Vec<_>, SimError>>()?;
        recipients.push(to);
    }
    let inputs: Vec<PartInput<'_>> = planned
        .parts
        .iter()
        .zip(&plaintexts)
        .zip(&recipients)
        .map(|((part, plaintext), to)| PartInput { kind: kind(part), plaintext, recipients: to })
        .collect();
    let fields = EnvelopeFields {
        practice: practice_id,
        thread_id: planned.thread_id.0,
        message_id: planned.message_id.0,
    };
    seal_envelope(&mut OsRng, &sender, &fields, &inputs).map_err(|e| SimError::Seal(e.to_string()))
}
