//! Desktop updates from the practice hub (issue 26 point 3), with Tauri's
//! updater: it fetches the hub's manifest (`/v1/updates/latest.json`),
//! downloads the package for this computer, checks its minisign signature
//! against the public key the app was built with (the version bound in
//! the signed comment: `requireSignedVersion`), and hands it to the
//! system's installer (`pkexec dpkg -i` / `rpm -U` for the package kind
//! the app was installed from). The rules around it are core's
//! ([`sealbox_core::update`]): an older version is refused as a downgrade,
//! and nothing installs while the outbox holds unsent work.
//!
//! The endpoint is always the hub this workstation is enrolled with, whose
//! address core already holds to https (plain http only to this machine),
//! which is why `tauri.conf.json` lets the updater accept `http://`: the
//! updater's own check would refuse a hub on loopback, ours refuses the rest.

use std::time::Duration;

use sealbox_core::update::{self, Offer, UpdateRefusal};
use sealbox_model::api::UpdateView;
use tauri::AppHandle;
use tauri_plugin_updater::{Error as Updater, Update, UpdaterExt};

use crate::desk::{Shell, ShellError};

/// Why an update was not offered or installed, in words for the clinician
/// (versions and platform names only).
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    Refused(#[from] UpdateRefusal),
    #[error("the practice hub's update has no package for this computer ({0}); nothing was installed")]
    NotForThisComputer(String),
    #[error("the update is signed with a key this Sealbox does not trust; it was not installed")]
    UntrustedKey,
    #[error("the update package does not match its signature (it was changed after signing); it was not installed")]
    Tampered,
    #[error(
        "the update package is signed as Sealbox {signed} but offered as {announced}; it was not installed"
    )]
    VersionMismatch { signed: String, announced: String },
    #[error("the update's signature does not name its version; it was not installed")]
    Unversioned,
    #[error("the practice hub has no update for Sealbox")]
    NoneAtHub,
    #[error("the practice hub could not be reached for updates")]
    Unreachable,
    #[error("the practice hub now offers Sealbox {now}, not the {asked} you chose: check again")]
    Changed { asked: String, now: String },
    #[error("the system's installer did not install the update (it needs an administrator's approval); nothing changed")]
    Installer,
    #[error("the update could not be installed: {0}")]
    Other(String),
}

impl From<Updater> for UpdateError {
    fn from(e: Updater) -> Self {
        use minisign_verify::Error as Sig;
        match e {
            Updater::TargetsNotFound(targets) => UpdateError::NotForThisComputer(targets.join(", ")),
            Updater::TargetNotFound(target) => UpdateError::NotForThisComputer(target),
            Updater::Minisign(Sig::UnexpectedKeyId) => UpdateError::UntrustedKey,
            Updater::Minisign(Sig::InvalidSignature) => UpdateError::Tampered,
            Updater::SignedVersionMismatch { signed, announced } => {
                UpdateError::VersionMismatch { signed, announced }
            }
            Updater::MissingSignedVersion => UpdateError::Unversioned,
            Updater::ReleaseNotFound => UpdateError::NoneAtHub,
            Updater::Reqwest(_) | Updater::Network(_) => UpdateError::Unreachable,
            Updater::AuthenticationFailed | Updater::DebInstallFailed | Updater::PackageInstallFailed => {
                UpdateError::Installer
            }
            other => UpdateError::Other(other.to_string()),
        }
    }
}

/// The hub's offer, as the updater reads it. Every offer comes back (the
/// comparator accepts all) so that [`update::judge`] names a downgrade
/// instead of the updater passing over it in silence.
async fn offer(app: &AppHandle, hub: &str) -> Result<Option<Update>, UpdateError> {
    sealbox_core::sync::client::check_transport(hub).map_err(|e| UpdateError::Other(e.to_string()))?;
    let url = format!("{}/v1/updates/latest.json", hub.trim_end_matches('/'))
        .parse()
        .map_err(|_| UpdateError::Other("the hub's address".to_owned()))?;
    let updater = app
        .updater_builder()
        .version_comparator(|_, _| true)
        .endpoints(vec![url])?
        .timeout(Duration::from_secs(300))
        .build()?;
    Ok(updater.check().await?)
}

fn view(running: &str, offered: Option<String>, installed: Option<String>, message: String) -> UpdateView {
    UpdateView { running: running.to_owned(), offered, installed, message }
}

/// `check_update`: what the practice hub offers.
pub async fn check(app: &AppHandle, shell: &Shell) -> Result<UpdateView, ShellError> {
    let running = app.package_info().version.to_string();
    let (hub, _) = shell.update_source().await?;
    let Some(found) = offer(app, &hub).await? else {
        return Ok(view(&running, None, None, format!("Sealbox {running} is up to date")));
    };
    Ok(match update::judge(&running, &found.version).map_err(UpdateError::from)? {
        Offer::Newer => {
            let message = format!("Sealbox {} is ready to install", found.version);
            view(&running, Some(found.version), None, message)
        }
        Offer::Current => view(&running, None, None, format!("Sealbox {running} is up to date")),
    })
}

/// `install_update`: the version the clinician chose, downloaded, its
/// signature checked, installed by the system's installer; never while
/// the outbox holds unsent work (weighed before the download and again
/// before installing: work may have queued meanwhile).
pub async fn install(app: &AppHandle, shell: &Shell, asked: &str) -> Result<UpdateView, ShellError> {
    let running = app.package_info().version.to_string();
    let unsent = || async {
        let (hub, unsent) = shell.update_source().await?;
        update::may_install(true, unsent).map_err(UpdateError::from)?;
        Ok::<_, ShellError>(hub)
    };
    let hub = unsent().await?;
    let found = offer(app, &hub).await?.ok_or(UpdateError::NoneAtHub)?;
    if update::judge(&running, &found.version).map_err(UpdateError::from)? != Offer::Newer {
        return Ok(view(&running, None, None, format!("Sealbox {running} is up to date")));
    }
    if found.version != asked {
        return Err(UpdateError::Changed { asked: asked.to_owned(), now: found.version }.into());
    }
    let bytes = found.download(|_, _| {}, || {}).await.map_err(UpdateError::from)?;
    unsent().await?;
    let version = found.version.clone();
    // The installer waits for the administrator's approval: off the async threads.
    tauri::async_runtime::spawn_blocking(move || found.install(bytes))
        .await
        .map_err(|e| UpdateError::Other(e.to_string()))?
        .map_err(UpdateError::from)?;
    let message = format!("Sealbox {version} is installed: close Sealbox and open it again to use it");
    Ok(view(&running, None, Some(version), message))
}
