//! Feeds arbitrary bytes to the envelope decoder: header parsing (no key),
//! opening with a fixed recipient key, and opening in a batch (as a sync page
//! does). None may panic. (A success is not a bug in itself — input may embed
//! its own sender key and signature — but an opened envelope must agree with
//! the parsed header, and the batch must give what opening alone gives.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealbox_crypto::envelope::{open_envelope, open_envelopes_as, EnvelopeHeader, RecipientId, RecipientKey};
use sealbox_crypto::x25519_dalek::StaticSecret;
use sealbox_model::pool::Pool;

fuzz_target!(|data: &[u8]| {
    let header = EnvelopeHeader::parse(data);
    let secret = StaticSecret::from([0x11u8; 32]);
    let gp = RecipientId::Pool(Pool::Gp);
    let opened = open_envelope(data, gp, &secret, None);
    if let Ok(opened) = &opened {
        // Opening implies the header parsed, to the same values.
        assert_eq!(header.as_ref().ok(), Some(&opened.header));
    }
    let keys = [RecipientKey::new(gp, secret)];
    for batched in open_envelopes_as(&[data, data], &keys, None) {
        assert_eq!(batched.map(|o| o.header), opened.as_ref().map(|o| o.header.clone()).map_err(Clone::clone));
    }
});
