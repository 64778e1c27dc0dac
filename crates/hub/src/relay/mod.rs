//! The relay: the patient channel, sync, push events and actions.

pub mod actions;
pub mod attachments;
pub mod backlog;
pub mod channels;
pub mod envelope_check;
pub mod envelope_json;
pub mod events;
pub mod fanout;
pub mod group_commit;
pub mod history;
pub mod keys;
pub mod patient;
pub mod patient_batch;
pub mod patient_join;
pub mod rate_limit;
pub mod store;
pub mod sync;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

/// The relay's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/patient/join", post(patient_join::post_join))
        .route("/v1/patient/invites", post(patient_join::post_invite))
        .route("/v1/patient/messages", post(patient::post_message))
        .route("/v1/patient/replies", get(patient::get_replies))
        .route(
            "/v1/patient/threads/{thread}/attachments/{id}",
            // The one body larger than the API's JSON limit: a sealed photo.
            put(attachments::put_attachment)
                .layer(DefaultBodyLimit::max(sealbox_crypto::attachment::MAX_BLOB_BYTES)),
        )
        .route("/v1/attachments/{id}", get(attachments::get_attachment))
        .route("/v1/practice/keys", get(keys::get_keys))
        .route("/v1/sync", get(sync::get_sync))
        .route("/v1/events", get(events::get_events))
        .route("/v1/actions", post(actions::post_actions))
        .route("/v1/threads/{id}/history", get(history::thread_history))
        .route("/v1/health", get(health))
}

async fn health() -> &'static str {
    "ok"
}
