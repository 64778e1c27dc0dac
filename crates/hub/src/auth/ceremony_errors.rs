//! Problems returned by the enrolment and login endpoints.

use axum::http::StatusCode;

use super::invites::InviteError;
use crate::http::ApiError;

/// 429 with Retry-After after too many failures.
pub fn throttled(secs: u64) -> ApiError {
    ApiError {
        detail: Some("too many failed attempts; try again later".to_owned()),
        ..ApiError::too_many(secs)
    }
}

/// 401: the challenge was unknown, already answered or expired.
pub fn stale_challenge() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "stale_challenge", "challenge unknown, already used or expired")
}

/// 401: the authenticator's answer did not verify.
pub fn not_verified() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "not_verified", "the security key's response did not verify")
}

/// 403: the demo's software key, which this practice does not allow.
pub fn demo_key_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "demo_key_refused",
        "this practice does not allow the demo's software key; use a hardware security key",
    )
}

/// The problem for an unusable invite.
pub fn invite(e: InviteError) -> ApiError {
    match e {
        InviteError::Unknown => {
            ApiError::new(StatusCode::UNAUTHORIZED, "invalid_invite", "unknown invite code")
        }
        InviteError::Used => ApiError::new(StatusCode::GONE, "invite_used", "invite code already used"),
        InviteError::Expired => ApiError::new(StatusCode::GONE, "invite_expired", "invite code expired"),
        InviteError::Db(e) => e.into(),
    }
}

/// 500 for a relying-party or serialisation failure (no secrets in it).
pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal(cause)
}
