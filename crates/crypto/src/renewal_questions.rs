//! The practice's renewal questions, signed with the practice key. An
//! admin's workstation signs them; the hub checks and serves them; the
//! patient's browser shows only a set that verifies under the practice key
//! its invite pinned, so a hub (or anyone between) cannot change what
//! patients are asked, or ask them something of its own.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sealbox_model::hub_api::{Base64Bytes, SignedRenewalQuestions};
use sealbox_model::renewal::{RenewalQuestions, RenewalQuestionsError};

const DOMAIN: &[u8] = b"sealbox/renewal-questions/v1";

/// Why a signed set is not taken.
#[derive(Debug, thiserror::Error)]
pub enum RenewalQuestionsRefused {
    /// The signature is not the practice key's over these questions.
    #[error("the renewal questions are not signed by the practice key")]
    BadSignature,
    /// The bytes are not a question set.
    #[error("the renewal questions cannot be read")]
    Unreadable,
    /// A set the practice could not have published.
    #[error(transparent)]
    Malformed(#[from] RenewalQuestionsError),
}

fn message(practice: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + practice.len() + body.len() + 16);
    for part in [DOMAIN, practice.as_bytes(), body] {
        m.extend_from_slice(&(part.len() as u64).to_be_bytes());
        m.extend_from_slice(part);
    }
    m
}

/// Signs `questions` as `practice`'s, with its practice key.
pub fn sign(
    key: &SigningKey,
    practice: &str,
    questions: &RenewalQuestions,
) -> Result<SignedRenewalQuestions, RenewalQuestionsRefused> {
    questions.check()?;
    let body = serde_json::to_vec(questions).map_err(|_| RenewalQuestionsRefused::Unreadable)?;
    let signature = key.sign(&message(practice, &body)).to_bytes();
    Ok(SignedRenewalQuestions { body: Base64Bytes(body), signature: Base64Bytes(signature.to_vec()) })
}

/// The questions, if `key` signed them for `practice` and they keep the
/// limits a practice may publish.
pub fn verify(
    key: &VerifyingKey,
    practice: &str,
    signed: &SignedRenewalQuestions,
) -> Result<RenewalQuestions, RenewalQuestionsRefused> {
    let signature = <[u8; 64]>::try_from(signed.signature.as_slice())
        .map(|b| Signature::from_bytes(&b))
        .map_err(|_| RenewalQuestionsRefused::BadSignature)?;
    key.verify(&message(practice, signed.body.as_slice()), &signature)
        .map_err(|_| RenewalQuestionsRefused::BadSignature)?;
    let questions: RenewalQuestions =
        serde_json::from_slice(signed.body.as_slice()).map_err(|_| RenewalQuestionsRefused::Unreadable)?;
    questions.check()?;
    Ok(questions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_set_verifies_under_its_practice_key_only() {
        let questions = RenewalQuestions::standard();
        let signed = sign(&key(1), "riverside", &questions).unwrap();
        assert_eq!(verify(&key(1).verifying_key(), "riverside", &signed).unwrap(), questions);
        assert!(matches!(
            verify(&key(2).verifying_key(), "riverside", &signed),
            Err(RenewalQuestionsRefused::BadSignature)
        ));
        // Another practice's set is not this one's, even under the same key.
        assert!(verify(&key(1).verifying_key(), "elmwood", &signed).is_err());
    }

    #[test]
    fn a_question_changed_after_signing_is_refused() {
        let mut signed = sign(&key(1), "riverside", &RenewalQuestions::standard()).unwrap();
        let text = String::from_utf8(signed.body.0.clone()).unwrap();
        signed.body.0 = text.replace("blood pressure reading", "bank card number").into_bytes();
        assert!(matches!(
            verify(&key(1).verifying_key(), "riverside", &signed),
            Err(RenewalQuestionsRefused::BadSignature)
        ));
        signed.signature.0.truncate(10);
        assert!(verify(&key(1).verifying_key(), "riverside", &signed).is_err());
    }
}
