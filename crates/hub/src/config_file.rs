//! The hub's settings file, `/etc/sealbox-hub/hub.toml` in the package:
//! what `sealbox-hub serve --config FILE` reads instead of flags. Each key
//! is a `serve` flag's long name with `_` for `-`; the SMTP relay's keys
//! sit in an `[smtp]` table without their `smtp_` prefix. Unknown keys are
//! refused, so a misspelt setting is an error at start, not a default.
//!
//! A relative file name (TLS certificate and key, the relay's password and
//! CA files) is read from the folder systemd hands the service its
//! credentials in (`$CREDENTIALS_DIRECTORY`, the unit's `LoadCredential=`)
//! when there is one, else next to the settings file: the packaged unit
//! keeps the TLS key readable by root alone on disk and gives the hub's
//! own (dynamic) user a private copy.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::cli::SmtpArgs;
use crate::config::RatePolicy;
use crate::server::TlsFiles;

/// What `serve` runs with, from flags or from the settings file.
#[derive(Debug)]
pub struct ServeSettings {
    /// Directory holding the database.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Certificate chain and key, for HTTPS.
    pub tls: Option<TlsFiles>,
    /// The file holding the PostgreSQL connection string, when the hub
    /// runs on PostgreSQL.
    pub postgres_file: Option<PathBuf>,
    /// Serve every practice of a deployment, each under `/p/<id>/`.
    pub multi_practice: bool,
    /// Patient channel rate limit.
    pub patient_rate: RatePolicy,
    /// The SMTP relay for blind notices.
    pub smtp: SmtpArgs,
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeFile {
    data_dir: PathBuf,
    addr: SocketAddr,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    postgres_file: Option<PathBuf>,
    #[serde(default)]
    multi_practice: bool,
    patient_burst: Option<u32>,
    patient_per_minute: Option<u32>,
    #[serde(default)]
    smtp: SmtpFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    relay: Option<String>,
    from: Option<String>,
    user: Option<String>,
    password_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    public_url: Option<String>,
}

/// The settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// It could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// The keys do not go together.
    #[error("{path}: {message}")]
    Settings {
        /// The file.
        path: PathBuf,
        /// What is missing.
        message: &'static str,
    },
}

impl ServeSettings {
    /// Reads the settings file at `path`; relative file names are taken
    /// from `credentials` (systemd's `$CREDENTIALS_DIRECTORY`) when given.
    pub fn from_file(path: &Path, credentials: Option<&Path>) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigFileError::Read { path: path.to_path_buf(), source })?;
        let here = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, here, credentials).map_err(|e| match e {
            Problem::Parse(message) => ConfigFileError::Parse { path: path.to_path_buf(), message },
            Problem::Settings(message) => ConfigFileError::Settings { path: path.to_path_buf(), message },
        })
    }

    fn parse(text: &str, here: &Path, credentials: Option<&Path>) -> Result<Self, Problem> {
        let file: ServeFile = toml::from_str(text).map_err(|e| Problem::Parse(e.to_string()))?;
        let secret = |p: PathBuf| if p.is_absolute() { p } else { credentials.unwrap_or(here).join(p) };
        let tls = match (file.tls_cert, file.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert: secret(cert), key: secret(key) }),
            (None, None) => None,
            _ => return Err(Problem::Settings("tls_cert and tls_key go together")),
        };
        let smtp = file.smtp;
        if smtp.relay.is_some() && (smtp.from.is_none() || smtp.public_url.is_none()) {
            return Err(Problem::Settings("[smtp] relay needs from and public_url"));
        }
        if smtp.user.is_some() != smtp.password_file.is_some() {
            return Err(Problem::Settings("[smtp] user and password_file go together"));
        }
        Ok(ServeSettings {
            data_dir: if file.data_dir.is_absolute() { file.data_dir } else { here.join(file.data_dir) },
            addr: file.addr,
            tls,
            postgres_file: file.postgres_file.map(secret),
            multi_practice: file.multi_practice,
            patient_rate: RatePolicy::with(file.patient_burst, file.patient_per_minute),
            smtp: SmtpArgs {
                smtp_relay: smtp.relay,
                smtp_from: smtp.from,
                smtp_user: smtp.user,
                smtp_password_file: smtp.password_file.map(secret),
                smtp_ca_file: smtp.ca_file.map(secret),
                public_url: smtp.public_url,
            },
        })
    }
}

enum Problem {
    Parse(String),
    Settings(&'static str),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn parse(text: &str, credentials: Option<&Path>) -> Result<ServeSettings, String> {
        ServeSettings::parse(text, Path::new("/etc/sealbox-hub"), credentials).map_err(|e| match e {
            Problem::Parse(m) => m,
            Problem::Settings(m) => m.to_owned(),
        })
    }

    #[test]
    fn the_packaged_settings_file_reads_as_a_loopback_hub_with_the_default_rate() {
        let text = include_str!("../../../packaging/hub/hub.toml");
        let s = parse(text, None).unwrap();
        assert_eq!(s.data_dir, Path::new("/var/lib/sealbox-hub"));
        assert!(s.addr.ip().is_loopback());
        assert!(s.tls.is_none());
        assert_eq!(s.patient_rate, RatePolicy::default());
        assert!(s.smtp.smtp_relay.is_none());
    }

    #[test]
    fn relative_secrets_come_from_systemds_credentials_folder_and_absolute_ones_stay() {
        let text = "data_dir = \"/srv/hub\"\naddr = \"0.0.0.0:8443\"\ntls_cert = \"tls_cert.pem\"\ntls_key = \"/root/key.pem\"\npatient_burst = 5\n[smtp]\nrelay = \"smtp.example:587\"\nfrom = \"Surgery <no-reply@example>\"\npublic_url = \"https://hub.example\"\nuser = \"hub\"\npassword_file = \"smtp_password\"\n";
        let creds = Path::new("/run/credentials/sealbox-hub.service");
        let s = parse(text, Some(creds)).unwrap();
        let tls = s.tls.unwrap();
        assert_eq!(tls.cert, creds.join("tls_cert.pem"));
        assert_eq!(tls.key, Path::new("/root/key.pem"));
        assert_eq!(s.smtp.smtp_password_file.unwrap(), creds.join("smtp_password"));
        assert_eq!(s.patient_rate, RatePolicy { burst: 5, per_minute: RatePolicy::default().per_minute });
        // Without systemd, next to the settings file.
        let s = parse(text, None).unwrap();
        assert_eq!(s.tls.unwrap().cert, Path::new("/etc/sealbox-hub/tls_cert.pem"));
    }

    #[test]
    fn a_misspelt_key_half_a_pair_or_a_relay_without_its_sender_is_refused_by_name() {
        let base = "data_dir = \"/srv/hub\"\naddr = \"127.0.0.1:8443\"\n";
        let misspelt = parse(&format!("{base}patient_brust = 5\n"), None).unwrap_err();
        assert!(misspelt.contains("patient_brust"), "{misspelt}");
        let half = parse(&format!("{base}tls_cert = \"c.pem\"\n"), None).unwrap_err();
        assert!(half.contains("tls_key"), "{half}");
        let relay = parse(&format!("{base}[smtp]\nrelay = \"smtp.example\"\n"), None).unwrap_err();
        assert!(relay.contains("public_url"), "{relay}");
        let addr = parse("data_dir = \"/srv\"\naddr = \"nowhere\"\n", None).unwrap_err();
        assert!(addr.contains("addr"), "{addr}");
    }
}
