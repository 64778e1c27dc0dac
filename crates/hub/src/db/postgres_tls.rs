//! How the hub reaches PostgreSQL, TLS included. The connection string is
//! libpq's (`host=… port=… user=… dbname=…` or a `postgresql://` URL)
//! with libpq's own TLS keys, `sslmode` and `sslrootcert`, so the string
//! an operator tries with `psql` is the one the hub takes. tokio-postgres
//! knows neither `verify-full` nor `sslrootcert`: they are read here and
//! taken out before it parses the rest.
//!
//! The rule. Through a Unix socket (a directory as the host) there is no
//! TLS: the connection never leaves the machine. Over TCP, TLS is
//! required and the server's certificate verified, its chain and its name
//! (`sslmode=verify-full`, libpq's strictest, and the default here); a
//! weaker `sslmode` over TCP is refused before any connection is made, and
//! a server that declines TLS is sent no startup message (no user name,
//! no password). The roots are `sslrootcert`'s PEM file, or the
//! platform's when it is absent or `system` (libpq 16's word).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// A connection string the hub will not use. Never quotes the string (it
/// may hold a password), only the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConninfoError {
    /// libpq's key/value syntax is broken.
    #[error("the PostgreSQL connection string does not parse: {0}")]
    Syntax(&'static str),
    /// `sslmode` holds a word libpq does not know.
    #[error("the PostgreSQL connection string's sslmode is none of disable, allow, prefer, require, verify-ca, verify-full")]
    UnknownSslMode,
    /// TCP with less than a verified certificate and name.
    #[error(
        "PostgreSQL over TCP needs sslmode=verify-full (the server's certificate and name checked), not {0}; \
         or connect through its Unix socket (host=/var/run/postgresql)"
    )]
    WeakTls(&'static str),
    /// A Unix socket and a TCP host in one string.
    #[error("the PostgreSQL connection string names both a socket directory and a TCP host")]
    MixedHosts,
    /// `sslrootcert`'s file could not be used.
    #[error("sslrootcert {path}: {reason}")]
    Roots {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The platform has no root certificates to verify the server with.
    #[error("no root certificates on this machine to verify PostgreSQL's; give sslrootcert=FILE")]
    NoSystemRoots,
    /// rustls refused the client configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// What connecting takes: tokio-postgres's settings (TLS required when
/// any host is TCP) and the TLS connector (verifying against the roots).
pub struct Settings {
    /// The settings, TLS keys taken out.
    pub config: tokio_postgres::Config,
    /// The connector: rustls with ring, TLS 1.3 and 1.2.
    pub tls: MakeRustlsConnect,
}

/// libpq's TLS keys as the string gives them.
#[derive(Default)]
struct TlsKeys {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Reads `conninfo` and applies the rule above.
pub fn settings(conninfo: &str) -> Result<Settings, super::DbError> {
    let (rest, keys) = split_tls_keys(conninfo)?;
    let mut config: tokio_postgres::Config = rest.parse()?;
    let tcp =
        !config.get_hostaddrs().is_empty() || config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(_)));
    #[cfg(unix)]
    let unix = config.get_hosts().iter().any(|h| matches!(h, Host::Unix(_)));
    #[cfg(not(unix))]
    let unix = false;
    let mode = match keys.sslmode.as_deref() {
        None | Some("verify-full") => None,
        Some(other) => Some(weak_mode(other)?),
    };
    let roots = if tcp {
        if unix {
            return Err(ConninfoError::MixedHosts.into());
        }
        if let Some(weak) = mode {
            return Err(ConninfoError::WeakTls(weak).into());
        }
        config.ssl_mode(SslMode::Require);
        roots(keys.sslrootcert.as_deref())?
    } else {
        config.ssl_mode(SslMode::Disable);
        RootCertStore::empty()
    };
    let client = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(ConninfoError::from)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Settings { config, tls: MakeRustlsConnect::new(client) })
}

/// A `sslmode` other than verify-full, as a word of libpq's.
fn weak_mode(mode: &str) -> Result<&'static str, ConninfoError> {
    ["disable", "allow", "prefer", "require", "verify-ca"]
        .into_iter()
        .find(|m| *m == mode)
        .ok_or(ConninfoError::UnknownSslMode)
}

/// The roots `sslrootcert` names: its PEM file's certificates, or the
/// platform's.
fn roots(sslrootcert: Option<&str>) -> Result<RootCertStore, ConninfoError> {
    let mut store = RootCertStore::empty();
    match sslrootcert {
        None | Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(ConninfoError::NoSystemRoots);
            }
        }
        Some(file) => {
            let path = PathBuf::from(file);
            let bad = |reason: String| ConninfoError::Roots { path: path.clone(), reason };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| bad(e.to_string()))?;
            for cert in certs {
                store.add(cert).map_err(|e| bad(e.to_string()))?;
            }
            if store.is_empty() {
                return Err(bad("no certificate in it".into()));
            }
        }
    }
    Ok(store)
}

/// `conninfo` without its TLS keys, and those keys.
fn split_tls_keys(conninfo: &str) -> Result<(String, TlsKeys), ConninfoError> {
    let trimmed = conninfo.trim();
    if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://") {
        return Ok(split_url(trimmed));
    }
    let mut keys = TlsKeys::default();
    let mut rest = String::with_capacity(conninfo.len());
    for pair in pairs(conninfo)? {
        match pair.key.as_str() {
            "sslmode" => keys.sslmode = Some(pair.value),
            "sslrootcert" => keys.sslrootcert = Some(pair.value),
            _ => {
                rest.push_str(conninfo.get(pair.span).ok_or(ConninfoError::Syntax("a key"))?);
                rest.push(' ');
            }
        }
    }
    Ok((rest, keys))
}

/// A URL's TLS parameters taken out of its query.
fn split_url(url: &str) -> (String, TlsKeys) {
    let mut keys = TlsKeys::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), keys);
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|param| {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match decode(key).as_str() {
                "sslmode" => keys.sslmode = Some(decode(value)),
                "sslrootcert" => keys.sslrootcert = Some(decode(value)),
                _ => return true,
            }
            false
        })
        .collect();
    let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    (rest, keys)
}

/// One `key=value` of a key/value string: the key, the value unquoted and
/// unescaped, and where the whole pair stands in the string.
struct Pair {
    key: String,
    value: String,
    span: Range<usize>,
}

/// The pairs of libpq's key/value syntax: `key = value`, spaces allowed
/// around `=`, a value either bare (up to a space) or in single quotes, a
/// backslash taking the next character as it is in either.
fn pairs(s: &str) -> Result<Vec<Pair>, ConninfoError> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_space(&mut chars);
        let Some(&(start, _)) = chars.peek() else { break };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_space(&mut chars);
        if chars.next().map(|(_, c)| c) != Some('=') {
            return Err(ConninfoError::Syntax("a key without \"=\""));
        }
        skip_space(&mut chars);
        let mut value = String::new();
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut end = s.len();
        loop {
            let Some((i, c)) = chars.next() else {
                if quoted {
                    return Err(ConninfoError::Syntax("an unterminated quoted value"));
                }
                break;
            };
            match c {
                '\\' => value.push(chars.next().map(|(_, c)| c).unwrap_or('\\')),
                '\'' if quoted => {
                    end = i + 1;
                    break;
                }
                c if c.is_whitespace() && !quoted => {
                    end = i;
                    break;
                }
                c => value.push(c),
            }
        }
        out.push(Pair { key, value, span: start..end });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbError;

    fn refused(conninfo: &str) -> String {
        match settings(conninfo) {
            Ok(_) => panic!("taken: {conninfo}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn libpq_pairs_are_read_with_quotes_escapes_and_spaces() {
        let s = r"host = db.example  password='it\'s a\\b' user=a\ b dbname=sealbox";
        let got: Vec<(String, String)> = pairs(s).unwrap().into_iter().map(|p| (p.key, p.value)).collect();
        assert_eq!(got[0], ("host".into(), "db.example".into()));
        assert_eq!(got[1], ("password".into(), r"it's a\b".into()));
        assert_eq!(got[2], ("user".into(), "a b".into()));
        assert_eq!(got[3], ("dbname".into(), "sealbox".into()));
        assert!(pairs("host='unterminated").is_err());
        assert!(pairs("host").is_err());
    }

    #[test]
    fn the_tls_keys_are_taken_out_and_the_rest_kept_as_written() {
        let (rest, keys) = split_tls_keys(
            "host=db.example sslmode=verify-full sslrootcert='/etc/a b/ca.pem' password='p q'",
        )
        .unwrap();
        assert_eq!(rest, "host=db.example password='p q' ");
        assert_eq!(keys.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(keys.sslrootcert.as_deref(), Some("/etc/a b/ca.pem"));
        let (rest, keys) = split_tls_keys(
            "postgresql://hub@db.example/sealbox?sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5",
        )
        .unwrap();
        assert_eq!(rest, "postgresql://hub@db.example/sealbox?connect_timeout=5");
        assert_eq!(keys.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        assert!(keys.sslmode.is_none());
    }

    #[test]
    fn over_tcp_anything_short_of_a_verified_name_is_refused() {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let e = refused(&format!("host=db.example user=hub password=QZXSECRET sslmode={mode}"));
            assert!(e.contains("verify-full") && e.contains(mode), "{e}");
            assert!(!e.contains("QZXSECRET"), "{e}");
        }
        assert!(refused("hostaddr=10.0.0.5 user=hub sslmode=require").contains("verify-full"));
        assert!(refused("postgresql://hub@db.example/sealbox?sslmode=prefer").contains("verify-full"));
        assert!(refused("host=db.example sslmode=verify-everything").contains("sslmode"));
        assert!(refused("host=/run/postgresql,db.example").contains("both"));
    }

    #[test]
    fn a_string_that_does_not_parse_is_refused_without_its_values() {
        for bad in [
            "host=db.example password=QZXSECRET port=QZXSECRET",
            "host=db.example password='QZXSECRET",
            "postgresql://hub:QZXSECRET@db.example:QZXSECRET/sealbox",
            "postgresql://hub:QZXSECRET@db.example/sealbox?QZXSECRET",
        ] {
            let e = refused(bad);
            assert!(!e.contains("QZXSECRET"), "{e}");
            assert!(e.starts_with("database: ") || e.contains("does not parse"), "{e}");
        }
        let e = refused("host=db.example port=x");
        assert!(e.contains("`port`") && !e.ends_with("()"), "{e}");
    }

    #[test]
    fn over_tcp_tls_is_required_and_over_a_socket_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, include_str!("../../tests/fixtures/tls/cert.pem")).unwrap();
        let tcp = settings(&format!("host=db.example user=hub sslrootcert={}", ca.display())).unwrap();
        assert_eq!(tcp.config.get_ssl_mode(), SslMode::Require);
        let socket = settings("host=/run/postgresql user=hub sslmode=disable").unwrap();
        assert_eq!(socket.config.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn a_roots_file_that_is_missing_or_holds_no_certificate_is_named() {
        let e = refused("host=db.example sslrootcert=/nonexistent/ca.pem");
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = refused(&format!("host=db.example sslrootcert={}", empty.display()));
        assert!(e.contains("no certificate"), "{e}");
        assert!(matches!(settings("host=db.example sslmode=require"), Err(DbError::Conninfo(_))));
    }
}
