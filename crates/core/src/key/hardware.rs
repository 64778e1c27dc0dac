//! A real FIDO2 security key as Sealbox's [`SecurityKey`]: credentials made
//! with hmac-secret (`hmac-create-secret`) whatever the relying party asked,
//! user verification by the key's PIN, and the hmac-secret output for the
//! device salt decrypted from the key's answer (PIN/UV protocol 1 or 2).
//!
//! The CTAP2 work is Mozilla's `authenticator` (`ctap2::register`/`sign`);
//! this file turns WebAuthn options into its arguments, its results back
//! into what webauthn-rs verifies, and its PIN conversation into
//! [`KeyError`]s a clinician can act on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;
use std::sync::Arc;

use authenticator::authenticatorservice::{RegisterArgs, SignArgs};
use authenticator::ctap2::commands::StatusCode;
use authenticator::ctap2::server::{
    AuthenticationExtensionsClientInputs, CredentialProtectionPolicy, HMACGetSecretInput,
    PublicKeyCredentialDescriptor, PublicKeyCredentialParameters, PublicKeyCredentialUserEntity,
    RelyingParty, ResidentKeyRequirement, UserVerificationRequirement,
};
use authenticator::errors::{AuthenticatorError, CommandError, HIDError, PinError};
use authenticator::statecallback::StateCallback;
use authenticator::{Pin, StatusPinUv, StatusUpdate};
use webauthn_authenticator_rs::error::WebauthnCError;
use webauthn_authenticator_rs::prelude::{
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::AuthenticatorBackendHashedClientData;
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions,
};
use zeroize::Zeroizing;

use super::fido::{CtapTransport, FidoKey};
use super::{asserted, registered, salt_of, with_salt, Assertion, KeyError, SecurityKey};

/// What the key told us while it worked, kept to explain a failure.
#[derive(Debug, Default)]
struct Heard {
    pin_retries: Option<Option<u8>>,
    pin_required: bool,
    pin_blocked: bool,
    pin_auth_blocked: bool,
    pin_not_set: bool,
    uv_refused: u8,
}

/// Stops a key's ceremony from another thread (the lock screen's Cancel
/// while the key flashes): the key is sent CTAPHID CANCEL and the ceremony
/// ends as [`KeyError::Cancelled`]. Final for that key: every later
/// ceremony of it is cancelled too, so make a new key per attempt.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// Cancels the ceremony in progress (or the next one).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A security key reached through `T` (CTAPHID over USB in the app).
pub struct HardwareKey<T: CtapTransport> {
    key: FidoKey<T>,
    pin: Option<Zeroizing<String>>,
    last_hmac: Option<Zeroizing<[u8; 32]>>,
    last_error: Option<KeyError>,
    cancel: CancelHandle,
}

impl<T: CtapTransport> std::fmt::Debug for HardwareKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HardwareKey").field("key", &self.key).finish_non_exhaustive()
    }
}

impl<T: CtapTransport> HardwareKey<T> {
    /// Opens the key behind `transport` (asks it what it supports).
    pub fn new(transport: T) -> Result<Self, KeyError> {
        let key = FidoKey::new(transport)
            .map_err(|e| key_error(AuthenticatorError::HIDError(e), &Heard::default()))?;
        Ok(HardwareKey { key, pin: None, last_hmac: None, last_error: None, cancel: CancelHandle::default() })
    }

    /// A handle that cancels this key's ceremony from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// The PIN the clinician typed, used at the next touch.
    pub fn enter_pin(&mut self, pin: &str) {
        self.pin = Some(Zeroizing::new(pin.to_owned()));
    }

    /// What the key supports, for `--check-key` and the enrolment screen.
    pub fn describe(&mut self) -> KeyDescription {
        use authenticator::ctap2::commands::client_pin::GetPinRetries;
        use authenticator::FidoDeviceIO;
        let pin_retries = match self.key.info().and_then(|i| i.options.client_pin) {
            Some(true) => self.key.send_cbor(&GetPinRetries::new()).ok().and_then(|r| r.pin_retries),
            _ => None,
        };
        let info = self.key.info();
        KeyDescription {
            pin_retries,
            versions: info.map(|i| i.versions.iter().map(|v| format!("{v:?}")).collect()).unwrap_or_default(),
            hmac_secret: self.has_hmac_secret(),
            pin_set: info.and_then(|i| i.options.client_pin),
        }
    }

    /// One test touch: the key flashes until touched (CTAP 2.1 selection,
    /// or a dummy registration on 2.0 keys); true if it was touched.
    pub fn test_touch(&mut self) -> bool {
        self.blink(&|| true)
    }

    /// Flashes the key until it is touched (true) or `alive` says stop, the
    /// key refuses, or its own timeout passes (false): CTAP 2.1
    /// authenticatorSelection, or on CTAP 2.0 a request that needs a touch.
    fn blink(&mut self, alive: &dyn Fn() -> bool) -> bool {
        use authenticator::FidoDevice;
        // `authenticator` does not export its BlinkResult type.
        format!("{:?}", self.key.block_and_blink(alive)) == "DeviceSelected"
    }

    /// This key's ceremonies are cancelled by `cancel` (shared with the
    /// request that chose it).
    pub fn cancelled_by(mut self, cancel: CancelHandle) -> Self {
        self.cancel = cancel;
        self
    }

    /// Sets the PIN on a key that has none yet (CTAP clientPIN setPIN), so
    /// enrolment can offer it instead of sending the clinician elsewhere.
    pub fn set_pin(&mut self, new_pin: &str) -> Result<(), KeyError> {
        use authenticator::ctap2::commands::client_pin::SetNewPin;
        use authenticator::{FidoDevice, FidoDeviceIO};
        let heard = Heard::default();
        let secret = self
            .key
            .establish_shared_secret(&|| true)
            .map_err(|e| key_error(AuthenticatorError::HIDError(e), &heard))?;
        let pin = Pin::new(new_pin);
        self.key
            .send_cbor(&SetNewPin::new(&secret, &pin))
            .map_err(|e| key_error(AuthenticatorError::HIDError(e), &heard))?;
        self.key.refresh_authenticator_info();
        Ok(())
    }

    /// Sealbox always needs the key to verify its user (the PIN, or a
    /// fingerprint on keys that have one). `authenticator` would go ahead
    /// without it on a key that has no PIN yet; we stop first.
    fn can_verify_user(&self) -> Result<(), KeyError> {
        let Some(info) = self.key.info() else {
            return Err(KeyError::Failed("the key did not describe itself"));
        };
        let built_in = info.options.user_verification == Some(true);
        match info.options.client_pin {
            Some(true) => Ok(()),
            _ if built_in => Ok(()),
            Some(false) => Err(KeyError::PinNotSet),
            None => Err(KeyError::Unsupported("a PIN or built-in user verification")),
        }
    }

    fn pin(&self) -> Option<Pin> {
        self.pin.as_ref().map(|p| Pin::new(p.as_str()))
    }

    /// Runs one `authenticator` ceremony on a helper thread and listens to
    /// its PIN conversation: a PIN request it cannot answer here (none
    /// typed, or the typed one was wrong) ends the ceremony, and what was
    /// heard explains why. The explanation is kept for [`Self::explain`]
    /// (webauthn-authenticator-rs, which calls the ceremony, carries only
    /// its own error type back).
    fn ceremony<R: Send + 'static>(
        &mut self,
        run: impl FnOnce(
                &mut FidoKey<T>,
                std::sync::mpsc::Sender<StatusUpdate>,
                StateCallback<authenticator::Result<R>>,
                &dyn Fn() -> bool,
            ) + Send,
    ) -> Result<R, WebauthnCError> {
        let (status_tx, status_rx) = channel();
        let (result_tx, result_rx) = channel();
        let callback = StateCallback::new(Box::new(move |r| {
            let _ = result_tx.send(r);
        }));
        let mut heard = Heard::default();
        let key = &mut self.key;
        // `authenticator` retries a refused user verification for as long
        // as it is told the request is alive; twice is enough to know.
        let stop = AtomicBool::new(false);
        let stop = &stop;
        let cancel = &self.cancel;
        std::thread::scope(|s| {
            s.spawn(move || {
                run(key, status_tx, callback, &|| !stop.load(Ordering::SeqCst) && !cancel.is_cancelled())
            });
            // Ends when the ceremony returns and drops its status sender.
            for update in status_rx {
                if let StatusUpdate::PinUvError(e) = update {
                    match e {
                        // Dropping the reply sender ends the ceremony.
                        StatusPinUv::PinRequired(_) => heard.pin_required = true,
                        StatusPinUv::InvalidPin(_, retries) => heard.pin_retries = Some(retries),
                        StatusPinUv::PinBlocked => heard.pin_blocked = true,
                        StatusPinUv::PinAuthBlocked => heard.pin_auth_blocked = true,
                        StatusPinUv::PinNotSet => heard.pin_not_set = true,
                        StatusPinUv::InvalidUv(_) | StatusPinUv::UvBlocked => {
                            heard.uv_refused += 1;
                            if heard.uv_refused >= 2 {
                                stop.store(true, Ordering::SeqCst);
                            }
                        }
                        _ => {}
                    }
                }
            }
        });
        let result = result_rx.try_recv().unwrap_or(Err(AuthenticatorError::CancelledByUser));
        let result = if self.cancel.is_cancelled() {
            // Whatever the key said last, the person asked to stop.
            result.map_err(|_| KeyError::Cancelled)
        } else {
            result.map_err(|e| key_error(e, &heard))
        };
        result.map_err(|e| {
            self.last_error = Some(e.clone());
            to_webauthn(e)
        })
    }
}

/// Several keys plugged in at enrolment: every one flashes, and the one
/// the clinician touches is the one enrolled ("touch the key that is
/// flashing"); the others are told to stop (CTAPHID CANCEL). `Cancelled`
/// if none is touched before the keys' own timeout, or `cancel` fires.
pub fn touched_key<T: CtapTransport + Send>(
    mut keys: Vec<HardwareKey<T>>,
    cancel: &CancelHandle,
) -> Result<HardwareKey<T>, KeyError> {
    let chosen = AtomicBool::new(false);
    let winner = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for (i, key) in keys.iter_mut().enumerate() {
            let (chosen, winner) = (&chosen, &winner);
            s.spawn(move || {
                let alive = || !chosen.load(Ordering::SeqCst) && !cancel.is_cancelled();
                if key.blink(&alive) && !chosen.swap(true, Ordering::SeqCst) {
                    if let Ok(mut w) = winner.lock() {
                        *w = Some(i);
                    }
                }
            });
        }
    });
    let i = winner.into_inner().ok().flatten().ok_or(KeyError::Cancelled)?;
    Ok(keys.swap_remove(i).cancelled_by(cancel.clone()))
}

/// What `--check-key` reports about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription {
    /// CTAP versions the key speaks (e.g. `FIDO_2_0`, `FIDO_2_1`).
    pub versions: Vec<String>,
    /// Whether it implements hmac-secret (the strong mode).
    pub hmac_secret: bool,
    /// `Some(true)` if a PIN is set, `Some(false)` if it could be, `None`
    /// if the key has no PIN support.
    pub pin_set: Option<bool>,
    /// Wrong PINs left before the key locks, when a PIN is set.
    pub pin_retries: Option<u8>,
}

/// Maps what `authenticator` reports, and what the key said on the way,
/// to what the clinician is told.
fn key_error(e: AuthenticatorError, heard: &Heard) -> KeyError {
    if heard.pin_blocked {
        return KeyError::PinBlocked;
    }
    if heard.pin_auth_blocked {
        return KeyError::PinAuthBlocked;
    }
    if heard.pin_not_set {
        return KeyError::PinNotSet;
    }
    if let Some(retries) = heard.pin_retries {
        return KeyError::PinWrong { retries_left: retries };
    }
    if heard.pin_required {
        return KeyError::PinRequired;
    }
    if heard.uv_refused > 0 {
        return KeyError::UserNotVerified;
    }
    match e {
        AuthenticatorError::PinError(p) => match p {
            PinError::PinBlocked => KeyError::PinBlocked,
            PinError::PinAuthBlocked => KeyError::PinAuthBlocked,
            PinError::PinNotSet => KeyError::PinNotSet,
            PinError::PinRequired => KeyError::PinRequired,
            PinError::InvalidPin(retries) => KeyError::PinWrong { retries_left: retries },
            _ => KeyError::Failed("the key refused its PIN"),
        },
        AuthenticatorError::CancelledByUser => KeyError::Cancelled,
        AuthenticatorError::UnsupportedOption(_) => KeyError::Unsupported("an option Sealbox needs"),
        AuthenticatorError::HIDError(h) => hid_error(h),
        _ => KeyError::Failed("authenticator error"),
    }
}

fn hid_error(h: HIDError) -> KeyError {
    use std::io::ErrorKind;
    match h {
        HIDError::Command(CommandError::StatusCode(code, _)) => match code {
            StatusCode::NoCredentials => KeyError::WrongKey,
            StatusCode::OperationDenied
            | StatusCode::UserActionTimeout
            | StatusCode::KeepaliveCancel
            | StatusCode::ActionTimeout => KeyError::Cancelled,
            StatusCode::PinBlocked => KeyError::PinBlocked,
            StatusCode::PinAuthBlocked => KeyError::PinAuthBlocked,
            StatusCode::PinNotSet => KeyError::PinNotSet,
            StatusCode::PinInvalid => KeyError::PinWrong { retries_left: None },
            StatusCode::UnsupportedExtension => KeyError::Unsupported("hmac-secret"),
            StatusCode::UnsupportedAlgorithm => KeyError::Unsupported("the requested algorithm"),
            _ => KeyError::Failed("the key refused the request"),
        },
        HIDError::IO(_, e) => match e.kind() {
            ErrorKind::NotConnected => KeyError::Removed,
            ErrorKind::TimedOut => KeyError::Failed("the key stopped answering"),
            _ => KeyError::Failed("the key's answer could not be read"),
        },
        HIDError::DeviceNotSupported | HIDError::UnsupportedCommand => {
            KeyError::Unsupported("FIDO2 (this is a U2F-only key)")
        }
        _ => KeyError::Failed("the key's answer could not be read"),
    }
}

/// A credential id as `authenticator` names one in allow and exclude lists.
fn descriptor(id: Vec<u8>) -> PublicKeyCredentialDescriptor {
    PublicKeyCredentialDescriptor { id, transports: Vec::new() }
}

fn to_webauthn(e: KeyError) -> WebauthnCError {
    match e {
        KeyError::Cancelled => WebauthnCError::Cancelled,
        _ => WebauthnCError::Internal,
    }
}

impl<T: CtapTransport> AuthenticatorBackendHashedClientData for HardwareKey<T> {
    fn perform_register(
        &mut self,
        client_data_hash: Vec<u8>,
        options: PublicKeyCredentialCreationOptions,
        _timeout_ms: u32,
    ) -> Result<RegisterPublicKeyCredential, WebauthnCError> {
        let client_data_hash: [u8; 32] = client_data_hash.try_into().map_err(|_| WebauthnCError::Internal)?;
        let pub_cred_params: Vec<PublicKeyCredentialParameters> = options
            .pub_key_cred_params
            .iter()
            .filter(|p| p.type_ == "public-key")
            .filter_map(|p| PublicKeyCredentialParameters::try_from(i32::try_from(p.alg).ok()?).ok())
            .collect();
        let args = RegisterArgs {
            client_data_hash,
            relying_party: RelyingParty { id: options.rp.id.clone(), name: Some(options.rp.name.clone()) },
            origin: options.rp.id.clone(),
            user: PublicKeyCredentialUserEntity {
                id: options.user.id.to_vec(),
                name: Some(options.user.name.clone()),
                display_name: Some(options.user.display_name.clone()),
            },
            pub_cred_params,
            exclude_list: options
                .exclude_credentials
                .iter()
                .flatten()
                .map(|c| descriptor(c.id.to_vec()))
                .collect(),
            user_verification_req: UserVerificationRequirement::Required,
            resident_key_req: ResidentKeyRequirement::Discouraged,
            // Whatever the relying party asked: the KEK comes from it. The
            // credential is usable only with user verification, except that
            // a key may say whether it holds it when asked by id (credProtect
            // level 2), so unlock can find the right key without a PIN.
            extensions: AuthenticationExtensionsClientInputs {
                hmac_create_secret: Some(true),
                credential_protection_policy: Some(
                    CredentialProtectionPolicy::UserVerificationOptionalWithCredentialIDList,
                ),
                ..Default::default()
            },
            pin: self.pin(),
            use_ctap1_fallback: false,
        };
        let result = self.ceremony(move |key, status, callback, alive| {
            authenticator::ctap2::register(key, args, status, callback, alive);
        })?;
        let id = result
            .att_obj
            .auth_data
            .credential_data
            .as_ref()
            .map(|c| c.credential_id.clone())
            .ok_or(WebauthnCError::Internal)?;
        let attestation_object = serde_cbor_2::to_vec(&result.att_obj).map_err(|_| WebauthnCError::Cbor)?;
        Ok(registered(id, attestation_object))
    }

    fn perform_auth(
        &mut self,
        client_data_hash: Vec<u8>,
        options: PublicKeyCredentialRequestOptions,
        _timeout_ms: u32,
    ) -> Result<PublicKeyCredential, WebauthnCError> {
        let client_data_hash: [u8; 32] = client_data_hash.try_into().map_err(|_| WebauthnCError::Internal)?;
        let allow_list: Vec<PublicKeyCredentialDescriptor> =
            options.allow_credentials.iter().map(|c| descriptor(c.id.to_vec())).collect();
        let salt = salt_of(&options);
        let args = SignArgs {
            client_data_hash,
            origin: options.rp_id.clone(),
            relying_party_id: options.rp_id.clone(),
            allow_list: allow_list.clone(),
            user_verification_req: UserVerificationRequirement::Required,
            user_presence_req: true,
            extensions: AuthenticationExtensionsClientInputs {
                hmac_get_secret: salt.map(|salt1| HMACGetSecretInput { salt1, salt2: None }),
                ..Default::default()
            },
            pin: self.pin(),
            use_ctap1_fallback: false,
        };
        let result = self.ceremony(move |key, status, callback, alive| {
            authenticator::ctap2::sign(key, args, status, callback, alive);
        })?;
        self.last_hmac = result.extensions.hmac_get_secret.as_ref().map(|out| Zeroizing::new(out.output1));
        let id = match (&result.assertion.credentials, allow_list.as_slice()) {
            (Some(c), _) => c.id.clone(),
            (None, [only]) => only.id.clone(),
            _ => return Err(WebauthnCError::Internal),
        };
        Ok(asserted(
            id,
            result.assertion.auth_data.to_vec(),
            result.assertion.signature.clone(),
            result.assertion.user.as_ref().map(|u| u.id.clone()),
        ))
    }
}

impl<T: CtapTransport> HardwareKey<T> {
    fn explain(&mut self, e: WebauthnCError) -> KeyError {
        self.last_error.take().unwrap_or(match e {
            WebauthnCError::Cancelled => KeyError::Cancelled,
            WebauthnCError::Security => KeyError::Failed("origin and relying party do not match"),
            _ => KeyError::Failed("authenticator error"),
        })
    }
}

impl<T: CtapTransport> SecurityKey for HardwareKey<T> {
    fn register(
        &mut self,
        origin: &Url,
        options: CreationChallengeResponse,
    ) -> Result<RegisterPublicKeyCredential, KeyError> {
        self.last_error = None;
        self.can_verify_user()?;
        self.do_registration(origin.clone(), options).map_err(|e| self.explain(e))
    }

    fn sign_in(
        &mut self,
        origin: &Url,
        options: RequestChallengeResponse,
        salt: Option<&[u8; 32]>,
    ) -> Result<Assertion, KeyError> {
        self.last_error = None;
        self.last_hmac = None;
        self.can_verify_user()?;
        let options = with_salt(options, salt);
        let credential = self.do_authentication(origin.clone(), options).map_err(|e| self.explain(e))?;
        let hmac_secret = self.last_hmac.take();
        // Asked, and the key answered without it: it has no hmac-secret
        // (whatever it advertised), and this mode needs it.
        if salt.is_some() && hmac_secret.is_none() {
            return Err(KeyError::Unsupported("hmac-secret"));
        }
        Ok(Assertion { credential, hmac_secret })
    }

    /// Advertised in getInfo. A key that advertises it and then gives no
    /// output is refused at sign-in (`Unsupported("hmac-secret")`).
    fn has_hmac_secret(&self) -> bool {
        self.key.info().is_some_and(|i| i.supports_hmac_secret())
    }

    /// Whether this key holds one of `credential_ids` for `rp_id`: a
    /// silent getAssertion (no touch, no PIN), as CTAP 2.1's pre-flight.
    fn holds(&mut self, rp_id: &str, credential_ids: &[Vec<u8>]) -> bool {
        use authenticator::ctap2::client_data::ClientDataHash;
        use authenticator::ctap2::commands::get_assertion::{
            GetAssertion, GetAssertionExtensions, GetAssertionOptions,
        };
        use authenticator::FidoDeviceIO;
        use sha2::Digest;
        credential_ids.iter().any(|id| {
            let silent = GetAssertion::new(
                ClientDataHash(sha2::Sha256::digest(b"").into()),
                RelyingParty { id: rp_id.to_owned(), name: None },
                vec![descriptor(id.clone())],
                GetAssertionOptions { user_verification: None, user_presence: Some(false) },
                GetAssertionExtensions::default(),
            );
            self.key.send_msg(&silent).is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_or_unanswered_touch_is_a_cancel_and_a_foreign_key_is_the_wrong_key() {
        let status = |code| HIDError::Command(CommandError::StatusCode(code, None));
        for code in [StatusCode::OperationDenied, StatusCode::UserActionTimeout, StatusCode::KeepaliveCancel]
        {
            assert_eq!(hid_error(status(code)), KeyError::Cancelled);
        }
        assert_eq!(hid_error(status(StatusCode::NoCredentials)), KeyError::WrongKey);
        assert_eq!(hid_error(status(StatusCode::PinBlocked)), KeyError::PinBlocked);
        let gone = super::super::fido::to_io(super::super::ctaphid::HidError::Gone);
        assert_eq!(hid_error(gone), KeyError::Removed);
    }

    #[test]
    fn what_the_key_said_about_its_pin_explains_the_failure() {
        let cancelled = || AuthenticatorError::CancelledByUser;
        let heard = Heard { pin_retries: Some(Some(5)), ..Heard::default() };
        assert_eq!(key_error(cancelled(), &heard), KeyError::PinWrong { retries_left: Some(5) });
        let heard = Heard { pin_blocked: true, ..Heard::default() };
        assert_eq!(key_error(cancelled(), &heard), KeyError::PinBlocked);
        assert_eq!(key_error(cancelled(), &Heard::default()), KeyError::Cancelled);
    }
}
