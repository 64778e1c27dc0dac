//! Every error leaves the hub as `application/problem+json` (RFC 9457),
//! naming the offending field where there is one. Nothing here carries
//! patient data.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sealbox_model::hub_api::{FieldError, Problem};

use crate::db::DbError;

/// The media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An HTTP error with its problem body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Status code.
    pub status: StatusCode,
    /// Machine code, the last part of the problem type URI.
    pub code: &'static str,
    /// Human-readable explanation.
    pub detail: Option<String>,
    /// Offending fields.
    pub errors: Vec<FieldError>,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: Some(detail.into()), errors: Vec::new(), retry_after: None }
    }

    /// 400: a field is invalid.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let field = field.into();
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_field",
            detail: Some(format!("{field}: {message}")),
            errors: vec![FieldError { field, message }],
            retry_after: None,
        }
    }

    /// 401: no or bad credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403: authenticated but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 409 about a field.
    pub fn conflict(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status: StatusCode::CONFLICT,
            code,
            detail: Some(format!("{field}: {message}")),
            errors: vec![FieldError { field: field.to_owned(), message }],
            retry_after: None,
        }
    }

    /// 429 with Retry-After.
    pub fn too_many(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many messages on this channel")
        }
    }

    /// 500; the cause is logged (it never carries patient data), not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        eprintln!("sealbox-hub: internal error: {cause}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// The body.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:sealbox:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl std::error::Error for ApiError {}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
