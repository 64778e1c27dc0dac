//! A deployment's HTTP routing: practice `prac-…`'s whole API (and its
//! patient web app) under `/p/prac-…/`, handed to that practice's own
//! router with the prefix taken off; `/healthz`, `/readyz` and `/metrics`
//! for the deployment at the top. Anything else, an unknown practice
//! among it, is the same 404 as an unknown endpoint: nothing tells
//! whether a practice id exists.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

use super::Deployment;
use crate::http::ApiError;

/// What a practice's paths start with: `/p/<id>/…`.
pub const PREFIX: &str = "/p/";

/// The deployment's router.
pub fn router(deployment: Arc<Deployment>) -> Router {
    Router::new()
        .route("/healthz", get(crate::ops::healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(dispatch)
        .with_state(deployment)
}

/// `/p/<id>/<rest>` → (`id`, `/<rest>`).
fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(PREFIX)?;
    let slash = rest.find('/')?;
    Some((&rest[..slash], &rest[slash..]))
}

async fn dispatch(State(deployment): State<Arc<Deployment>>, mut request: Request) -> Response {
    let Some((id, rest)) = split(request.uri().path()) else {
        return ApiError::not_found("no such endpoint").into_response();
    };
    let id = id.to_owned();
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let Ok(uri) = path_and_query.parse::<Uri>() else {
        return ApiError::not_found("no such endpoint").into_response();
    };
    match deployment.serve(&id).await {
        Ok(Some((_, app))) => {
            *request.uri_mut() = uri;
            match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        Ok(None) => ApiError::not_found("no such endpoint").into_response(),
        Err(e) => {
            eprintln!("sealbox-hub: a practice could not be opened: {e}");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the practice cannot be reached now",
            )
            .into_response()
        }
    }
}

async fn readyz(State(deployment): State<Arc<Deployment>>) -> Response {
    crate::ops::readiness(deployment.ready().await)
}

async fn metrics(
    State(deployment): State<Arc<Deployment>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    crate::ops::metrics_text(deployment.metrics(), peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_practice_prefix_with_a_path_is_split() {
        assert_eq!(split("/p/prac-0123456789abcdef/v1/sync"), Some(("prac-0123456789abcdef", "/v1/sync")));
        assert_eq!(split("/p/prac-0123456789abcdef/"), Some(("prac-0123456789abcdef", "/")));
        assert_eq!(split("/p/prac-0123456789abcdef"), None);
        assert_eq!(split("/v1/sync"), None);
        assert_eq!(split("/p//v1/sync"), Some(("", "/v1/sync")));
    }
}
