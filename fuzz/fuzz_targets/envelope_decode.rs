//! Feeds arbitrary bytes to the envelope decoder: header parsing (no key) and
//! opening with a fixed recipient key. Neither may panic. (A success is not a
//! bug in itself — input may embed its own sender key and signature — but an
//! opened envelope must agree with the parsed header.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealbox_crypto::envelope::{open_envelope, EnvelopeHeader, RecipientId};
use sealbox_crypto::x25519_dalek::StaticSecret;
use sealbox_model::pool::Pool;

fuzz_target!(|data: &[u8]| {
    let header = EnvelopeHeader::parse(data);
    let secret = StaticSecret::from([0x11u8; 32]);
    let opened = open_envelope(data, RecipientId::Pool(Pool::Gp), &secret, None);
    if let Ok(opened) = opened {
        // Opening implies the header parsed, to the same values.
        assert_eq!(header.ok().as_ref(), Some(&opened.header));
    }
});
