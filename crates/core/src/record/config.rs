//! Where a workstation saves to record: a small JSON file practice IT
//! writes (`/etc/sealbox/record.json` on Linux), never a setting a
//! clinician or the hub can change. The hub is not trusted with it: a
//! compromised hub that could name the endpoint could send every saved
//! thread, decrypted, wherever it liked. Read at each use, so a change
//! needs no restart.
//!
//! ```json
//! { "endpoint": "https://ehr.example.nhs.uk/fhir",
//!   "client_id": "sealbox-ws-12",
//!   "save_on_close": true,
//!   "timeout_secs": 20 }
//! ```
//! `client_id` defaults to the enrolment's device id; `timeout_secs` to 20
//! (1 to 120).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::SaveToRecordError;

/// The environment variable naming another file (tests, a practice's own
/// layout).
pub const CONFIG_ENV: &str = "SEALBOX_RECORD_CONFIG";

/// The environment variable naming the folder exports are written to.
pub const EXPORT_ENV: &str = "SEALBOX_EXPORT_DIR";

/// The practice's record system, as practice IT set it up here.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConfig {
    /// The FHIR R4 base URL (https, or http to this machine).
    pub endpoint: String,
    /// The client id the record system registered this workstation's key
    /// under (none: the device id).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Save each thread to the record when it is closed.
    #[serde(default)]
    pub save_on_close: bool,
    /// How long to wait for the record system, in seconds.
    #[serde(default = "RecordConfig::default_timeout")]
    pub timeout_secs: u64,
}

impl RecordConfig {
    fn default_timeout() -> u64 {
        20
    }

    /// The file to read: [`CONFIG_ENV`], else the system's place for it.
    pub fn path() -> PathBuf {
        if let Some(path) = std::env::var_os(CONFIG_ENV) {
            return PathBuf::from(path);
        }
        if cfg!(target_os = "windows") {
            let data = std::env::var_os("ProgramData").unwrap_or_else(|| "C:\\ProgramData".into());
            PathBuf::from(data).join("Sealbox").join("record.json")
        } else if cfg!(target_os = "macos") {
            PathBuf::from("/Library/Application Support/Sealbox/record.json")
        } else {
            PathBuf::from("/etc/sealbox/record.json")
        }
    }

    /// The set-up in `path` (none: no file, no record system).
    pub fn load(path: &Path) -> Result<Option<RecordConfig>, SaveToRecordError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SaveToRecordError::Setup(format!("it could not be read ({})", e.kind()))),
        };
        let config: RecordConfig = serde_json::from_str(&text)
            .map_err(|e| SaveToRecordError::Setup(format!("it is not valid ({e})")))?;
        crate::sync::client::check_transport(&config.endpoint).map_err(|_| {
            SaveToRecordError::Setup("its endpoint must be https (or http to this machine)".to_owned())
        })?;
        if !(1..=120).contains(&config.timeout_secs) {
            return Err(SaveToRecordError::Setup("its timeout_secs must be 1 to 120".to_owned()));
        }
        if config.client_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err(SaveToRecordError::Setup("its client_id is empty".to_owned()));
        }
        Ok(Some(config))
    }

    /// The client id, for the enrolment `device_id`.
    pub fn client_id<'a>(&'a self, device_id: &'a str) -> &'a str {
        self.client_id.as_deref().unwrap_or(device_id)
    }

    /// How long to wait for the record system.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// Where an exported Bundle goes: [`EXPORT_ENV`], else the user's
/// downloads folder (made if missing).
pub fn export_dir() -> std::io::Result<PathBuf> {
    let dir = match std::env::var_os(EXPORT_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => dirs::download_dir()
            .or_else(|| dirs::home_dir().map(|h| h.join("Downloads")))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?,
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Option<RecordConfig>, SaveToRecordError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        std::fs::write(&path, text).unwrap();
        RecordConfig::load(&path)
    }

    #[test]
    fn only_a_file_practice_it_wrote_well_sets_up_a_record_system() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(RecordConfig::load(&dir.path().join("none.json")).unwrap(), None);
        let ok = load(r#"{"endpoint":"https://ehr.example/fhir","save_on_close":true}"#).unwrap().unwrap();
        assert_eq!(ok.client_id("dev-1"), "dev-1");
        assert!(ok.save_on_close);
        assert_eq!(ok.timeout(), Duration::from_secs(20));
        let named =
            load(r#"{"endpoint":"http://127.0.0.1:8080/fhir","client_id":"ws-12"}"#).unwrap().unwrap();
        assert_eq!(named.client_id("dev-1"), "ws-12");
        for bad in [
            r#"{"endpoint":"http://ehr.example/fhir"}"#,
            r#"{"endpoint":"https://ehr.example/fhir","timeout_secs":0}"#,
            r#"{"endpoint":"https://ehr.example/fhir","client_id":" "}"#,
            r#"{"endpoint":"https://ehr.example/fhir","endpint":"x"}"#,
            "not json",
        ] {
            let err = load(bad).unwrap_err();
            assert!(matches!(err, SaveToRecordError::Setup(_)), "{bad}: {err}");
        }
    }
}
