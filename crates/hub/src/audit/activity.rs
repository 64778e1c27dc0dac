//! `GET /v1/threads/{id}/activity`: the events of every device's audit
//! chain about a thread or its messages — who viewed, claimed, replied and
//! decided what, and when — for staff whose role may read the thread.

use axum::extract::{Path, State};
use axum::Json;
use sealbox_model::hub_api::{ActivityEvent, ThreadActivity};
use sealbox_model::ids::ThreadId;
use sealbox_model::permissions::can_read_thread;
use sealbox_model::role::Role;

use crate::args;
use crate::auth::Principal;
use crate::db::sql::Sql;
use crate::http::problem::ApiError;
use crate::relay::store::{self, ThreadRow};
use crate::state::AppState;

/// Most events returned.
const MAX_EVENTS: i64 = 500;

/// A thread id from a request's path (1 to 2^63-1).
pub fn path_thread_id(id: &str) -> Result<u64, ApiError> {
    id.parse::<u64>()
        .ok()
        .filter(|v| (1..=i64::MAX as u64).contains(v))
        .ok_or_else(|| ApiError::field("id", "a thread id"))
}

/// Thread `id`, if it exists and `role` may read its category: what a
/// question about a thread (its activity, its patient's earlier threads)
/// needs first.
pub fn readable_thread(conn: &dyn Sql, role: Role, id: u64) -> Result<ThreadRow, ApiError> {
    let thread =
        store::load_thread(conn, ThreadId(id))?.ok_or_else(|| ApiError::not_found("no such thread"))?;
    if !can_read_thread(role, thread.category) {
        return Err(ApiError::forbidden("this role may not read the thread"));
    }
    Ok(thread)
}

/// The handler.
pub async fn thread_activity(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<ThreadActivity>, ApiError> {
    let id = path_thread_id(&id)?;
    let events = state
        .db
        .read(move |conn| {
            readable_thread(conn, who.staff.role, id)?;
            let rows = conn.query_map(
                "SELECT a.at_ms, a.actor, COALESCE(s.name, a.actor), a.action, a.object
                 FROM audit_links a LEFT JOIN staff s ON s.id = a.actor
                 WHERE a.object = ?1
                    OR a.object IN (SELECT CAST(message_id AS TEXT) FROM envelopes WHERE thread_id = ?2)
                 ORDER BY a.at_ms, a.device_id, a.seq LIMIT ?3",
                args![format!("thread {id}"), id, MAX_EVENTS],
                |r| {
                    Ok(ActivityEvent {
                        at_ms: r.get(0)?,
                        actor: r.get(1)?,
                        actor_name: r.get(2)?,
                        action: r.get(3)?,
                        object: r.get(4)?,
                    })
                },
            )?;
            Ok::<_, ApiError>(rows)
        })
        .await?;
    Ok(Json(ThreadActivity { events }))
}
