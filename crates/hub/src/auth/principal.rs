//! The `Principal` extractor: `Authorization: Bearer <session token>` →
//! the signed-in member of staff on an approved device, or 401/403
//! problem+json. Each use counts as activity (the idle clock restarts).
//! `PendingPrincipal` also admits a device not yet approved, for the few
//! routes an enrolling device needs (its keys, its pool-key blobs, lock and
//! logout): an intercepted invite alone reads nothing and acts on nothing.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use sealbox_model::actor::{Actor, StaffRef};
use sealbox_model::category::Category;
use sealbox_model::jiff::Timestamp;
use sealbox_model::permissions::{can, Action};
use sealbox_model::role::Role;
use std::net::SocketAddr;

use super::session::{self, Ended, SessionError};
use crate::db::practice;
use crate::db::sql::Sql;
use crate::http::ApiError;
use crate::state::AppState;

/// The signed-in member of staff behind a request.
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

    /// 403 unless this role may administer the practice.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if Category::ALL.iter().any(|c| can(self.staff.role, Action::Administer, *c)) {
            Ok(())
        } else {
            Err(ApiError::forbidden("needs the practice admin role"))
        }
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (who, approved) = authenticate(parts, state).await?;
        if approved {
            Ok(who)
        } else {
            Err(ApiError::forbidden("this device is not approved yet; ask the practice admin"))
        }
    }
}

/// A signed-in member of staff whose device may not be approved yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPrincipal(pub Principal);

impl FromRequestParts<AppState> for PendingPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(|(who, _)| PendingPrincipal(who))
    }
}

/// The session behind a request and whether its device is approved.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<(Principal, bool), ApiError> {
    let token = bearer(&parts.headers).ok_or_else(|| ApiError::unauthorized("sign in first"))?.to_owned();
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let owner = session::touch(conn, &token, now).map_err(|e| match e {
                SessionError::Invalid => ApiError::unauthorized("not a valid session"),
                SessionError::Expired(Ended::Idle) => {
                    ApiError::unauthorized("session ended after 15 minutes idle")
                }
                SessionError::Expired(Ended::Absolute) => {
                    ApiError::unauthorized("session ended after 12 hours; sign in again")
                }
                SessionError::Db(e) => ApiError::from(e),
            })?;
            let practice = practice::get(conn)?.ok_or_else(|| ApiError::unauthorized("no practice"))?;
            let who = Principal { staff: owner.staff, device_id: owner.device_id, practice_id: practice.id };
            Ok((who, owner.approved))
        })
        .await
}

/// The client's IP address (for throttling and the login record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |ConnectInfo(addr)| addr.ip().to_string()),
        ))
    }
}

/// Who may hold `GET /v1/events`: a signed-in member of staff, or a locked
/// desktop with its counts-only token (events carry ids and pool counts,
/// never content), on an approved device. Keeps the token so the stream
/// can check that it still stands.
#[derive(Clone)]
pub struct EventsReader {
    /// The reader's role: what its events may show.
    pub role: Role,
    token: String,
    counts_only: bool,
}

impl std::fmt::Debug for EventsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsReader").field("role", &self.role).finish_non_exhaustive()
    }
}

impl EventsReader {
    /// Whether the token is still live at `now` (without counting as use).
    pub fn still_stands(&self, conn: &dyn Sql, now: Timestamp) -> Result<bool, crate::db::DbError> {
        if self.counts_only {
            Ok(super::counts_token::valid(conn, &self.token, now)?.is_some())
        } else {
            session::stands(conn, &self.token, now)
        }
    }
}

impl FromRequestParts<AppState> for EventsReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(|| ApiError::unauthorized("sign in first"))?.to_owned();
        let now = state.now();
        let counts = token.clone();
        let counts_role = state.db.read(move |conn| super::counts_token::valid(conn, &counts, now)).await?;
        if let Some(role) = counts_role {
            return Ok(EventsReader { role, token, counts_only: true });
        }
        let who = Principal::from_request_parts(parts, state).await?;
        Ok(EventsReader { role: who.staff.role, token, counts_only: false })
    }
}
