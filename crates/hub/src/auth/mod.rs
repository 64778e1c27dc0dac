//! Identity: WebAuthn enrolment and login, sessions, devices, pool keys.
//! OWNED BY HELPER C. This file is a stub written by helper B so that the
//! skeleton compiles; C replaces it (keep `router()`, `Principal`, `cli`).

pub mod cli;
mod principal;

pub use principal::Principal;

use axum::Router;

use crate::state::AppState;

/// Auth's routes, merged into the API by `crate::http::router`.
pub fn router() -> Router<AppState> {
    Router::new()
}
