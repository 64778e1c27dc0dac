//! What kind of authenticator made a credential, from its attestation
//! object: the authenticator data's AAGUID (bytes 37..53 when attested
//! credential data is present, WebAuthn §6.5.1).

use sealbox_model::hub_api::DEMO_KEY_AAGUID;
use serde_cbor_2::Value;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

/// The "attested credential data included" flag.
const AT: u8 = 0x40;

/// The AAGUID in a registration's authenticator data, if it has one.
pub fn aaguid(credential: &RegisterPublicKeyCredential) -> Option<[u8; 16]> {
    let object: Value = serde_cbor_2::from_slice(credential.response.attestation_object.as_ref()).ok()?;
    let Value::Map(map) = object else { return None };
    let Some(Value::Bytes(auth_data)) = map.get(&Value::Text("authData".into())) else { return None };
    if auth_data.get(32)? & AT == 0 {
        return None;
    }
    auth_data.get(37..53)?.try_into().ok()
}

/// Made by Sealbox's demo software key.
pub fn is_demo_key(credential: &RegisterPublicKeyCredential) -> bool {
    aaguid(credential) == Some(DEMO_KEY_AAGUID)
}
