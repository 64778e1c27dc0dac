//! `GET /v1/staff`: the practice's staff (id, name, role) for approved
//! devices, so workstations name colleagues instead of showing ids. An
//! unapproved device gets nothing (the `Principal` extractor).

use axum::extract::State;
use axum::Json;
use sealbox_model::hub_api::{StaffDirectory, StaffEntry};
use sealbox_model::ids::StaffId;

use super::invites::role_from_key;
use crate::auth::Principal;
use crate::http::ApiError;
use crate::state::AppState;

/// `GET /v1/staff`.
pub async fn list(State(state): State<AppState>, _who: Principal) -> Result<Json<StaffDirectory>, ApiError> {
    let staff = state
        .db
        .call(|conn| {
            let mut stmt = conn.prepare_cached("SELECT id, name, role FROM staff ORDER BY name, id")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            rows.map(|row| {
                let (id, name, role) = row?;
                Ok(StaffEntry { id: StaffId(id), name, role: role_from_key(&role)? })
            })
            .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Json(StaffDirectory { staff }))
}
