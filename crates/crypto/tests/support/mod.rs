//! Fixed keys and a seeded RNG shared by the envelope tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::envelope::{seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId};
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::pool::Pool;

pub const FREE_TEXT: &[u8] = b"MARKER-FREE-TEXT: I have had a dry cough since starting ramipril.";
pub const MEDICATION: &[u8] = b"MARKER-MED: Ramipril 5mg capsules, 28";

pub fn sender() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// A recipient's fixed secret: one per pool, one for the patient.
pub fn secret(id: RecipientId) -> StaticSecret {
    StaticSecret::from([id_seed(id); 32])
}

fn id_seed(id: RecipientId) -> u8 {
    match id {
        RecipientId::Pool(Pool::Gp) => 0x11,
        RecipientId::Pool(Pool::Nurse) => 0x22,
        RecipientId::Pool(Pool::Pharmacy) => 0x33,
        RecipientId::Pool(Pool::Admin) => 0x44,
        RecipientId::Patient => 0x55,
    }
}

pub fn recipient(id: RecipientId) -> Recipient {
    Recipient { id, public_key: PublicKey::from(&secret(id)) }
}

pub fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

pub const GP: RecipientId = RecipientId::Pool(Pool::Gp);
pub const NURSE: RecipientId = RecipientId::Pool(Pool::Nurse);
pub const PHARMACY: RecipientId = RecipientId::Pool(Pool::Pharmacy);
pub const ADMIN: RecipientId = RecipientId::Pool(Pool::Admin);

pub fn fields() -> EnvelopeFields<'static> {
    EnvelopeFields { practice: "P81001", thread_id: 0x0102_0304_0506_0708, message_id: 42 }
}

/// The reference envelope: free text to GP + nurse, medication request to
/// GP + pharmacy, deterministic from seed 1.
pub fn reference_envelope() -> Vec<u8> {
    let clinical = [recipient(GP), recipient(NURSE)];
    let prescribing = [recipient(GP), recipient(PHARMACY)];
    let parts = [
        PartInput { kind: PartKind::FreeText, plaintext: FREE_TEXT, recipients: &clinical },
        PartInput { kind: PartKind::MedicationRequest, plaintext: MEDICATION, recipients: &prescribing },
    ];
    seal_envelope(&mut rng(1), &sender(), &fields(), &parts).unwrap()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
