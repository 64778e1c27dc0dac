//! USB security keys on Linux and macOS: hidapi finds the FIDO HID
//! interfaces (usage page 0xF1D0, usage 1) and carries their 64-byte
//! reports; everything above the report is [`super::ctaphid`] and
//! [`super::hardware`]. On Linux a non-root user needs the udev rule shipped
//! in `packaging/70-sealbox-security-keys.rules` (docs/hardware-keys.md).
//!
//! Windows does not let normal users open FIDO HID devices; there the
//! system WebAuthn API is the transport (not yet built: docs/architecture.md).

use std::path::PathBuf;
use std::time::Duration;

use super::ctaphid::{Channel, HidError, HidReports, REPORT_LEN};
use super::hardware::{touched_key, CancelHandle, HardwareKey};
use super::{KeyError, SecurityKey};

/// The FIDO Alliance's HID usage page and the CTAPHID usage.
const FIDO_USAGE_PAGE: u16 = 0xf1d0;
const FIDO_USAGE: u16 = 0x01;
/// How long a key may send nothing at all (keep-alives count) before a
/// request is abandoned. Keys send keep-alives every 100 ms while they wait
/// for a touch; their own touch timeout (about 30 s) ends the wait.
const SILENCE: Duration = Duration::from_secs(5);

/// One FIDO HID interface.
pub struct UsbReports(hidapi::HidDevice);

impl HidReports for UsbReports {
    fn write_report(&mut self, report: &[u8; REPORT_LEN]) -> Result<(), HidError> {
        // hidapi wants the report id first; FIDO keys use none (0).
        let mut out = [0u8; REPORT_LEN + 1];
        out[1..].copy_from_slice(report);
        match self.0.write(&out) {
            Ok(n) if n >= REPORT_LEN => Ok(()),
            // A FIDO key's reports fail this way when it has been unplugged.
            _ => Err(HidError::Gone),
        }
    }

    fn read_report(&mut self, wait: Duration) -> Result<Option<[u8; REPORT_LEN]>, HidError> {
        let mut buf = [0u8; REPORT_LEN];
        let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        match self.0.read_timeout(&mut buf, ms) {
            Ok(0) => Ok(None),
            Ok(n) if n == REPORT_LEN => Ok(Some(buf)),
            Ok(_) => Err(HidError::Malformed("short report")),
            Err(_) => Err(HidError::Gone),
        }
    }
}

/// A key found on USB.
pub type UsbKey = HardwareKey<Channel<UsbReports>>;

/// Every FIDO2 key plugged in now, each on a channel of its own. A key that
/// will not open (another program holds it, or it is U2F-only) is skipped.
pub fn keys_present() -> Result<Vec<UsbKey>, KeyError> {
    Ok(plugged_in()?.into_iter().map(|(key, _)| key).collect())
}

/// Each key plugged in with its device node (`/dev/hidrawN` on Linux: what
/// [`super::removal::KeyRemoval`] watches).
fn plugged_in() -> Result<Vec<(UsbKey, PathBuf)>, KeyError> {
    let api = hidapi::HidApi::new().map_err(|_| KeyError::Failed("USB HID is not available"))?;
    let mut keys = Vec::new();
    for info in api.device_list() {
        if info.usage_page() != FIDO_USAGE_PAGE || info.usage() != FIDO_USAGE {
            continue;
        }
        let Ok(device) = api.open_path(info.path()) else { continue };
        let node = PathBuf::from(info.path().to_string_lossy().into_owned());
        let nonce = sealbox_crypto::secret::random_bytes::<8>();
        let Ok(channel) = Channel::open(UsbReports(device), nonce, SILENCE) else { continue };
        if let Ok(key) = HardwareKey::new(channel) {
            keys.push((key, node));
        }
    }
    Ok(keys)
}

/// The key to enrol, so the credential lands on the key the clinician
/// means: the only one plugged in, or of several the one touched while
/// they all flash ([`touched_key`]). `cancel` stops the choosing and the
/// ceremony after it.
pub fn key_to_enrol(cancel: &CancelHandle) -> Result<UsbKey, KeyError> {
    let mut keys = keys_present()?;
    match keys.len() {
        0 => Err(KeyError::NoKey),
        1 => keys.pop().map(|k| k.cancelled_by(cancel.clone())).ok_or(KeyError::NoKey),
        _ => touched_key(keys, cancel),
    }
}

/// The plugged-in key that holds one of `credential_ids` for `rp_id`,
/// found without a touch or a PIN (so a colleague's key plugged in beside
/// it loses no PIN tries). A single key that will not say (a credential
/// made elsewhere with credProtect 3) is used as it is: the ceremony itself
/// then tells.
///
/// Returns the key and its device node (to lock when it is pulled out).
pub fn key_holding(rp_id: &str, credential_ids: &[Vec<u8>]) -> Result<(UsbKey, PathBuf), KeyError> {
    let mut keys = plugged_in()?;
    if keys.len() == 1 {
        return keys.pop().ok_or(KeyError::NoKey);
    }
    if keys.is_empty() {
        return Err(KeyError::NoKey);
    }
    keys.into_iter()
        .find_map(|(mut k, node)| k.holds(rp_id, credential_ids).then_some((k, node)))
        .ok_or(KeyError::WrongKey)
}
