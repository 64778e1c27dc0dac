//! A software FIDO2 authenticator: stands in for the USB key in tests and
//! the demo, and nowhere else. Everything a relying party sees is real —
//! a P-256 credential, authenticator data with attested credential data,
//! ECDSA signatures webauthn-rs verifies, a signature counter — and
//! hmac-secret follows CTAP2: HMAC-SHA-256 of the salt under a random
//! per-credential secret. User verification is simulated with a PIN.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use sealbox_crypto::pin_seal::{self, PinSealError};
use sealbox_crypto::secret::random_bytes;
use serde_cbor_2::Value;
use sha2::{Digest, Sha256};
use webauthn_authenticator_rs::error::{CtapError, WebauthnCError};
use webauthn_authenticator_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::AuthenticatorBackendHashedClientData;
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions,
};
use zeroize::Zeroizing;

use super::{asserted, registered, salt_of, with_salt, Assertion, KeyError, SecurityKey};

/// Flags in authenticator data.
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;
/// This authenticator's AAGUID ("sealbox-softkey1"): the hub knows the
/// demo key by it.
const AAGUID: [u8; 16] = sealbox_model::hub_api::DEMO_KEY_AAGUID;

struct Credential {
    id: Vec<u8>,
    rp_id_hash: [u8; 32],
    key: SigningKey,
    hmac_key: Zeroizing<[u8; 32]>,
    counter: u32,
}

/// The software authenticator. `Debug` shows how many credentials it holds.
pub struct SoftKey {
    credentials: Vec<Credential>,
    /// Loaded from the keyring and not yet opened: the state sealed under
    /// the PIN, opened by the next request with the PIN the user typed.
    sealed: Option<Vec<u8>>,
    /// What the sealed state is bound to (the keyring account).
    account: String,
    pin: Zeroizing<String>,
    entered_pin: Zeroizing<String>,
    touch: bool,
    hmac_secret: bool,
    last_hmac: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for SoftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftKey").field("credentials", &self.credentials.len()).finish_non_exhaustive()
    }
}

impl SoftKey {
    /// A new key with `pin`, hmac-secret supported, the user touching it.
    pub fn new(pin: &str) -> Self {
        SoftKey {
            credentials: Vec::new(),
            sealed: None,
            account: String::new(),
            pin: Zeroizing::new(pin.to_owned()),
            entered_pin: Zeroizing::new(pin.to_owned()),
            touch: true,
            hmac_secret: true,
            last_hmac: None,
        }
    }

    /// A key without hmac-secret (the design's weaker fallback).
    pub fn without_hmac_secret(mut self) -> Self {
        self.hmac_secret = false;
        self
    }

    /// The PIN the user types at the next touch.
    pub fn enter_pin(&mut self, pin: &str) {
        self.entered_pin = Zeroizing::new(pin.to_owned());
    }

    /// Whether the user touches the key at the next request.
    pub fn set_touch(&mut self, touch: bool) {
        self.touch = touch;
    }

    /// Opens the state loaded from the keyring with the PIN typed: a
    /// wrong PIN fails as a key's PIN check does.
    fn unseal(&mut self) -> Result<(), WebauthnCError> {
        let Some(blob) = self.sealed.as_ref() else { return Ok(()) };
        let state = match pin_seal::open(self.entered_pin.as_bytes(), blob, self.account.as_bytes()) {
            Ok(state) => state,
            Err(PinSealError::WrongPin) => return Err(WebauthnCError::Ctap(CtapError::Ctap2PinInvalid)),
            Err(_) => return Err(WebauthnCError::Internal),
        };
        let (hmac_secret, credentials) = parse_credentials(&state).ok_or(WebauthnCError::Internal)?;
        self.hmac_secret = hmac_secret;
        self.credentials = credentials;
        self.pin = self.entered_pin.clone();
        self.sealed = None;
        Ok(())
    }

    fn presence(&self) -> Result<(), WebauthnCError> {
        if !self.touch {
            return Err(WebauthnCError::Cancelled);
        }
        if self.entered_pin.as_str() != self.pin.as_str() {
            return Err(WebauthnCError::Ctap(CtapError::Ctap2PinInvalid));
        }
        Ok(())
    }
}

fn der(key: &SigningKey, data: &[u8]) -> Vec<u8> {
    let signature: Signature = key.sign(data);
    signature.to_der().as_bytes().to_vec()
}

impl AuthenticatorBackendHashedClientData for SoftKey {
    fn perform_register(
        &mut self,
        client_data_hash: Vec<u8>,
        options: PublicKeyCredentialCreationOptions,
        _timeout_ms: u32,
    ) -> Result<RegisterPublicKeyCredential, WebauthnCError> {
        if !options.pub_key_cred_params.iter().any(|p| p.type_ == "public-key" && p.alg == -7) {
            return Err(WebauthnCError::NotSupported);
        }
        self.unseal()?;
        self.presence()?;
        let rp_id_hash: [u8; 32] = Sha256::digest(options.rp.id.as_bytes()).into();
        let id = random_bytes::<32>().to_vec();
        let key = SigningKey::from_slice(&random_bytes::<32>()).map_err(|_| WebauthnCError::Internal)?;
        let point = key.verifying_key().to_sec1_point(false);
        let (x, y) = match (point.x(), point.y()) {
            (Some(x), Some(y)) => (x.to_vec(), y.to_vec()),
            _ => return Err(WebauthnCError::Internal),
        };
        // COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
        let cose = Value::Map(BTreeMap::from([
            (Value::Integer(1), Value::Integer(2)),
            (Value::Integer(3), Value::Integer(-7)),
            (Value::Integer(-1), Value::Integer(1)),
            (Value::Integer(-2), Value::Bytes(x)),
            (Value::Integer(-3), Value::Bytes(y)),
        ]));
        let cose = serde_cbor_2::to_vec(&cose).map_err(|_| WebauthnCError::Cbor)?;
        let id_len = u16::try_from(id.len()).map_err(|_| WebauthnCError::Internal)?;
        let mut auth_data = Vec::with_capacity(37 + 18 + id.len() + cose.len());
        auth_data.extend_from_slice(&rp_id_hash);
        auth_data.push(UP | UV | AT);
        auth_data.extend_from_slice(&0u32.to_be_bytes());
        auth_data.extend_from_slice(&AAGUID);
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&id);
        auth_data.extend_from_slice(&cose);
        // Packed self-attestation: the credential key signs authData ‖ hash.
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&client_data_hash);
        let sig = der(&key, &signed);
        let attestation = Value::Map(BTreeMap::from([
            (Value::Text("fmt".into()), Value::Text("packed".into())),
            (
                Value::Text("attStmt".into()),
                Value::Map(BTreeMap::from([
                    (Value::Text("alg".into()), Value::Integer(-7)),
                    (Value::Text("sig".into()), Value::Bytes(sig)),
                ])),
            ),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]));
        let attestation = serde_cbor_2::to_vec(&attestation).map_err(|_| WebauthnCError::Cbor)?;
        let hmac_key = Zeroizing::new(random_bytes::<32>());
        self.credentials.push(Credential { id: id.clone(), rp_id_hash, key, hmac_key, counter: 0 });
        Ok(registered(id, attestation))
    }

    fn perform_auth(
        &mut self,
        client_data_hash: Vec<u8>,
        options: PublicKeyCredentialRequestOptions,
        _timeout_ms: u32,
    ) -> Result<PublicKeyCredential, WebauthnCError> {
        self.unseal()?;
        let rp_id_hash: [u8; 32] = Sha256::digest(options.rp_id.as_bytes()).into();
        let allowed: Vec<&[u8]> = options.allow_credentials.iter().map(|c| c.id.as_ref()).collect();
        let found = self.credentials.iter().position(|c| {
            c.rp_id_hash == rp_id_hash && (allowed.is_empty() || allowed.contains(&c.id.as_slice()))
        });
        let Some(index) = found else {
            return Err(WebauthnCError::Ctap(CtapError::Ctap2NoCredentials));
        };
        self.presence()?;
        let Some(cred) = self.credentials.get_mut(index) else {
            return Err(WebauthnCError::Internal);
        };
        cred.counter = cred.counter.wrapping_add(1);
        let mut auth_data = Vec::with_capacity(37);
        auth_data.extend_from_slice(&rp_id_hash);
        auth_data.push(UP | UV);
        auth_data.extend_from_slice(&cred.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&client_data_hash);
        let signature = der(&cred.key, &signed);
        // hmac-secret (CTAP2 §12.5): HMAC-SHA-256(CredRandom, salt). A real
        // key returns it encrypted to the platform; this one hands it over.
        self.last_hmac = None;
        if let Some(salt) = salt_of(&options) {
            if self.hmac_secret {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(cred.hmac_key.as_slice())
                    .map_err(|_| WebauthnCError::Internal)?;
                mac.update(&salt);
                self.last_hmac = Some(Zeroizing::new(mac.finalize().into_bytes().into()));
            }
        }
        Ok(asserted(cred.id.clone(), auth_data, signature, None))
    }
}

fn key_error(e: WebauthnCError) -> KeyError {
    match e {
        WebauthnCError::Cancelled | WebauthnCError::Ctap(CtapError::Ctap2UserActionTimeout) => {
            KeyError::Cancelled
        }
        WebauthnCError::Ctap(CtapError::Ctap2PinInvalid) => KeyError::WrongPin,
        WebauthnCError::Ctap(CtapError::Ctap2NoCredentials) => KeyError::WrongKey,
        WebauthnCError::NotSupported => KeyError::Unsupported("the requested algorithm"),
        WebauthnCError::Security => KeyError::Failed("origin and relying party do not match"),
        _ => KeyError::Failed("authenticator error"),
    }
}

impl SecurityKey for SoftKey {
    fn register(
        &mut self,
        origin: &Url,
        options: CreationChallengeResponse,
    ) -> Result<RegisterPublicKeyCredential, KeyError> {
        self.do_registration(origin.clone(), options).map_err(key_error)
    }

    fn sign_in(
        &mut self,
        origin: &Url,
        options: RequestChallengeResponse,
        salt: Option<&[u8; 32]>,
    ) -> Result<Assertion, KeyError> {
        if salt.is_some() && !self.hmac_secret {
            return Err(KeyError::Unsupported("hmac-secret"));
        }
        let options = with_salt(options, salt);
        let credential = self.do_authentication(origin.clone(), options).map_err(key_error)?;
        let hmac_secret = self.last_hmac.take();
        if salt.is_some() && hmac_secret.is_none() {
            return Err(KeyError::Failed("no hmac-secret output"));
        }
        Ok(Assertion { credential, hmac_secret })
    }

    fn has_hmac_secret(&self) -> bool {
        self.hmac_secret
    }

    /// Its state opens with the PIN typed (a sealed state, before), and a
    /// credential of it has one of the ids for `rp_id`.
    fn holds(&mut self, rp_id: &str, credential_ids: &[Vec<u8>]) -> bool {
        if self.sealed.is_some() && self.unseal().is_err() {
            return false;
        }
        let rp: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
        self.credentials.iter().any(|c| c.rp_id_hash == rp && credential_ids.contains(&c.id))
    }

    fn is_demo(&self) -> bool {
        true
    }
}

/// The keyring service that holds a software key's state (demo only).
pub const SOFT_KEY_SERVICE: &str = "org.sealbox.desktop.soft-key";
/// The state in clear, PIN included (written before the PIN seal; read
/// once, then written again sealed).
const STATE_V1_CLEAR: u8 = 1;
/// The state sealed under the PIN ([`pin_seal`]); the PIN is not stored.
const STATE_V2_SEALED: u8 = 2;

impl SoftKey {
    /// Saves this key (credentials and counters) in the OS keyring under
    /// `account`, sealed under its PIN (Argon2id): the PIN itself is not
    /// stored. Save after every use: the signature counter moves. A key
    /// whose state was never opened (a wrong PIN) leaves what is stored.
    pub fn save(
        &self,
        keyring: &crate::vault::Keyring,
        account: &str,
    ) -> Result<(), crate::vault::VaultError> {
        use crate::vault::VaultError;
        if self.sealed.is_some() {
            return Ok(());
        }
        let mut state = Zeroizing::new(vec![u8::from(self.hmac_secret)]);
        state.push(
            u8::try_from(self.credentials.len())
                .map_err(|_| VaultError::KeyringFailed("too many credentials"))?,
        );
        for c in &self.credentials {
            state.push(
                u8::try_from(c.id.len()).map_err(|_| VaultError::KeyringFailed("credential id too long"))?,
            );
            state.extend_from_slice(&c.id);
            state.extend_from_slice(&c.rp_id_hash);
            state.extend_from_slice(&Zeroizing::new(c.key.to_bytes().to_vec()));
            state.extend_from_slice(c.hmac_key.as_slice());
            state.extend_from_slice(&c.counter.to_be_bytes());
        }
        let sealed = pin_seal::seal(self.pin.as_bytes(), &state, account.as_bytes())
            .map_err(|_| VaultError::KeyringFailed("sealing the demo key failed"))?;
        let mut out = vec![STATE_V2_SEALED];
        out.extend_from_slice(&sealed);
        keyring.save_blob(SOFT_KEY_SERVICE, account, &out)
    }

    /// Deletes the key saved under `account` (its clinician was removed from
    /// this workstation); true if there was one.
    pub fn forget(keyring: &crate::vault::Keyring, account: &str) -> Result<bool, crate::vault::VaultError> {
        keyring.delete_blob(SOFT_KEY_SERVICE, account)
    }

    /// The key saved under `account`, if any, still sealed: the PIN the
    /// user types ([`SoftKey::enter_pin`]) opens it at the next request.
    pub fn load(
        keyring: &crate::vault::Keyring,
        account: &str,
    ) -> Result<Option<Self>, crate::vault::VaultError> {
        let Some(bytes) = keyring.load_blob(SOFT_KEY_SERVICE, account)? else { return Ok(None) };
        let mut key = match bytes.split_first() {
            Some((&STATE_V2_SEALED, sealed)) => {
                let mut key = SoftKey::new("");
                key.sealed = Some(sealed.to_vec());
                key
            }
            Some((&STATE_V1_CLEAR, state)) => {
                parse_v1(state).ok_or(crate::vault::VaultError::RecordCorrupt)?
            }
            _ => return Err(crate::vault::VaultError::RecordCorrupt),
        };
        key.account = account.to_owned();
        key.entered_pin = Zeroizing::new(String::new());
        Ok(Some(key))
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }
}

/// `hmac flag (1) | count (1) | per credential: id length (1), id, RP id
/// hash (32), P-256 key (32), hmac key (32), counter (4)`.
fn parse_credentials(bytes: &[u8]) -> Option<(bool, Vec<Credential>)> {
    let mut r = Reader(bytes);
    let hmac_secret = r.take(1)?[0] == 1;
    let count = r.take(1)?[0];
    let mut credentials = Vec::new();
    for _ in 0..count {
        let id_len = usize::from(r.take(1)?[0]);
        let id = r.take(id_len)?.to_vec();
        let rp_id_hash: [u8; 32] = r.take(32)?.try_into().ok()?;
        let key = SigningKey::from_slice(r.take(32)?).ok()?;
        let hmac_key = Zeroizing::new(<[u8; 32]>::try_from(r.take(32)?).ok()?);
        let counter = u32::from_be_bytes(r.take(4)?.try_into().ok()?);
        credentials.push(Credential { id, rp_id_hash, key, hmac_key, counter });
    }
    r.0.is_empty().then_some((hmac_secret, credentials))
}

/// Version 1: `hmac flag | PIN length | PIN | credentials as above`.
fn parse_v1(bytes: &[u8]) -> Option<SoftKey> {
    let (&hmac, rest) = bytes.split_first()?;
    let (&pin_len, rest) = rest.split_first()?;
    let (pin, rest) = rest.split_at_checked(usize::from(pin_len))?;
    let pin = Zeroizing::new(String::from_utf8(pin.to_vec()).ok()?);
    let mut state = vec![hmac];
    state.extend_from_slice(rest);
    let (hmac_secret, credentials) = parse_credentials(&state)?;
    let mut key = SoftKey::new(&pin);
    key.hmac_secret = hmac_secret;
    key.credentials = credentials;
    Some(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::vault::Keyring;
    use webauthn_rs::prelude::{Passkey, Uuid};
    use webauthn_rs::{Webauthn, WebauthnBuilder};

    fn rp() -> (Webauthn, Url) {
        let origin = Url::parse("http://localhost").unwrap();
        (WebauthnBuilder::new("localhost", &origin).unwrap().build().unwrap(), origin)
    }

    fn sign_in(
        key: &mut SoftKey,
        rp: &Webauthn,
        origin: &Url,
        passkey: &Passkey,
    ) -> Result<[u8; 32], KeyError> {
        let (options, state) = rp.start_passkey_authentication(std::slice::from_ref(passkey)).unwrap();
        let assertion = key.sign_in(origin, options, Some(&[7; 32]))?;
        rp.finish_passkey_authentication(&assertion.credential, &state).expect("the RP verifies it");
        Ok(*assertion.hmac_secret.unwrap())
    }

    /// A key with `pin` and one credential the relying party registered.
    fn enrolled(pin: &str, rp: &Webauthn, origin: &Url) -> (SoftKey, RegisterPublicKeyCredential, Passkey) {
        let mut key = SoftKey::new(pin);
        let (options, state) = rp.start_passkey_registration(Uuid::new_v4(), "gp", "GP", None).unwrap();
        let registered = key.register(origin, options).unwrap();
        let passkey = rp.finish_passkey_registration(&registered, &state).unwrap();
        (key, registered, passkey)
    }

    #[test]
    fn the_saved_state_is_sealed_under_the_pin_which_is_not_stored() {
        let keyring = Keyring::with_store(keyring_core::mock::Store::new().unwrap());
        let (rp, origin) = rp();
        let (mut key, registered, passkey) = enrolled("482193", &rp, &origin);
        let before = sign_in(&mut key, &rp, &origin, &passkey).unwrap();
        key.save(&keyring, "staff-1").unwrap();

        let stored = keyring.load_blob(SOFT_KEY_SERVICE, "staff-1").unwrap().unwrap();
        assert_eq!(stored[0], STATE_V2_SEALED);
        assert!(!stored.windows(6).any(|w| w == b"482193"), "the PIN is not stored");
        assert!(!stored.windows(registered.raw_id.len()).any(|w| w == registered.raw_id.as_slice()));

        // A wrong PIN opens nothing and is refused as the key's PIN check;
        // saving then leaves the stored state as it was.
        let mut loaded = SoftKey::load(&keyring, "staff-1").unwrap().unwrap();
        loaded.enter_pin("000000");
        assert_eq!(sign_in(&mut loaded, &rp, &origin, &passkey), Err(KeyError::WrongPin));
        loaded.save(&keyring, "staff-1").unwrap();
        assert_eq!(*keyring.load_blob(SOFT_KEY_SERVICE, "staff-1").unwrap().unwrap(), *stored);
        // The right PIN: the same credential and hmac-secret, the counter on.
        loaded.enter_pin("482193");
        assert_eq!(sign_in(&mut loaded, &rp, &origin, &passkey).unwrap(), before);
        // Bound to its account: copied to another, it does not open.
        keyring.save_blob(SOFT_KEY_SERVICE, "staff-2", &stored).unwrap();
        let mut moved = SoftKey::load(&keyring, "staff-2").unwrap().unwrap();
        moved.enter_pin("482193");
        assert_eq!(sign_in(&mut moved, &rp, &origin, &passkey), Err(KeyError::WrongPin));
    }

    #[test]
    fn a_state_saved_in_clear_before_the_seal_still_loads() {
        let keyring = Keyring::with_store(keyring_core::mock::Store::new().unwrap());
        let (rp, origin) = rp();
        let (mut key, _, passkey) = enrolled("2468", &rp, &origin);
        let before = sign_in(&mut key, &rp, &origin, &passkey).unwrap();
        // Version 1's layout: flag, PIN length, PIN, credentials.
        let mut v1 = vec![STATE_V1_CLEAR, 1, 4];
        v1.extend_from_slice(b"2468");
        v1.push(1);
        let c = &key.credentials[0];
        v1.push(u8::try_from(c.id.len()).unwrap());
        v1.extend_from_slice(&c.id);
        v1.extend_from_slice(&c.rp_id_hash);
        v1.extend_from_slice(&c.key.to_bytes());
        v1.extend_from_slice(c.hmac_key.as_slice());
        v1.extend_from_slice(&c.counter.to_be_bytes());
        keyring.save_blob(SOFT_KEY_SERVICE, "staff-1", &v1).unwrap();
        let mut loaded = SoftKey::load(&keyring, "staff-1").unwrap().unwrap();
        loaded.enter_pin("2468");
        assert_eq!(sign_in(&mut loaded, &rp, &origin, &passkey).unwrap(), before);
        // Written again, it is sealed.
        loaded.save(&keyring, "staff-1").unwrap();
        assert_eq!(keyring.load_blob(SOFT_KEY_SERVICE, "staff-1").unwrap().unwrap()[0], STATE_V2_SEALED);
    }
}
