//! The HTTP layer: the router (relay routes merged with `auth::router()`
//! and the patient web app's files),
//! body limits, problem+json errors, strict JSON and query extractors, and
//! serving on a listener (plain HTTP for loopback, TLS otherwise).

pub mod json;
pub mod patient_app;
pub mod problem;
pub mod query;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use sealbox_model::hub_api::MAX_BODY_BYTES;

use crate::state::AppState;
pub use json::StrictJson;
pub use problem::ApiError;

/// The whole API. Auth's routes are merged here.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::relay::routes())
        .merge(crate::auth::router())
        .merge(crate::audit::router())
        .merge(patient_app::routes())
        .merge(crate::updates::routes())
        .merge(crate::ops::routes())
        // After routing, so each request is counted by its route's template.
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::ops::count_requests))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
}
