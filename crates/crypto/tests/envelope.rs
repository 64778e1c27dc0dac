//! Round trips, access by keys, and every error class of the envelope format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

mod support;

use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::envelope::*;
use sealbox_crypto::seal::SealError;
use sealbox_crypto::x25519_dalek::PublicKey;
use support::*;

fn one_part(kind: PartKind, plaintext: &[u8], to: &[Recipient]) -> Result<Vec<u8>, EnvelopeError> {
    seal_envelope(&mut rng(9), &sender(), &fields(), &[PartInput { kind, plaintext, recipients: to }])
}

/// Re-signs `body` (everything but the signature) with the reference sender,
/// so structural checks can be reached past the signature.
fn resign(mut body: Vec<u8>) -> Vec<u8> {
    use sealbox_crypto::ed25519_dalek::Signer;
    let sig = sender().sign(&body);
    body.extend_from_slice(&sig.to_bytes());
    body
}

#[test]
fn round_trip_header_and_access_by_keys() {
    let bytes = reference_envelope();
    let header = EnvelopeHeader::parse(&bytes).unwrap();
    assert_eq!(header.version, FORMAT_VERSION);
    assert_eq!(header.parts.len(), 2);
    assert_eq!(header.parts[0].recipients, vec![GP, NURSE]);
    assert_eq!(header.parts[0].ciphertext_len, FREE_TEXT.len() + 16);
    assert_eq!(header.parts[1].recipients, vec![GP, PHARMACY]);
    assert_eq!(header.kinds_for(PHARMACY), vec![PartKind::MedicationRequest]);

    let nurse = open_envelope(&bytes, NURSE, &secret(NURSE), None).unwrap();
    assert_eq!(nurse.parts.len(), 1);
    assert_eq!(nurse.parts[0].plaintext.as_slice(), FREE_TEXT);
    assert_eq!(nurse.withheld, vec![PartKind::MedicationRequest]);

    // A pharmacy device cannot open the free text: its key is not there.
    let pharmacy = open_envelope(&bytes, PHARMACY, &secret(PHARMACY), None).unwrap();
    assert!(pharmacy.parts.iter().all(|p| p.kind != PartKind::FreeText));

    // A device holding two pools' keys reads the union of their parts.
    let both = open_envelope_as(
        &bytes,
        &[RecipientKey::new(NURSE, secret(NURSE)), RecipientKey::new(PHARMACY, secret(PHARMACY))],
        None,
    )
    .unwrap();
    let read: Vec<&[u8]> = both.parts.iter().map(|p| p.plaintext.as_slice()).collect();
    assert_eq!(read, vec![FREE_TEXT, MEDICATION]);
    assert!(both.withheld.is_empty());
    // One slot is enough for GP: a wrong pharmacy key after it is never used.
    let gp_first = open_envelope_as(
        &bytes,
        &[RecipientKey::new(GP, secret(GP)), RecipientKey::new(PHARMACY, secret(NURSE))],
        None,
    )
    .unwrap();
    assert_eq!(gp_first.parts.len(), 2);

    // No plaintext in the bytes; no plaintext in Debug output.
    assert!(!bytes.windows(6).any(|w| w == b"MARKER"));
    let dbg = format!("{nurse:?}");
    assert!(!dbg.contains("MARKER") && !dbg.contains("ramipril"), "{dbg}");
}

#[test]
fn several_versions_of_one_pools_key_open_what_any_of_them_was_sealed_to() {
    use sealbox_crypto::x25519_dalek::StaticSecret;
    // After a rotation a device holds the old and the new key of a pool,
    // newest first; the envelope was sealed to the old one.
    let bytes = reference_envelope();
    let newer = StaticSecret::from([0x42; 32]);
    let both = open_envelope_as(
        &bytes,
        &[RecipientKey::new(NURSE, newer.clone()), RecipientKey::new(NURSE, secret(NURSE))],
        None,
    )
    .unwrap();
    assert_eq!(both.parts[0].plaintext.as_slice(), FREE_TEXT);
    // The new key alone (a device that never held the old one) opens nothing,
    // and says so as before.
    let alone = open_envelope_as(&bytes, &[RecipientKey::new(NURSE, newer)], None).unwrap_err();
    assert!(matches!(alone, EnvelopeError::DecryptFailed), "{alone:?}");
}

#[test]
fn fresh_randomness_gives_different_bytes_for_the_same_input() {
    let a = one_part(PartKind::FreeText, b"x", &[recipient(GP)]).unwrap();
    let b = seal_envelope(
        &mut rng(10),
        &sender(),
        &fields(),
        &[PartInput { kind: PartKind::FreeText, plaintext: b"x", recipients: &[recipient(GP)] }],
    )
    .unwrap();
    assert_ne!(a, b);
}

#[test]
fn reply_to_the_patient_and_empty_or_maximal_parts() {
    let big = vec![0xA5u8; MAX_PART_PLAINTEXT];
    let bytes =
        one_part(PartKind::FreeText, &big, &[recipient(RecipientId::Patient), recipient(GP)]).unwrap();
    let opened = open_envelope(&bytes, RecipientId::Patient, &secret(RecipientId::Patient), None).unwrap();
    assert_eq!(opened.parts[0].plaintext.as_slice(), big.as_slice());
    let empty = one_part(PartKind::AttachmentRef, b"", &[recipient(ADMIN)]).unwrap();
    let opened = open_envelope(&empty, ADMIN, &secret(ADMIN), None).unwrap();
    assert!(opened.parts[0].plaintext.is_empty());
}

#[test]
fn maximal_envelope_fits_the_limit() {
    let big = vec![1u8; MAX_PART_PLAINTEXT];
    let all: Vec<Recipient> =
        [GP, NURSE, PHARMACY, ADMIN, RecipientId::Patient].into_iter().map(recipient).collect();
    let parts: Vec<PartInput> = (0..MAX_PARTS)
        .map(|_| PartInput { kind: PartKind::AttachmentRef, plaintext: &big, recipients: &all })
        .collect();
    let bytes = seal_envelope(&mut rng(3), &sender(), &fields(), &parts).unwrap();
    assert!(bytes.len() <= MAX_ENVELOPE);
    assert_eq!(open_envelope(&bytes, ADMIN, &secret(ADMIN), None).unwrap().parts.len(), MAX_PARTS);
}

#[test]
fn building_rejects_out_of_limit_input() {
    let gp = [recipient(GP)];
    let too_big = vec![0u8; MAX_PART_PLAINTEXT + 1];
    assert!(matches!(
        one_part(PartKind::FreeText, &too_big, &gp),
        Err(EnvelopeError::TooLarge { what: "part plaintext bytes", .. })
    ));
    assert_eq!(
        one_part(PartKind::FreeText, b"x", &[]),
        Err(EnvelopeError::Malformed { what: "part without recipients" })
    );
    assert_eq!(
        one_part(PartKind::FreeText, b"x", &[recipient(GP), recipient(GP)]),
        Err(EnvelopeError::Malformed { what: "duplicate recipient" })
    );
    let nine: Vec<Recipient> = (0..9).map(|_| recipient(GP)).collect();
    assert!(matches!(one_part(PartKind::FreeText, b"x", &nine), Err(EnvelopeError::TooLarge { .. })));
    let part = PartInput { kind: PartKind::FreeText, plaintext: b"x", recipients: &gp };
    let s = sender();
    assert!(matches!(
        seal_envelope(&mut rng(1), &s, &fields(), &[part; MAX_PARTS + 1]),
        Err(EnvelopeError::TooLarge { what: "part count", .. })
    ));
    assert_eq!(
        seal_envelope(&mut rng(1), &s, &fields(), &[]),
        Err(EnvelopeError::Malformed { what: "no parts" })
    );
    for (practice, thread_id, message_id) in
        [("", 1, 1), ("P", 0, 1), ("P", 1, 0), ("P", 1 << 63, 1), ("P", 1, u64::MAX)]
    {
        let f = EnvelopeFields { practice, thread_id, message_id };
        assert!(matches!(seal_envelope(&mut rng(1), &s, &f, &[part]), Err(EnvelopeError::Malformed { .. })));
    }
    let long = "P".repeat(MAX_PRACTICE_LEN + 1);
    let f = EnvelopeFields { practice: &long, thread_id: 1, message_id: 1 };
    assert!(matches!(seal_envelope(&mut rng(1), &s, &f, &[part]), Err(EnvelopeError::TooLarge { .. })));
    let other_gp_key = [Recipient { id: GP, public_key: PublicKey::from([5u8; 32]) }];
    assert_eq!(
        seal_envelope(
            &mut rng(1),
            &s,
            &fields(),
            &[
                part,
                PartInput { kind: PartKind::MedicationRequest, plaintext: b"y", recipients: &other_gp_key }
            ]
        ),
        Err(EnvelopeError::Malformed { what: "recipient with two keys" })
    );
    let weak = [Recipient { id: GP, public_key: PublicKey::from([0u8; 32]) }];
    assert_eq!(one_part(PartKind::FreeText, b"x", &weak), Err(EnvelopeError::Seal(SealError::WeakKey)));
}

#[test]
fn every_parse_error_class() {
    let good = reference_envelope();
    let body = good[..good.len() - 64].to_vec();

    assert_eq!(EnvelopeHeader::parse(&[]), Err(EnvelopeError::Truncated));
    assert_eq!(EnvelopeHeader::parse(&good[..good.len() - 1]), Err(EnvelopeError::Truncated));
    assert_eq!(EnvelopeHeader::parse(&good[..40]), Err(EnvelopeError::Truncated));

    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(EnvelopeHeader::parse(&bad), Err(EnvelopeError::BadMagic));
    // Version 1 (a sealed key per part per recipient) is no longer read.
    for version in [1u8, 3] {
        let mut bad = good.clone();
        bad[4] = version;
        assert_eq!(EnvelopeHeader::parse(&bad), Err(EnvelopeError::UnknownVersion(version)));
    }

    let huge = vec![0u8; MAX_ENVELOPE + 1];
    assert!(matches!(
        EnvelopeHeader::parse(&huge),
        Err(EnvelopeError::TooLarge { what: "envelope bytes", .. })
    ));

    // Flipping a ciphertext byte or the signature: the signature fails.
    for i in [good.len() - 100, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 1;
        assert_eq!(EnvelopeHeader::parse(&bad), Err(EnvelopeError::BadSignature), "byte {i}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(
        EnvelopeHeader::parse(&trailing),
        Err(EnvelopeError::Malformed { what: "trailing bytes after the signature" })
    );

    // Structural errors behind a valid signature. Layout of the reference
    // envelope: practice "P81001" is 6 bytes, so the part count is at
    // 5+1+6+16+32 = 60 and the recipient count at 61; then the slots in
    // order of first appearance: GP (parts 0 and 1, 2 keys), nurse (part 0),
    // pharmacy (part 1); then the parts.
    let part_count_at = 60;
    let gp_at = 62;
    let nurse_at = gp_at + 2 + sealed_keys_len(2);
    let pharmacy_at = nurse_at + 2 + sealed_keys_len(1);
    let parts_at = pharmacy_at + 2 + sealed_keys_len(1);
    let cases: Vec<(usize, u8, EnvelopeError)> = vec![
        (5, 0, EnvelopeError::Malformed { what: "empty practice id" }),
        (5, 65, EnvelopeError::TooLarge { what: "practice id bytes", max: MAX_PRACTICE_LEN }),
        (6, 0xff, EnvelopeError::Malformed { what: "practice id is not UTF-8" }),
        (12, 0, EnvelopeError::Malformed { what: "thread id out of range" }),
        (20, 0x80, EnvelopeError::Malformed { what: "message id out of range" }),
        (part_count_at, 0, EnvelopeError::Malformed { what: "no parts" }),
        (part_count_at, 9, EnvelopeError::TooLarge { what: "part count", max: MAX_PARTS }),
        (part_count_at + 1, 0, EnvelopeError::Malformed { what: "no recipients" }),
        (part_count_at + 1, 9, EnvelopeError::TooLarge { what: "recipients", max: MAX_RECIPIENTS }),
        (gp_at, 0x77, EnvelopeError::Malformed { what: "recipient tag" }),
        (gp_at + 1, 0, EnvelopeError::Malformed { what: "recipient without parts" }),
        (gp_at + 1, 0b111, EnvelopeError::Malformed { what: "part mask names a missing part" }),
        (nurse_at, GP.tag(), EnvelopeError::Malformed { what: "duplicate recipient" }),
        (parts_at, 9, EnvelopeError::Malformed { what: "part kind" }),
    ];
    for (at, value, want) in cases {
        let mut b = body.clone();
        if at == 12 {
            b[12..20].copy_from_slice(&[0u8; 8]);
        } else {
            b[at] = value;
        }
        assert_eq!(EnvelopeHeader::parse(&resign(b)), Err(want.clone()), "offset {at} -> {want:?}");
    }
    // A mask naming more parts than its slot holds keys for misreads what
    // follows: the parse fails (here the nurse's mask names part 1 too).
    let mut b = body.clone();
    b[nurse_at + 1] = 0b11;
    assert!(EnvelopeHeader::parse(&resign(b)).is_err());
    // A part no slot names: only the nurse's slot (part 0) kept.
    let mut b = body[..part_count_at + 1].to_vec();
    b.push(1);
    b.extend_from_slice(&body[nurse_at..pharmacy_at]);
    b.extend_from_slice(&body[parts_at..]);
    assert_eq!(
        EnvelopeHeader::parse(&resign(b)),
        Err(EnvelopeError::Malformed { what: "part without recipients" })
    );
    // Ciphertext length fields.
    let ct_len_at = parts_at + 1 + 24;
    for (len, want) in [
        (15u32, EnvelopeError::Malformed { what: "ciphertext shorter than its tag" }),
        (
            (MAX_PART_PLAINTEXT + 17) as u32,
            EnvelopeError::TooLarge { what: "part ciphertext bytes", max: MAX_PART_PLAINTEXT + 16 },
        ),
        (u32::MAX, EnvelopeError::TooLarge { what: "part ciphertext bytes", max: MAX_PART_PLAINTEXT + 16 }),
    ] {
        let mut b = body.clone();
        b[ct_len_at..ct_len_at + 4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(EnvelopeHeader::parse(&resign(b)), Err(want));
    }
    // A sender key that is not a curve point.
    let mut b = body.clone();
    b[28..60].copy_from_slice(&[0xffu8; 32]);
    b[28] = 0xee;
    let mut with_sig = b;
    with_sig.extend_from_slice(&[0u8; 64]);
    assert!(matches!(
        EnvelopeHeader::parse(&with_sig),
        Err(EnvelopeError::Malformed { what: "sender key" }) | Err(EnvelopeError::BadSignature)
    ));
}

#[test]
fn open_error_classes() {
    let good = reference_envelope();
    // Admin is not a recipient of any part.
    assert_eq!(open_envelope(&good, ADMIN, &secret(ADMIN), None).unwrap_err(), EnvelopeError::NotARecipient);
    // Claiming to be GP with the nurse's secret: the sealed key does not open.
    assert_eq!(open_envelope(&good, GP, &secret(NURSE), None).unwrap_err(), EnvelopeError::DecryptFailed);
    // Signed by someone else than expected.
    let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert_eq!(
        open_envelope(&good, GP, &secret(GP), Some(&other)).unwrap_err(),
        EnvelopeError::UnexpectedSender
    );
    // Tampered ciphertext re-signed by the sender itself: the AEAD catches it.
    let mut body = good[..good.len() - 64].to_vec();
    let last = body.len() - 1;
    body[last] ^= 1;
    assert_eq!(
        open_envelope(&resign(body), GP, &secret(GP), None).unwrap_err(),
        EnvelopeError::DecryptFailed
    );
    // Re-signing someone else's envelope with another key breaks the AAD.
    let body = good[..good.len() - 64].to_vec();
    let mallory = SigningKey::from_bytes(&[9u8; 32]);
    let mut forged = body.clone();
    forged[28..60].copy_from_slice(mallory.verifying_key().as_bytes());
    use sealbox_crypto::ed25519_dalek::Signer;
    let sig = mallory.sign(&forged);
    forged.extend_from_slice(&sig.to_bytes());
    assert!(EnvelopeHeader::parse(&forged).is_ok());
    assert_eq!(open_envelope(&forged, GP, &secret(GP), None).unwrap_err(), EnvelopeError::DecryptFailed);
}

#[test]
fn error_display_never_contains_plaintext() {
    let good = reference_envelope();
    let errors = [
        open_envelope(&good, ADMIN, &secret(ADMIN), None).unwrap_err(),
        open_envelope(&good, GP, &secret(NURSE), None).unwrap_err(),
        EnvelopeHeader::parse(&good[..100]).unwrap_err(),
    ];
    for e in errors {
        let s = format!("{e} {e:?}");
        assert!(!s.contains("MARKER") && !s.contains("amipril"), "{s}");
    }
}

#[test]
fn many_envelopes_open_as_each_would_alone_and_a_bad_one_fails_alone() {
    let good: Vec<Vec<u8>> = (1..=6u8)
        .map(|seed| {
            let f = EnvelopeFields { practice: "P81001", thread_id: 7, message_id: u64::from(seed) };
            let to = [recipient(GP)];
            let part = PartInput { kind: PartKind::FreeText, plaintext: FREE_TEXT, recipients: &to };
            seal_envelope(&mut rng(seed), &SigningKey::from_bytes(&[seed; 32]), &f, &[part]).unwrap()
        })
        .collect();
    let keys = [RecipientKey::new(GP, secret(GP))];
    let ids = |results: &[Result<OpenedEnvelope, EnvelopeError>]| -> Vec<Result<u64, EnvelopeError>> {
        results.iter().map(|r| r.as_ref().map(|o| o.header.message_id).map_err(Clone::clone)).collect()
    };
    let refs: Vec<&[u8]> = good.iter().map(Vec::as_slice).collect();
    assert_eq!(ids(&open_envelopes_as(&refs, &keys, None)), (1..=6).map(Ok).collect::<Vec<_>>());

    // One signature flipped, one envelope cut short, one sender key that is
    // a small-order point (never batched; verify_strict refuses it).
    let mut bad_sig = good[1].clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    let mut weak = good[3][..good[3].len() - 64].to_vec();
    weak[28..60].copy_from_slice(&{
        let mut identity = [0u8; 32];
        identity[0] = 1;
        identity
    });
    weak.extend_from_slice(&[0u8; 64]);
    let mixed: Vec<&[u8]> = vec![&good[0], &bad_sig, &good[2][..50], &weak, &good[4], &good[5]];
    let results = open_envelopes_as(&mixed, &keys, None);
    assert_eq!(
        ids(&results),
        vec![
            Ok(1),
            Err(EnvelopeError::BadSignature),
            Err(EnvelopeError::Truncated),
            Err(EnvelopeError::BadSignature),
            Ok(5),
            Ok(6)
        ]
    );
    // Each result is what opening it alone gives.
    for (bytes, batched) in mixed.iter().zip(&results) {
        let alone = open_envelope_as(bytes, &keys, None);
        assert_eq!(
            alone.as_ref().map(|o| &o.header).map_err(Clone::clone),
            batched.as_ref().map(|o| &o.header).map_err(Clone::clone)
        );
    }
    // The sender check still applies to each.
    let expected = SigningKey::from_bytes(&[1u8; 32]).verifying_key();
    let checked = open_envelopes_as(&refs[..2], &keys, Some(&expected));
    assert_eq!(ids(&checked), vec![Ok(1), Err(EnvelopeError::UnexpectedSender)]);
}
