//! The HTTP client the simulator talks to the hub with (rustls, ring).

use reqwest::Client;
use serde::de::DeserializeOwned;

use crate::SimError;

/// A client for `hub` (e.g. `http://127.0.0.1:8080`).
pub fn client() -> Result<Client, SimError> {
    // Installing twice is harmless; the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().pool_max_idle_per_host(256).build().map_err(SimError::Client)
}

/// `hub` joined with `path`, without a doubled slash.
pub fn url(hub: &str, path: &str) -> String {
    format!("{}{path}", hub.trim_end_matches('/'))
}

/// `GET hub+path` (with the channel `token`, if any) as JSON; `what` names
/// the request in errors.
pub async fn get_json<T: DeserializeOwned>(
    client: &Client,
    hub: &str,
    path: &str,
    token: Option<&str>,
    what: &'static str,
) -> Result<T, SimError> {
    let target = url(hub, path);
    let mut request = client.get(&target);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let resp =
        request.send().await.map_err(|source| SimError::Unreachable { url: target.clone(), source })?;
    if !resp.status().is_success() {
        return Err(SimError::Hub { what, status: resp.status().as_u16() });
    }
    resp.json().await.map_err(|e| SimError::BadReply { what, detail: e.to_string() })
}
