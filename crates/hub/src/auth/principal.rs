//! STUB by helper B; helper C replaces it with the real session check.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sealbox_model::actor::{Actor, StaffRef};

use crate::http::ApiError;
use crate::state::AppState;

/// The signed-in member of staff behind a request
/// (`Authorization: Bearer <session token>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who, and in which role.
    pub staff: StaffRef,
    /// The device the session was opened on.
    pub device_id: String,
    /// The practice.
    pub practice_id: String,
}

impl Principal {
    /// The actor for sealbox-model's rules.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.staff.clone())
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        Err(ApiError::unauthorized("sign in first"))
    }
}
