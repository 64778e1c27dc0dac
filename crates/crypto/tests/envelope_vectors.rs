//! Committed test vectors freeze the envelope format: fixed keys and a seeded
//! RNG must reproduce `vectors/envelope_v2.hex` byte for byte, and the
//! committed bytes must open to the known plaintext.
//!
//! To regenerate after a deliberate format change (new version!):
//! `SEALBOX_REGEN_VECTORS=1 cargo test --release -p sealbox-crypto --test envelope_vectors fixed_keys`
//! (then run the whole test again).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

mod support;

use sealbox_crypto::envelope::{open_envelope, EnvelopeHeader, PartKind};
use support::*;

/// The committed vector, in the checkout cargo runs the test in (not a path
/// baked in at build time: a shared target dir may hold a binary built in
/// another checkout).
fn vector_path() -> std::path::PathBuf {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    std::path::Path::new(&dir).join("tests/vectors/envelope_v2.hex")
}

fn committed() -> Vec<u8> {
    from_hex(&std::fs::read_to_string(vector_path()).expect("committed vector file"))
}

#[test]
fn fixed_keys_and_seed_reproduce_the_committed_bytes() {
    let bytes = reference_envelope();
    if std::env::var_os("SEALBOX_REGEN_VECTORS").is_some() {
        let hex = to_hex(&bytes);
        let lines: Vec<&str> = hex.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        std::fs::write(vector_path(), lines.join("\n") + "\n").unwrap();
    }
    assert_eq!(to_hex(&bytes), to_hex(&committed()), "envelope v2 encoding changed");
}

#[test]
fn committed_bytes_open_to_the_known_plaintext() {
    let bytes = committed();
    let header = EnvelopeHeader::parse(&bytes).unwrap();
    assert_eq!(header.practice, "P81001");
    assert_eq!(header.thread_id, 0x0102_0304_0506_0708);
    assert_eq!(header.message_id, 42);
    assert_eq!(header.sender, sender().verifying_key());

    let gp = open_envelope(&bytes, GP, &secret(GP), Some(&sender().verifying_key())).unwrap();
    assert_eq!(gp.parts.len(), 2);
    assert_eq!(gp.parts[0].kind, PartKind::FreeText);
    assert_eq!(gp.parts[0].plaintext.as_slice(), FREE_TEXT);
    assert_eq!(gp.parts[1].kind, PartKind::MedicationRequest);
    assert_eq!(gp.parts[1].plaintext.as_slice(), MEDICATION);

    let pharmacy = open_envelope(&bytes, PHARMACY, &secret(PHARMACY), None).unwrap();
    assert_eq!(pharmacy.parts.len(), 1);
    assert_eq!(pharmacy.parts[0].plaintext.as_slice(), MEDICATION);
    assert_eq!(pharmacy.withheld, vec![PartKind::FreeText]);
}
