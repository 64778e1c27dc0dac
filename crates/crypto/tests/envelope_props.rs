//! Property tests: arbitrary bytes, and single-byte flips or truncations of a
//! valid envelope, never panic and never open.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

mod support;

use proptest::prelude::*;
use sealbox_crypto::envelope::{open_envelope, EnvelopeHeader, FORMAT_VERSION, MAGIC};
use support::*;

fn reference() -> &'static [u8] {
    use std::sync::OnceLock;
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(reference_envelope)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_parse_or_open(mut bytes in proptest::collection::vec(any::<u8>(), 0..2048), prefix in any::<bool>()) {
        if prefix && bytes.len() >= 5 {
            bytes[..4].copy_from_slice(&MAGIC);
            bytes[4] = FORMAT_VERSION;
        }
        prop_assert!(EnvelopeHeader::parse(&bytes).is_err());
        prop_assert!(open_envelope(&bytes, GP, &secret(GP), None).is_err());
    }

    #[test]
    fn single_byte_flips_never_open(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut bytes = reference().to_vec();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        prop_assert!(EnvelopeHeader::parse(&bytes).is_err());
        prop_assert!(open_envelope(&bytes, GP, &secret(GP), None).is_err());
        prop_assert!(open_envelope(&bytes, PHARMACY, &secret(PHARMACY), None).is_err());
    }

    #[test]
    fn truncations_never_open(index in any::<prop::sample::Index>()) {
        let good = reference();
        let cut = index.index(good.len());
        prop_assert!(EnvelopeHeader::parse(&good[..cut]).is_err());
        prop_assert!(open_envelope(&good[..cut], GP, &secret(GP), None).is_err());
    }
}
