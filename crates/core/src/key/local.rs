//! Verifying the security key on this device, for unlocking while the hub
//! is out of reach: webauthn-rs as a local relying party (the hub's id and
//! origin) with the credential the hub returned at enrolment. A fresh
//! random challenge each time, user verification required, the signature
//! counter checked and advanced.

use webauthn_rs::prelude::{Passkey, Url, Webauthn, WebauthnBuilder};
use zeroize::Zeroizing;

use super::{Assertion, KeyError, SecurityKey};

/// Proof that the enrolled key was just touched and verified: here by
/// [`LocalVerifier::verify`], or by the hub, whose session is the proof
/// ([`VerifiedTouch::by_hub`]). Nothing else makes one.
#[derive(Debug)]
pub struct VerifiedTouch(());

impl VerifiedTouch {
    /// The hub verified the touch: it answered the assertion with `session`
    /// (only the workstation's sign-in, which just received it, calls this).
    pub(crate) fn by_hub(_session: &sealbox_model::hub_api::auth::Session) -> Self {
        VerifiedTouch(())
    }
}

/// The local relying party.
pub struct LocalVerifier {
    rp: Webauthn,
    origin: Url,
}

impl std::fmt::Debug for LocalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalVerifier").field("origin", &self.origin.as_str()).finish_non_exhaustive()
    }
}

impl LocalVerifier {
    /// The hub's relying party id and origin.
    pub fn new(rp_id: &str, origin: &Url) -> Result<Self, KeyError> {
        let rp = WebauthnBuilder::new(rp_id, origin)
            .and_then(|b| b.build())
            .map_err(|_| KeyError::Failed("the relying party settings are invalid"))?;
        Ok(LocalVerifier { rp, origin: origin.clone() })
    }

    /// One touch without hmac-secret, verified here (the weaker mode): the
    /// proof releases the keyring-held KEK ([`super::fallback`]).
    pub fn verify(
        &self,
        key: &mut dyn SecurityKey,
        passkey: &mut Passkey,
    ) -> Result<VerifiedTouch, KeyError> {
        self.touch(key, passkey, None).map(|_| VerifiedTouch(()))
    }

    /// One touch, verified here: the key signs a fresh challenge for
    /// `passkey` (whose counter advances), and gives the hmac-secret output
    /// for `salt`.
    pub fn sign_in(
        &self,
        key: &mut dyn SecurityKey,
        passkey: &mut Passkey,
        salt: &[u8; 32],
    ) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        self.touch(key, passkey, Some(salt))?.hmac_secret.ok_or(KeyError::Unsupported("hmac-secret"))
    }

    fn touch(
        &self,
        key: &mut dyn SecurityKey,
        passkey: &mut Passkey,
        salt: Option<&[u8; 32]>,
    ) -> Result<Assertion, KeyError> {
        let (options, state) = self
            .rp
            .start_passkey_authentication(std::slice::from_ref(passkey))
            .map_err(|_| KeyError::Failed("no challenge could be made"))?;
        let assertion = key.sign_in(&self.origin, options, salt)?;
        let result = self
            .rp
            .finish_passkey_authentication(&assertion.credential, &state)
            .map_err(|_| KeyError::Failed("the key's answer did not verify"))?;
        if !result.user_verified() {
            return Err(KeyError::Failed("the key did not verify its user"));
        }
        passkey.update_credential(&result);
        Ok(assertion)
    }
}
