//! `GET /v1/threads/{id}/history`: the patient's other threads of the
//! thread's category (`sealbox_model::hub_api::history`), for staff whose
//! role may read that category — the same rule as the thread's own
//! activity, so a role learns nothing of threads it may not read.

use axum::extract::{Path, State};
use axum::Json;
use sealbox_model::hub_api::{EarlierDecision, EarlierThread, LoggedOp, ThreadHistory, MAX_HISTORY};
use sealbox_model::ids::ThreadId;

use super::store;
use crate::args;
use crate::audit::activity::{path_thread_id, readable_thread};
use crate::auth::Principal;
use crate::db::time::from_db;
use crate::db::DbError;
use crate::http::problem::ApiError;
use crate::state::AppState;

/// The handler.
pub async fn thread_history(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<ThreadHistory>, ApiError> {
    let id = path_thread_id(&id)?;
    let threads = state
        .db
        .read(move |conn| {
            readable_thread(conn, who.staff.role, id)?;
            let rows = conn.query_map(
                "SELECT t.id, t.created_at_us, t.state_kind FROM threads t
                 WHERE t.patient_id = (SELECT patient_id FROM threads WHERE id = ?1)
                   AND t.category = (SELECT category FROM threads WHERE id = ?1) AND t.id <> ?1
                 ORDER BY t.created_at_us DESC, t.id DESC LIMIT ?2",
                args![id, MAX_HISTORY],
                |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?)),
            )?;
            let mut threads = Vec::with_capacity(rows.len());
            for (thread, created, state) in rows {
                let last = conn
                    .query_opt(
                        "SELECT a.op, COALESCE(s.name, a.by_id), a.at_us FROM actions a
                         LEFT JOIN staff s ON s.id = a.by_id
                         WHERE a.thread_id = ?1 AND a.op LIKE '%\"kind\":\"refill_decision\"%'
                         ORDER BY a.seq DESC LIMIT 1",
                        args![thread],
                    )?
                    .map(|r| Ok::<_, DbError>((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)))
                    .transpose()?;
                let decision = match last {
                    Some((op, by_name, at)) => match serde_json::from_str::<LoggedOp>(&op)
                        .map_err(|_| DbError::Corrupt { what: "logged action" })?
                    {
                        LoggedOp::RefillDecision { decision, items } => Some(EarlierDecision {
                            decision,
                            items,
                            by_name,
                            at_ms: from_db(at)?.as_millisecond(),
                        }),
                        _ => None,
                    },
                    None => None,
                };
                threads.push(EarlierThread {
                    thread_id: ThreadId(u64::try_from(thread).unwrap_or(0)),
                    created_at_ms: from_db(created)?.as_millisecond(),
                    state: store::from_key(&state, "thread state")?,
                    decision,
                });
            }
            Ok::<_, ApiError>(threads)
        })
        .await?;
    Ok(Json(ThreadHistory { threads }))
}
