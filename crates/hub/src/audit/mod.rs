//! The practice's audit trail at the hub: devices push their hash chains in
//! signed segments (`ingest`); staff read who did what on a thread
//! (`activity`); `sealbox-hub audit verify` checks every
//! chain and `sealbox-hub audit export` lists it for a compliance officer
//! (`check`, `export`). Tables and append-only triggers:
//! migrations/0004_audit.sql.

pub mod activity;
pub mod check;
pub mod export;
pub mod ingest;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The audit routes, merged into the API by `crate::http::router`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/audit/segments", post(ingest::push_segment))
        .route("/v1/audit/head", get(ingest::my_head))
        .route("/v1/threads/{id}/activity", get(activity::thread_activity))
}
