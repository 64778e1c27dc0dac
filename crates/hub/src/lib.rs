//! sealbox-hub: The practice hub server: WebAuthn relying party, sealed-envelope relay, push, actions, audit ingest.
//! Built by its own issue; the crate exists so the workspace has its final shape.
