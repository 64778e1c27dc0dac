//! `GET /v1/staff`: the practice's staff (id, name, role) for approved
//! devices, so workstations name colleagues instead of showing ids. An
//! unapproved device gets nothing (the `Principal` extractor). Who works
//! here now is marked `active` (a hand-over offers only them).

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
            let mut stmt = conn.prepare_cached(
                "SELECT s.id, s.name, s.role, s.disabled_at_us IS NULL AND EXISTS (
                     SELECT 1 FROM devices d WHERE d.staff_id = s.id
                        AND d.approved_at_us IS NOT NULL AND d.revoked_at_us IS NULL)
                 FROM staff s ORDER BY s.name, s.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?;
            rows.map(|row| {
                let (id, name, role, active) = row?;
                Ok(StaffEntry { id: StaffId(id), name, role: role_from_key(&role)?, active })
            })
            .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Json(StaffDirectory { staff }))
}
