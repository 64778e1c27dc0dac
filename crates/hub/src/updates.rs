//! The practice's desktop updates, served by its own hub (issue 26 point
//! 3) so workstations need no other server.
//!
//! `sealbox-hub publish-update` takes the update manifest `cargo xtask
//! bundle` wrote (Tauri's updater format: `version`, `notes`, `pub_date`,
//! and per platform a minisign `signature` and the package's file name as
//! `url`) and the packages it names, stores them in `DATA_DIR/updates/`,
//! and makes each `url` absolute under the address workstations reach the
//! hub at. `GET /v1/updates/latest.json` serves the manifest and
//! `GET /v1/updates/files/{name}` the packages it names, nothing else.
//!
//! The hub is not trusted with updates: it cannot sign them (the release
//! key never reaches it), and the app checks each package's signature
//! against the public key it was built with. A compromised hub can only
//! withhold an update or offer an older signed one, which the app refuses
//! as a downgrade.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::http::ApiError;
use crate::state::AppState;

/// Where the published update lives, under the data directory.
pub const DIR: &str = "updates";
/// The manifest's file name (and the last segment of its URL).
pub const MANIFEST: &str = "latest.json";

/// The update routes (no sign-in: packages are public, their signatures
/// are what the app trusts).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/updates/latest.json", get(get_manifest))
        .route("/v1/updates/files/{name}", get(get_file))
}

/// Why an update could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The manifest is not Tauri's update manifest.
    #[error("the manifest: {0}")]
    Manifest(String),
    /// A package the manifest names was not given, or one given is not named.
    #[error("the packages: {0}")]
    Packages(String),
    /// The hub's address is not an http(s) URL.
    #[error("--url must be the hub's https:// (or loopback http://) address")]
    Url,
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Checks the manifest against the packages, copies both into the data
/// directory (packages first, the manifest last, each through a rename,
/// so a workstation never reads a manifest naming a missing file) and
/// returns the version published.
pub fn publish(
    data_dir: &Path,
    manifest: &Path,
    packages: &[PathBuf],
    url: &str,
) -> Result<String, PublishError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    let base = url.trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(char::is_whitespace) {
        return Err(PublishError::Url);
    }
    let text = std::fs::read_to_string(manifest).map_err(io(manifest))?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| PublishError::Manifest(e.to_string()))?;
    let version = doc
        .get("version")
        .and_then(Value::as_str)
        .filter(|v| is_version(v))
        .ok_or_else(|| PublishError::Manifest("no version like 1.2.3".to_owned()))?
        .to_owned();
    let given: Vec<(&str, &PathBuf)> =
        packages.iter().filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(|n| (n, p))).collect();
    let platforms = doc
        .get_mut("platforms")
        .and_then(Value::as_object_mut)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| PublishError::Manifest("no platforms".to_owned()))?;
    let mut named = Vec::new();
    for (platform, entry) in platforms.iter_mut() {
        let signed = entry.get("signature").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        let file = entry.get("url").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !signed {
            return Err(PublishError::Manifest(format!("{platform} has no signature")));
        }
        if !is_file_name(&file) || !given.iter().any(|(n, _)| *n == file) {
            return Err(PublishError::Packages(format!("{platform} names {file:?}, which was not given")));
        }
        entry["url"] = Value::String(format!("{base}/v1/updates/files/{file}"));
        named.push(file);
    }
    if let Some((extra, _)) = given.iter().find(|(n, _)| !named.iter().any(|f| f == n)) {
        return Err(PublishError::Packages(format!("{extra} is not named by the manifest")));
    }
    let dir = data_dir.join(DIR);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    for (name, from) in &given {
        let to = dir.join(name);
        let part = dir.join(format!(".{name}.part"));
        std::fs::copy(from, &part).map_err(io(from))?;
        std::fs::rename(&part, &to).map_err(io(&to))?;
    }
    let to = dir.join(MANIFEST);
    let part = dir.join(format!(".{MANIFEST}.part"));
    let body = serde_json::to_vec_pretty(&doc).map_err(|e| PublishError::Manifest(e.to_string()))?;
    std::fs::write(&part, body).map_err(io(&part))?;
    std::fs::rename(&part, &to).map_err(io(&to))?;
    Ok(version)
}

/// `1.2.3`, with an optional pre-release or build tail.
fn is_version(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A plain file name: letters, digits, `.`, `_`, `-`; no leading dot.
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

async fn get_manifest(State(state): State<AppState>) -> Result<Response, ApiError> {
    let path = state.config.data_dir.join(DIR).join(MANIFEST);
    match tokio::fs::read(&path).await {
        Ok(body) => Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ApiError::not_found("no update has been published"))
        }
        Err(e) => Err(ApiError::internal(&e)),
    }
}

async fn get_file(
    State(state): State<AppState>,
    UrlPath(name): UrlPath<String>,
) -> Result<Response, ApiError> {
    let dir = state.config.data_dir.join(DIR);
    // Only what the current manifest names is served.
    let named = match tokio::fs::read(dir.join(MANIFEST)).await {
        Ok(body) => serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|doc| doc.get("platforms").and_then(Value::as_object).cloned())
            .is_some_and(|platforms| {
                platforms
                    .values()
                    .filter_map(|e| e.get("url").and_then(Value::as_str))
                    .any(|url| url.rsplit_once('/').is_some_and(|(_, file)| file == name))
            }),
        Err(_) => false,
    };
    if !is_file_name(&name) || !named {
        return Err(ApiError::not_found("no such update package"));
    }
    let body = tokio::fs::read(dir.join(&name)).await.map_err(|e| ApiError::internal(&e))?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_file_names_are_plain() {
        assert!(is_version("0.2.0") && is_version("1.10.3-rc.1") && is_version("2.0.0+build.5"));
        assert!(!is_version("0.2") && !is_version("v0.2.0") && !is_version("0.2.x"));
        assert!(is_file_name("Sealbox_0.2.0_amd64.deb"));
        for bad in ["", "../hub.sqlite3", ".hidden", "a/b", "a\\b", "latest json"] {
            assert!(!is_file_name(bad), "{bad}");
        }
    }
}
