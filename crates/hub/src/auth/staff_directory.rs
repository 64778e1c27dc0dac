//! `GET /v1/staff`: the practice's staff (id, name, role) for approved
//! devices, so workstations name colleagues instead of showing ids. An
//! unapproved device gets nothing (the `Principal` extractor). Who works
//! here now is marked `active` (a hand-over offers only them): not
//! disabled, an approved device not revoked, and not away.
//!
//! `PUT /v1/staff/me/absence`: the caller records that they are away until
//! a time (or back now); meanwhile they are not active, and the hub refuses
//! a thread handed to them (`relay/actions.rs::working_here_as`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sealbox_model::hub_api::{AbsenceRequest, StaffDirectory, StaffEntry, MAX_ABSENCE_DAYS};
use sealbox_model::ids::StaffId;

use super::invites::role_from_key;
use crate::args;
use crate::auth::Principal;
use crate::db::time;
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// `GET /v1/staff`.
pub async fn list(State(state): State<AppState>, _who: Principal) -> Result<Json<StaffDirectory>, ApiError> {
    let now = time::to_db(state.now());
    let staff = state
        .db
        .call(move |conn| {
            let rows = conn.query_map(
                "SELECT s.id, s.name, s.role, s.disabled_at_us IS NULL AND EXISTS (
                     SELECT 1 FROM devices d WHERE d.staff_id = s.id
                        AND d.approved_at_us IS NOT NULL AND d.revoked_at_us IS NULL),
                     CASE WHEN s.away_until_us > ?1 THEN s.away_until_us END
                 FROM staff s ORDER BY s.name, s.id",
                args![now],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<bool>(3)?,
                        r.get::<Option<i64>>(4)?,
                    ))
                },
            )?;
            rows.into_iter()
                .map(|(id, name, role, works_here, away)| {
                    let away_until = away.map(time::from_db).transpose()?;
                    Ok(StaffEntry {
                        id: StaffId(id),
                        name,
                        role: role_from_key(&role)?,
                        active: works_here && away_until.is_none(),
                        away_until,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Json(StaffDirectory { staff }))
}

/// `PUT /v1/staff/me/absence`.
pub async fn set_absence(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(req): StrictJson<AbsenceRequest>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    if let Some(until) = req.until {
        let days = until.duration_since(now).as_secs() / 86_400;
        if until <= now || days > MAX_ABSENCE_DAYS {
            return Err(ApiError::field(
                "until",
                format!("must be after now and at most {MAX_ABSENCE_DAYS} days ahead"),
            ));
        }
    }
    let until = req.until.map(time::to_db);
    state
        .db
        .call(move |conn| {
            conn.execute("UPDATE staff SET away_until_us = ?2 WHERE id = ?1", args![who.staff.id.0, until])?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
