//! The patient web app (issue 25), embedded at build time (`build.rs`) and
//! served at `/patient/` under a strict Content-Security-Policy: scripts
//! and wasm only from the hub itself (`'wasm-unsafe-eval'`, no inline
//! script), connections only back to the hub, no framing, no referrer (the
//! invite code rides in the URL's fragment, which browsers never send).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The bundle's files by name (`index.html`, the wasm, its glue, styles).
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/patient_app.rs"));

/// The policy every file of the app is served with.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `/patient` → `/patient/`, and the app's files under it. The redirect
/// is relative, so a practice of a deployment (`/p/<id>/patient`) stays
/// under its own path.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patient", get(|| async { Redirect::permanent("patient/") }))
        .route("/patient/", get(|| async { file("index.html") }))
        .route("/patient/{name}", get(|Path(name): Path<String>| async move { file(&name) }))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn file(name: &str) -> Response {
    let Some((_, body)) = FILES.iter().find(|(n, _)| *n == name) else {
        let (status, text) = if FILES.is_empty() {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "This hub was built without the patient app (build it with cargo xtask).",
            )
        } else {
            (StatusCode::NOT_FOUND, "Not found.")
        };
        return (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    };
    let mut response = (StatusCode::OK, *body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    response
}
