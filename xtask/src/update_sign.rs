//! Signing the packages for updates (issue 26 point 3): minisign, in the
//! form Tauri's updater reads. The public key it checks with is the
//! base64 of minisign's public key file; each package's signature is the
//! base64 of its `.sig` file; the manifest (`latest.json`) names each
//! platform's package (`linux-x86_64-deb`, …) and signature. The hub's
//! `publish-update` makes each `url` absolute under its own address.
//!
//! The release key never enters the repository: `tauri.conf.json` holds
//! its public half, and `cargo xtask bundle` signs with the minisign
//! secret key file named by `SEALBOX_UPDATE_KEY` (its password in
//! `SEALBOX_UPDATE_KEY_PASSWORD`), after checking it is the key the app
//! trusts. Without it (tests, demos, a developer's packages) builds sign
//! with a throwaway test key kept in the target directory, and the app
//! they build trusts that key instead (Tauri's `TAURI_CONFIG` override).
//! `cargo xtask update-key FILE` makes a release key.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use minisign::{KeyPair, PublicKey, SecretKey, SecretKeyBox};

use crate::proc::{io_error, Error, Result};
use crate::workspace::Workspace;

/// A key that signs updates.
pub struct Signer {
    pk: PublicKey,
    sk: SecretKey,
}

impl Signer {
    /// The release key named by `SEALBOX_UPDATE_KEY`, if set.
    pub fn from_env() -> Result<Option<Signer>> {
        let Some(path) = std::env::var_os("SEALBOX_UPDATE_KEY").map(PathBuf::from) else {
            return Ok(None);
        };
        Signer::open(&path, std::env::var("SEALBOX_UPDATE_KEY_PASSWORD").ok()).map(Some)
    }

    fn open(path: &Path, password: Option<String>) -> Result<Signer> {
        let text = std::fs::read_to_string(path).map_err(|e| io_error("reading the update key", path, &e))?;
        let sk_box = SecretKeyBox::from_string(&text)
            .map_err(|e| Error::new(format!("{} is not a minisign secret key: {e}", path.display())))?;
        let sk = match password {
            Some(p) => sk_box.into_secret_key(Some(p)),
            None => sk_box.into_unencrypted_secret_key(),
        }
        .map_err(|e| Error::new(format!("opening the update key: {e}")))?;
        let pk = PublicKey::from_secret_key(&sk)
            .map_err(|e| Error::new(format!("the update key's public half: {e}")))?;
        Ok(Signer { pk, sk })
    }

    /// The key this build signs with, set up before anything is compiled:
    /// the release key when `SEALBOX_UPDATE_KEY` names one (it must be the
    /// key `tauri.conf.json` trusts), else the workspace's test key, which
    /// the app built from here on trusts instead (`TAURI_CONFIG`, read by
    /// the shell's build script, inherited by every cargo xtask runs).
    pub fn for_builds(ws: &Workspace) -> Result<Signer> {
        if let Some(release) = Signer::from_env()? {
            check_release_key(&release.public_key_base64()?, &trusted_key(ws)?)?;
            return Ok(release);
        }
        let test = Signer::test_key(&ws.target.join("update-test-key").join("test.key"))?;
        let conf = serde_json::json!({ "plugins": { "updater": { "pubkey": test.public_key_base64()? } } });
        std::env::set_var("TAURI_CONFIG", conf.to_string());
        Ok(test)
    }

    /// The test key at `path`, made there (unencrypted, owner-only) the
    /// first time: kept, so a warm build does not rebuild the shell.
    fn test_key(path: &Path) -> Result<Signer> {
        if !path.exists() {
            let KeyPair { sk, .. } = KeyPair::generate_unencrypted_keypair()
                .map_err(|e| Error::new(format!("making the test update key: {e}")))?;
            write_new_secret(path, &sk, "Sealbox test update key (not for releases)")?;
        }
        Signer::open(path, None)
    }

    /// Makes a release key at `path` (never overwritten), encrypted with
    /// `SEALBOX_UPDATE_KEY_PASSWORD`; returns the public key for
    /// `tauri.conf.json`'s `plugins.updater.pubkey`.
    pub fn new_release_key(path: &Path) -> Result<String> {
        let password = std::env::var("SEALBOX_UPDATE_KEY_PASSWORD")
            .ok()
            .filter(|p| p.len() >= 12)
            .ok_or_else(|| Error::new("set SEALBOX_UPDATE_KEY_PASSWORD (12 characters or more) first"))?;
        let KeyPair { pk, sk } = KeyPair::generate_encrypted_keypair(Some(password))
            .map_err(|e| Error::new(format!("making the release key: {e}")))?;
        write_new_secret(path, &sk, "Sealbox release update key")?;
        Signer { pk, sk }.public_key_base64()
    }

    /// A fresh pair, never written anywhere (a key the app does not trust).
    pub fn throwaway() -> Result<Signer> {
        let KeyPair { pk, sk } = KeyPair::generate_unencrypted_keypair()
            .map_err(|e| Error::new(format!("making a throwaway update key: {e}")))?;
        Ok(Signer { pk, sk })
    }

    /// The public key as `tauri.conf.json`'s `plugins.updater.pubkey` holds it.
    pub fn public_key_base64(&self) -> Result<String> {
        let text =
            self.pk.to_box().map_err(|e| Error::new(format!("the update public key: {e}")))?.to_string();
        Ok(STANDARD.encode(text))
    }

    /// Signs `path` as `version`, writes `<path>.sig` beside it, and
    /// returns the signature as the manifest holds it. The trusted comment
    /// binds the version (`version:…`, as Tauri's CLI writes it), so a
    /// manifest cannot pass an older signed package off as a newer one.
    pub fn sign(&self, path: &Path, version: &str) -> Result<String> {
        let encoded = self.signature(path, version)?;
        let sig_path = PathBuf::from(format!("{}.sig", path.display()));
        std::fs::write(&sig_path, &encoded).map_err(|e| io_error("writing", &sig_path, &e))?;
        Ok(encoded)
    }

    /// The signature [`Signer::sign`] writes, without writing it.
    pub fn signature(&self, path: &Path, version: &str) -> Result<String> {
        let bytes = std::fs::read(path).map_err(|e| io_error("reading", path, &e))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let trusted = format!("timestamp:{now}\tfile:{name}\tversion:{version}");
        let sig = minisign::sign(Some(&self.pk), &self.sk, Cursor::new(bytes), Some(&trusted), None)
            .map_err(|e| Error::new(format!("signing {}: {e}", path.display())))?;
        Ok(STANDARD.encode(sig.to_string()))
    }
}

/// The public key the app is built to trust (`tauri.conf.json`).
fn trusted_key(ws: &Workspace) -> Result<String> {
    let path = ws.path("tauri.conf.json");
    let text = std::fs::read_to_string(&path).map_err(|e| io_error("reading", &path, &e))?;
    let conf: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    conf.pointer("/plugins/updater/pubkey")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| Error::new("tauri.conf.json has no plugins.updater.pubkey"))
}

/// A release signed with a key the app does not trust would be refused
/// by every workstation: stop before building it.
fn check_release_key(release: &str, trusted: &str) -> Result<()> {
    if release == trusted {
        Ok(())
    } else {
        Err(Error::new(
            "SEALBOX_UPDATE_KEY is not the key tauri.conf.json's plugins.updater.pubkey trusts: \
             workstations would refuse its updates",
        ))
    }
}

/// Writes `sk` (as minisign's secret key file, with `comment`) to a file
/// that did not exist, readable by its owner only.
fn write_new_secret(path: &Path, sk: &SecretKey, comment: &str) -> Result<()> {
    use std::io::Write;
    let text = sk.to_box(Some(comment)).map_err(|e| Error::new(format!("{comment}: {e}")))?.into_string();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, &e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| io_error("creating", path, &e))?;
    file.write_all(text.as_bytes()).map_err(|e| io_error("writing", path, &e))
}

/// The updater's name for a package kind on this machine
/// (`linux-x86_64-deb`), if updates ship that kind.
pub fn platform_key(kind: &str) -> Option<String> {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let installer = match kind {
        "deb" | "rpm" | "msi" | "nsis" => kind,
        _ => return None,
    };
    Some(format!("{os}-{}-{installer}", std::env::consts::ARCH))
}

/// The manifest: each entry is (platform key, package file name, signature).
pub fn manifest(version: &str, entries: &[(String, String, String)]) -> serde_json::Value {
    let platforms: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(platform, file, signature)| {
            (platform.clone(), serde_json::json!({ "signature": signature, "url": file }))
        })
        .collect();
    serde_json::json!({
        "version": version,
        "notes": "What changed: the changelog installed with the app.",
        "platforms": platforms,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The form Tauri's updater checks: minisign-verify (the crate the
    /// updater itself verifies with) over the base64 layers.
    fn verifies(public_b64: &str, signature_b64: &str, bytes: &[u8]) -> bool {
        let pk_text = String::from_utf8(STANDARD.decode(public_b64).unwrap()).unwrap();
        let pk = minisign_verify::PublicKey::decode(&pk_text).unwrap();
        pk.verify(bytes, &signature(signature_b64), false).is_ok()
    }

    fn signature(signature_b64: &str) -> minisign_verify::Signature {
        let sig_text = String::from_utf8(STANDARD.decode(signature_b64).unwrap()).unwrap();
        minisign_verify::Signature::decode(&sig_text).unwrap()
    }

    fn signature_of(signature_b64: &str) -> String {
        signature(signature_b64).trusted_comment().to_owned()
    }

    #[test]
    fn a_signed_package_verifies_as_the_updater_checks_and_a_changed_byte_or_another_key_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("Sealbox_0.2.0_amd64.deb");
        let bytes = b"!<arch>\ndebian-binary   a package's bytes".to_vec();
        std::fs::write(&package, &bytes).unwrap();
        let signer = Signer::throwaway().unwrap();
        let signature = signer.sign(&package, "0.2.0").unwrap();
        // The signed (trusted) comment names the version, as the updater reads it.
        let trusted = signature_of(&signature);
        assert!(trusted.split('\t').any(|f| f == "version:0.2.0"), "{trusted}");
        assert!(trusted.split('\t').any(|f| f == "file:Sealbox_0.2.0_amd64.deb"), "{trusted}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("Sealbox_0.2.0_amd64.deb.sig")).unwrap(),
            signature
        );
        let public = signer.public_key_base64().unwrap();
        assert!(verifies(&public, &signature, &bytes));

        let mut tampered = bytes.clone();
        tampered[10] ^= 1;
        assert!(!verifies(&public, &signature, &tampered), "a changed byte");
        let other = Signer::throwaway().unwrap().public_key_base64().unwrap();
        assert!(!verifies(&other, &signature, &bytes), "another key");
    }

    #[test]
    fn the_test_key_is_made_once_and_kept_and_a_release_key_must_be_the_trusted_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("test.key");
        let first = Signer::test_key(&path).unwrap().public_key_base64().unwrap();
        let again = Signer::test_key(&path).unwrap().public_key_base64().unwrap();
        assert_eq!(first, again, "a warm build keeps the key (and so the shell's build)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let other = KeyPair::generate_unencrypted_keypair().unwrap().sk;
        assert!(write_new_secret(&path, &other, "x").is_err(), "a key file is never overwritten");
        assert!(check_release_key(&first, &first).is_ok());
        let other = Signer::throwaway().unwrap().public_key_base64().unwrap();
        assert!(check_release_key(&other, &first).unwrap_err().to_string().contains("refuse"));
    }

    #[test]
    fn the_manifest_names_each_platforms_package_and_signature() {
        let key = platform_key("deb").unwrap();
        assert!(key.ends_with("-deb") && key.contains(std::env::consts::ARCH), "{key}");
        assert_eq!(platform_key("appimage"), None);
        let doc =
            manifest("0.2.0", &[(key.clone(), "Sealbox_0.2.0_amd64.deb".to_owned(), "c2ln".to_owned())]);
        assert_eq!(doc["version"], "0.2.0");
        assert_eq!(doc["platforms"][key.as_str()]["url"], "Sealbox_0.2.0_amd64.deb");
        assert_eq!(doc["platforms"][key.as_str()]["signature"], "c2ln");
    }
}
