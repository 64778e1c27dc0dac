//! sealbox-crypto: sealed envelopes, key wrapping, signatures and the audit
//! hash chain. No IO. Filled in by the cache, hub and audit issues.
