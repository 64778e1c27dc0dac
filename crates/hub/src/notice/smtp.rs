//! Sending a [`BlindNotice`] through the practice's SMTP relay: STARTTLS
//! is required (no credentials or mail cross an unencrypted connection),
//! the relay's certificate is checked against the system's roots and the
//! practice's own CA if it has one (`--smtp-ca-file`).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::BlindNotice;

/// The practice's relay.
#[derive(Clone)]
pub struct SmtpConfig {
    /// The relay's host name (checked against its certificate).
    pub host: String,
    /// Its submission port (587 unless told).
    pub port: u16,
    /// The sender, e.g. `Riverside Surgery <no-reply@riverside.example>`.
    pub from: String,
    /// User name and password, when the relay asks for them.
    pub credentials: Option<(String, String)>,
    /// The relay's CA (PEM), when it is not one the system trusts.
    pub ca_pem: Option<Vec<u8>>,
    /// The hub's public address, for the link in each notice.
    pub public_url: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Why a notice was not sent. Names no address and no content.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The sender address is not one.
    #[error("--smtp-from is not an e-mail address")]
    From,
    /// The relay's CA file is not a PEM certificate.
    #[error("the SMTP relay's CA certificate could not be read")]
    Ca,
    /// TLS could not be set up.
    #[error("TLS for the SMTP relay could not be set up: {0}")]
    Tls(String),
    /// The notice could not be built.
    #[error("the notice could not be built")]
    Build,
    /// The relay refused, or could not be reached (the kind only: a
    /// relay's words can echo the address).
    #[error("the SMTP relay did not take the notice ({0})")]
    Send(&'static str),
}

/// A connection to the relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The hub's public address, for the link.
    pub public_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Mailer {
    /// Sets up the relay (nothing is sent yet).
    pub fn new(config: &SmtpConfig) -> Result<Self, SmtpError> {
        let from: Mailbox = config.from.parse().map_err(|_| SmtpError::From)?;
        let mut tls = TlsParameters::builder(config.host.clone());
        if let Some(pem) = &config.ca_pem {
            tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(|_| SmtpError::Ca)?);
        }
        let tls = tls.build_rustls().map_err(|e| SmtpError::Tls(e.to_string()))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            .port(config.port)
            .tls(Tls::Required(tls))
            .timeout(Some(Duration::from_secs(30)));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer { transport: builder.build(), from, public_url: config.public_url.clone() })
    }

    /// Sends `notice` to `to`.
    pub async fn send(&self, to: &Address, notice: &BlindNotice) -> Result<(), SmtpError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to.clone()))
            .subject(notice.subject())
            .header(ContentType::TEXT_PLAIN)
            .body(notice.body())
            .map_err(|_| SmtpError::Build)?;
        self.transport.send(message).await.map(drop).map_err(|e| {
            SmtpError::Send(if e.is_permanent() {
                "refused for good"
            } else if e.is_transient() {
                "refused for now"
            } else if e.is_timeout() {
                "timed out"
            } else if e.is_tls() {
                "TLS failed"
            } else {
                "could not be reached"
            })
        })
    }
}

/// An address a patient typed, if it is one.
pub fn parse_address(text: &str) -> Option<Address> {
    text.trim().parse().ok()
}
