//! Identity: invites, WebAuthn enrolment and login (webauthn-rs), sessions,
//! throttling and the login record, devices and pool keys.

pub use sealbox_model::hub_api::auth as api;
pub mod attempts;
pub mod ceremony;
mod ceremony_errors;
pub mod cli;
pub mod counts_token;
pub mod decoy;
pub mod devices;
pub mod directory;
pub mod directory_heads;
pub mod enrol;
pub mod invites;
mod key_kind;
pub mod login;
pub mod policy;
pub mod pool_keys;
pub mod practice_key_share;
mod principal;
pub mod renewal_questions;
pub mod rp;
pub mod secret;
pub mod session;
pub mod staff_directory;
pub mod throttle;

pub use principal::{ClientAddr, EventsReader, PendingPrincipal, Principal};

use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

/// Auth's routes, merged into the API by `crate::http::router`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/enrol/start", post(enrol::start))
        .route("/v1/enrol/finish", post(enrol::finish))
        .route("/v1/login/start", post(login::start))
        .route("/v1/login/finish", post(login::finish))
        .route("/v1/logout", post(login::logout))
        .route("/v1/lock", post(login::lock))
        .route("/v1/me/logins", get(attempts::get_history))
        .route("/v1/devices", get(devices::list))
        .route("/v1/devices/keys", post(devices::upload_keys))
        .route("/v1/devices/me/pool-keys", get(devices::my_pool_keys))
        .route("/v1/devices/{id}/approve", post(devices::approve))
        .route("/v1/devices/{id}/pool-keys", put(devices::put_pool_keys))
        .route("/v1/devices/{id}/revoke", post(devices::revoke))
        .route("/v1/devices/{id}/practice-key", put(practice_key_share::put_share))
        .route("/v1/devices/me/practice-key", get(practice_key_share::my_share))
        .route("/v1/practice/keys/{pool}", put(pool_keys::publish))
        .route("/v1/practice/policy", get(policy::get_policy))
        .route("/v1/patient/policy", get(policy::get_patient_policy))
        .route("/v1/staff", get(staff_directory::list))
        .route("/v1/staff/me/absence", put(staff_directory::set_absence))
        .route("/v1/practice/signing-key", put(directory::put_signing_key))
        .route("/v1/practice/renewal-questions", put(renewal_questions::put_questions))
        .route("/v1/patient/renewal-questions", get(renewal_questions::get_questions))
        .route("/v1/directory", get(directory::get_statements).post(directory::post_statements))
        .route("/v1/directory/heads", get(directory_heads::get_heads).post(directory_heads::post_head))
}
