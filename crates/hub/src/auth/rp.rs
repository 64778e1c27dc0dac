//! The WebAuthn relying party: its id, origin and attestation policy.

use std::sync::Arc;
use webauthn_rs::prelude::{AttestationCaList, Url, Webauthn, WebauthnBuilder};

/// Which authenticators may enrol.
#[derive(Debug, Clone, Default)]
pub enum AttestationPolicy {
    /// Any authenticator that does user verification (no attestation check).
    #[default]
    Any,
    /// Only authenticators attested by one of these CAs (e.g. a FIDO MDS
    /// derived list of approved security keys).
    TrustedCas(Arc<AttestationCaList>),
}

/// Relying-party settings (part of `HubConfig`).
#[derive(Debug, Clone)]
pub struct RpConfig {
    /// RP id: the domain the credentials are scoped to.
    pub rp_id: String,
    /// The origin the desktop's WebAuthn client reports.
    pub rp_origin: String,
    /// Shown by authenticators.
    pub rp_name: String,
    /// Attestation policy at enrolment.
    pub attestation: AttestationPolicy,
}

impl Default for RpConfig {
    /// Loopback defaults (development and tests).
    fn default() -> Self {
        RpConfig {
            rp_id: "localhost".to_owned(),
            rp_origin: "http://localhost".to_owned(),
            rp_name: "Sealbox".to_owned(),
            attestation: AttestationPolicy::Any,
        }
    }
}

/// The relying party could not be set up from the settings.
#[derive(Debug, thiserror::Error)]
pub enum RpError {
    /// The origin is not a URL.
    #[error("webauthn origin is not a URL")]
    Origin,
    /// webauthn-rs refused the id/origin pair.
    #[error("webauthn relying party: {0}")]
    Build(webauthn_rs::prelude::WebauthnError),
}

impl RpConfig {
    /// Builds the webauthn-rs relying party.
    pub fn build(&self) -> Result<Webauthn, RpError> {
        let origin = Url::parse(&self.rp_origin).map_err(|_| RpError::Origin)?;
        WebauthnBuilder::new(&self.rp_id, &origin)
            .and_then(|b| b.rp_name(&self.rp_name).build())
            .map_err(RpError::Build)
    }
}
