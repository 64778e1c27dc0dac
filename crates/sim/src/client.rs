//! The HTTP client the simulator talks to the hub with (rustls, ring).

use reqwest::Client;

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
