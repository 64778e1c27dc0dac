//! A FIDO2 key seen through Mozilla's `authenticator` crate: it builds and
//! checks the CTAP2 messages (makeCredential, getAssertion, clientPIN with
//! PIN/UV protocols 1 and 2, hmac-secret encrypted to the platform); we give
//! it a device ([`CtapTransport`]: CTAP2 requests in, answers out).
//!
//! The transport is ours so that the same code runs against a USB key
//! (CTAPHID over hidraw, [`super::ctaphid`]) and, in tests, against an
//! independent authenticator (soft-fido2) at the CBOR and the CTAPHID level.

use authenticator::crypto::SharedSecret;
use authenticator::ctap2::commands::{RequestCtap1, RequestCtap2};
use authenticator::errors::HIDError;
use authenticator::{AuthenticatorInfo, FidoDevice, FidoDeviceIO, FidoProtocol};

use super::ctaphid::{self, Channel, HidError, HidReports};

/// Where CTAP2 requests go.
pub trait CtapTransport: Send {
    /// Sends one CTAP2 request (command byte, then CBOR) and returns the
    /// key's answer (status byte, then CBOR). `alive` turning false asks
    /// the key to cancel.
    fn cbor(&mut self, request: &[u8], alive: &dyn Fn() -> bool) -> Result<Vec<u8>, HidError>;
}

impl<R: HidReports + Send> CtapTransport for Channel<R> {
    fn cbor(&mut self, request: &[u8], alive: &dyn Fn() -> bool) -> Result<Vec<u8>, HidError> {
        if self.info().capabilities & ctaphid::CAP_CBOR == 0 {
            return Err(HidError::Malformed("the key does not speak CTAP2"));
        }
        match self.transact(ctaphid::cmd::CBOR, request, alive)? {
            (ctaphid::cmd::CBOR, answer) => Ok(answer),
            _ => Err(HidError::Malformed("a CBOR request got another kind of answer")),
        }
    }
}

/// How a transport failure travels through `authenticator`'s errors (an
/// `io::Error` kind) and back.
pub(crate) fn to_io(e: HidError) -> HIDError {
    use std::io::ErrorKind;
    let kind = match e {
        HidError::Gone => ErrorKind::NotConnected,
        HidError::Silent => ErrorKind::TimedOut,
        HidError::Malformed(_) | HidError::TooLong => ErrorKind::InvalidData,
        HidError::Device(_) => ErrorKind::Other,
        HidError::Io(kind) => kind,
    };
    HIDError::IO(None, std::io::Error::new(kind, e))
}

/// One key, as `authenticator`'s CTAP2 code drives it. CTAP1 (U2F-only)
/// keys are refused: they have no hmac-secret and no PIN.
pub struct FidoKey<T: CtapTransport> {
    transport: T,
    info: Option<AuthenticatorInfo>,
    secret: Option<SharedSecret>,
    ctap1_only: bool,
}

impl<T: CtapTransport> std::fmt::Debug for FidoKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FidoKey").field("ctap2", &self.info.is_some()).finish_non_exhaustive()
    }
}

impl<T: CtapTransport> FidoKey<T> {
    /// Wraps a transport and asks the key what it supports (getInfo).
    pub fn new(transport: T) -> Result<Self, HIDError> {
        let mut key = FidoKey { transport, info: None, secret: None, ctap1_only: false };
        key.init()?;
        if key.ctap1_only {
            return Err(HIDError::DeviceNotSupported);
        }
        Ok(key)
    }

    /// What the key said about itself.
    pub fn info(&self) -> Option<&AuthenticatorInfo> {
        self.info.as_ref()
    }
}

impl<T: CtapTransport> FidoDeviceIO for FidoKey<T> {
    fn send_msg_cancellable<Out, Req: RequestCtap1<Output = Out> + RequestCtap2<Output = Out>>(
        &mut self,
        msg: &Req,
        keep_alive: &dyn Fn() -> bool,
    ) -> Result<Out, HIDError> {
        self.send_cbor_cancellable(msg, keep_alive)
    }

    fn send_cbor_cancellable<Req: RequestCtap2>(
        &mut self,
        msg: &Req,
        keep_alive: &dyn Fn() -> bool,
    ) -> Result<Req::Output, HIDError> {
        let mut request = vec![msg.command() as u8];
        request.extend(msg.wire_format()?);
        let answer = self.transport.cbor(&request, keep_alive).map_err(to_io)?;
        msg.handle_response_ctap2(self, &answer)
    }

    fn send_ctap1_cancellable<Req: RequestCtap1>(
        &mut self,
        _msg: &Req,
        _keep_alive: &dyn Fn() -> bool,
    ) -> Result<Req::Output, HIDError> {
        Err(HIDError::UnsupportedCommand)
    }
}

impl<T: CtapTransport> FidoDevice for FidoKey<T> {
    fn pre_init(&mut self) -> Result<(), HIDError> {
        Ok(())
    }
    fn initialized(&self) -> bool {
        true
    }
    fn is_u2f(&mut self) -> bool {
        false
    }
    fn should_try_ctap2(&self) -> bool {
        true
    }
    fn get_authenticator_info(&self) -> Option<&AuthenticatorInfo> {
        self.info.as_ref()
    }
    fn set_authenticator_info(&mut self, authenticator_info: AuthenticatorInfo) {
        self.info = Some(authenticator_info);
    }
    fn get_protocol(&self) -> FidoProtocol {
        if self.ctap1_only {
            FidoProtocol::CTAP1
        } else {
            FidoProtocol::CTAP2
        }
    }
    fn downgrade_to_ctap1(&mut self) {
        self.ctap1_only = true;
    }
    fn get_shared_secret(&self) -> Option<&SharedSecret> {
        self.secret.as_ref()
    }
    fn set_shared_secret(&mut self, secret: SharedSecret) {
        self.secret = Some(secret);
    }
}
