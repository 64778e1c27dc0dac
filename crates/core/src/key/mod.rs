//! The clinician's security key: the only thing that opens Sealbox.
//!
//! - [`SecurityKey`]: what the app needs of a FIDO2 authenticator: register
//!   with the practice hub's relying party, and sign in — an assertion the
//!   hub (online) or webauthn-rs on this device (offline) verifies, plus the
//!   CTAP2 hmac-secret output for this device's salt, from which the KEK is
//!   derived ([`DerivedKek`]).
//! - [`soft`]: a software FIDO2 authenticator for tests and the demo: a
//!   P-256 credential, real authenticator data and signatures, hmac-secret
//!   per CTAP2, user verification simulated by a PIN.
//!
//! Real keys: USB CTAP2 needs hmac-secret, which webauthn-authenticator-rs's
//! CTAP2 stack does not expose while Mozilla's `authenticator` crate does;
//! Windows blocks raw FIDO HID for normal users, so there the Windows
//! WebAuthn API is the transport. See docs/architecture.md.

pub mod ctaphid;
pub mod fallback;
pub mod fido;
pub mod hardware;
pub mod local;
pub mod removal;
pub mod soft;
#[cfg(not(target_os = "windows"))]
pub mod usb;

use hkdf::Hkdf;
use sealbox_crypto::secret::SecretKey;
use sha2::Sha256;
use webauthn_authenticator_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url,
};
use webauthn_rs_proto::CreationChallengeResponse;
use zeroize::Zeroizing;

use crate::vault::{KekError, KekSource, DEVICE_SALT_LEN};

/// Why the key did not answer. Each says what to do; none carries secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The user cancelled (or did not touch the key in time).
    #[error("the security key was not touched in time, or the request was cancelled")]
    Cancelled,
    /// The PIN (user verification) was wrong.
    #[error("the security key's PIN was not accepted")]
    WrongPin,
    /// The key's PIN was wrong; the key counts down to a lock-out.
    #[error("the security key's PIN was not accepted{}", match retries_left {
        Some(n) => format!(" ({n} tries left before the key locks)"),
        None => String::new(),
    })]
    PinWrong {
        /// Tries left before the PIN is blocked, if the key said.
        retries_left: Option<u8>,
    },
    /// The key needs its PIN and none was typed.
    #[error("the security key needs its PIN")]
    PinRequired,
    /// Too many wrong PINs: the key is locked until it is reset.
    #[error(
        "the security key's PIN is blocked after too many wrong tries; see the practice admin for a new key"
    )]
    PinBlocked,
    /// Three wrong PINs in a row: the key wants to be unplugged first.
    #[error("too many wrong PINs in a row: remove the security key, plug it back in and try again")]
    PinAuthBlocked,
    /// The key has no PIN yet.
    #[error("the security key has no PIN yet; set one before enrolling (docs/hardware-keys.md)")]
    PinNotSet,
    /// The key was pulled out mid-request.
    #[error("the security key was removed")]
    Removed,
    /// The key's own user verification (a fingerprint) failed or was
    /// refused.
    #[error("the security key could not verify you (fingerprint not recognised, or refused)")]
    UserNotVerified,
    /// No security key is plugged in.
    #[error("no security key is plugged in")]
    NoKey,
    /// This key holds no credential for the request: a different key.
    #[error("this security key is not the one enrolled on this device")]
    WrongKey,
    /// The demo's software key, which this practice does not allow.
    #[error("this practice does not allow the demo's software key; use a hardware security key")]
    DemoKeyRefused,
    /// The key cannot do what Sealbox needs (e.g. no hmac-secret).
    #[error("this security key does not support {0}")]
    Unsupported(&'static str),
    /// Anything else the authenticator reported.
    #[error("the security key failed ({0})")]
    Failed(&'static str),
}

/// A signed-in touch: the assertion for the relying party and, if asked
/// for, the hmac-secret output for the salt. `Debug` hides the output.
pub struct Assertion {
    /// Goes to the hub (`/v1/login/finish`) or to local verification.
    pub credential: PublicKeyCredential,
    /// HMAC-SHA-256(credential secret, salt), 32 bytes.
    pub hmac_secret: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assertion")
            .field("credential_id", &self.credential.id)
            .field("hmac_secret", &self.hmac_secret.as_ref().map(|_| "<32 bytes>"))
            .finish()
    }
}

/// A FIDO2 authenticator as Sealbox uses it.
pub trait SecurityKey {
    /// Registers a new credential for the relying party's `options`.
    fn register(
        &mut self,
        origin: &Url,
        options: CreationChallengeResponse,
    ) -> Result<RegisterPublicKeyCredential, KeyError>;

    /// One touch: an assertion for `options`, and the hmac-secret output
    /// for `salt` when given.
    fn sign_in(
        &mut self,
        origin: &Url,
        options: RequestChallengeResponse,
        salt: Option<&[u8; 32]>,
    ) -> Result<Assertion, KeyError>;

    /// True if the key implements CTAP2 hmac-secret (the strong mode).
    fn has_hmac_secret(&self) -> bool;

    /// Whether this key holds one of `credential_ids` for `rp_id`, asked
    /// without a PIN or a touch where the key allows it (CTAP 2.1's silent
    /// pre-flight): which clinician of a shared workstation it belongs to,
    /// and which of several plugged-in keys is the clinician's.
    fn holds(&mut self, rp_id: &str, credential_ids: &[Vec<u8>]) -> bool;

    /// True for the demo's software key: recorded as such in the profile,
    /// the audit chain and on the lock screen, and refused unless the
    /// practice allows demo keys.
    fn is_demo(&self) -> bool {
        false
    }
}

/// The KEK from a touch's hmac-secret output: HKDF-SHA-256 with the device
/// salt as HKDF salt. Used once, by `cache::enrol` or `cache::unlock`, for
/// the salt the key was asked about; another salt is refused.
pub struct DerivedKek {
    output: Zeroizing<[u8; 32]>,
    salt: [u8; DEVICE_SALT_LEN],
}

impl std::fmt::Debug for DerivedKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKek(<redacted>)")
    }
}

impl DerivedKek {
    /// From the hmac-secret `output` the key gave for `salt`.
    pub fn new(output: Zeroizing<[u8; 32]>, salt: [u8; DEVICE_SALT_LEN]) -> Self {
        DerivedKek { output, salt }
    }
}

/// What HKDF binds the KEK to.
const KEK_INFO: &[u8] = b"sealbox kek v1: hmac-secret";

impl KekSource for DerivedKek {
    fn kek(&self, device_salt: &[u8; DEVICE_SALT_LEN]) -> Result<SecretKey, KekError> {
        if *device_salt != self.salt {
            return Err(KekError::Failed("the key was touched for another device salt"));
        }
        let hk = Hkdf::<Sha256>::new(Some(device_salt), self.output.as_slice());
        let mut kek = Zeroizing::new([0u8; 32]);
        hk.expand(KEK_INFO, kek.as_mut_slice()).map_err(|_| KekError::Failed("key derivation failed"))?;
        Ok(SecretKey::from_bytes(*kek))
    }
}

/// A new credential as the relying party reads it: its id and the
/// authenticator's attestation object (client data is added by the
/// WebAuthn client layer).
pub(crate) fn registered(id: Vec<u8>, attestation_object: Vec<u8>) -> RegisterPublicKeyCredential {
    RegisterPublicKeyCredential {
        id: b64url(&id),
        raw_id: id,
        response: webauthn_rs_proto::AuthenticatorAttestationResponseRaw {
            attestation_object,
            client_data_json: Vec::new(),
            transports: None,
        },
        type_: "public-key".to_owned(),
        extensions: webauthn_rs_proto::RegistrationExtensionsClientOutputs::default(),
    }
}

/// An assertion as the relying party reads it.
pub(crate) fn asserted(
    id: Vec<u8>,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
    user_handle: Option<Vec<u8>>,
) -> PublicKeyCredential {
    PublicKeyCredential {
        id: b64url(&id),
        raw_id: id,
        response: webauthn_rs_proto::AuthenticatorAssertionResponseRaw {
            authenticator_data,
            client_data_json: Vec::new(),
            signature,
            user_handle,
        },
        extensions: webauthn_rs_proto::AuthenticationExtensionsClientOutputs::default(),
        type_: "public-key".to_owned(),
    }
}

/// Base64url without padding, as WebAuthn ids are written.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `options` asking for the hmac-secret output for `salt` (when given),
/// the way webauthn-rs's request options carry it.
pub(crate) fn with_salt(
    mut options: RequestChallengeResponse,
    salt: Option<&[u8; 32]>,
) -> RequestChallengeResponse {
    use webauthn_rs_proto::{HmacGetSecretInput, RequestAuthenticationExtensions};
    if let Some(salt) = salt {
        let input = HmacGetSecretInput { output1: salt.to_vec(), output2: None };
        match options.public_key.extensions.as_mut() {
            Some(ext) => ext.hmac_get_secret = Some(input),
            None => {
                options.public_key.extensions = Some(RequestAuthenticationExtensions {
                    appid: None,
                    uvm: None,
                    hmac_get_secret: Some(input),
                })
            }
        }
    }
    options
}

/// The hmac-secret salt [`with_salt`] put in the options, if any.
pub(crate) fn salt_of(options: &webauthn_rs_proto::PublicKeyCredentialRequestOptions) -> Option<[u8; 32]> {
    let input = options.extensions.as_ref()?.hmac_get_secret.as_ref()?;
    let bytes: &[u8] = input.output1.as_ref();
    <[u8; 32]>::try_from(bytes).ok()
}
