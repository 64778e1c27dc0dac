//! A planned message → a sealed envelope, sealed as a patient's browser
//! seals it (`sealbox_crypto::patient_message`), signed with the patient's
//! key.

use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;
use x25519_dalek::StaticSecret;

pub use sealbox_crypto::patient_message::PoolKeys;
use sealbox_crypto::patient_message::{seal_patient_message, PatientMessage, PatientSealError};
use sealbox_model::hub_api::SimPatient;
use sealbox_model::patient::PatientDetails;

use crate::traffic::PlannedMessage;
use crate::SimError;

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

/// A simulated patient's name, date of birth and NHS number, derived from
/// the pseudonym so every message of a patient names the same person.
pub fn patient_details(patient: &SimPatient) -> PatientDetails {
    const GIVEN: [&str; 10] =
        ["Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Harry", "Ivy", "Jonah"];
    const FAMILY: [&str; 10] =
        ["Okafor", "Walsh", "Patel", "Hughes", "Nowak", "Evans", "Khan", "Murphy", "Singh", "Taylor"];
    let h = patient
        .patient_id
        .0
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let family = FAMILY[((h / 10) % 10) as usize];
    let name = format!("{} {family}", GIVEN[(h % 10) as usize]);
    let year = 1930 + ((h / 100) % 90) as i16;
    let month = 1 + ((h / 9_000) % 12) as i8;
    let day = 1 + ((h / 108_000) % 28) as i8;
    let date = sealbox_model::jiff::civil::Date::new(year, month, day).unwrap_or_default();
    // A child's messages are written by a parent.
    let written_by = (year > 2010).then(|| sealbox_model::patient::Representative {
        name: sealbox_model::patient::DisplayName::new(format!(
            "{} {family}",
            GIVEN[((h % 10 + 5) % 10) as usize]
        )),
        relationship: sealbox_model::patient::Relationship::Parent,
    });
    PatientDetails {
        display_name: sealbox_model::patient::DisplayName::new(name),
        date_of_birth: sealbox_model::patient::DateOfBirth::new(date),
        nhs_number: Some(nhs_number(h)),
        written_by,
    }
}

/// A valid (modulus 11) NHS number from `seed`, in the 999 test range.
fn nhs_number(seed: u64) -> sealbox_model::nhs_number::NhsNumber {
    let mut body = 999_000_000 + seed % 1_000_000;
    loop {
        let digits: Vec<u64> = body.to_string().bytes().map(|b| u64::from(b - b'0')).collect();
        let sum: u64 = digits.iter().enumerate().map(|(i, d)| d * (10 - i as u64)).sum();
        let check = (11 - sum % 11) % 11;
        if check != 10 {
            let text = format!("{body}{check}");
            if let Ok(n) = sealbox_model::nhs_number::NhsNumber::parse(&text) {
                return n;
            }
        }
        body = 999_000_000 + (body + 1) % 1_000_000;
    }
}

/// Seals `planned` from `patient` to the pools allowed to read each part
/// (`sealbox_crypto::patient_message`, as the patient's browser does).
pub fn seal_message(
    practice_id: &str,
    patient: &SimPatient,
    pools: &PoolKeys,
    planned: &PlannedMessage,
) -> Result<Vec<u8>, SimError> {
    let message = PatientMessage {
        practice: practice_id,
        thread_id: planned.thread_id.0,
        message_id: planned.message_id.0,
        category: planned.category,
        parts: &planned.parts,
        details: &patient_details(patient),
    };
    seal_patient_message(&mut OsRng, &signing_key(patient)?, pools, &message).map_err(|e| match e {
        PatientSealError::MissingPoolKey(pool) => SimError::MissingPoolKey(pool),
        other => SimError::Seal(other.to_string()),
    })
}
