//! Attachments (issue 23 point 12): `PUT /v1/patient/threads/{thread}/attachments/{id}`
//! stores a blob the patient's device encrypted under a key of its own
//! (`sealbox_crypto::attachment`; the key travels only in the sealed
//! envelope), and `GET /v1/attachments/{id}` hands it to an approved device
//! whose role may read the thread it was sent on and its attachments
//! (`read_attachment` on the thread's category). The hub never holds a key
//! to one; a blob is bound to the patient who sent it and to its thread.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sealbox_crypto::attachment::{FORMAT_VERSION, MAX_BLOB_BYTES, MIN_BLOB_BYTES};
use sealbox_model::ids::AttachmentId;
use sealbox_model::permissions::{can, Action};

use super::patient::channel;
use super::store;
use crate::args;
use crate::audit::activity::{path_thread_id, readable_thread};
use crate::auth::Principal;
use crate::db::sql::{begin, Sql};
use crate::db::time::to_db;
use crate::db::DbError;
use crate::http::ApiError;
use crate::state::AppState;

/// The most attachments one thread keeps (a patient's photos of a rash
/// over a week, not an album); more is refused with a clear code.
pub const MAX_PER_THREAD: i64 = 20;

fn attachment_id(id: &str) -> Result<AttachmentId, ApiError> {
    if AttachmentId::is_valid(id) {
        Ok(AttachmentId(id.to_owned()))
    } else {
        Err(ApiError::field("id", "8 to 64 letters, digits, '-' or '_'"))
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("an attachment is at most {MAX_BLOB_BYTES} bytes sealed"),
    )
}

/// `PUT /v1/patient/threads/{thread}/attachments/{id}`: the body is the
/// blob (`application/octet-stream`). Put before the message that names
/// it; the same blob again is accepted (200), another under the same id is
/// not (409).
pub async fn put_attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((thread, id)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let channel = channel(&state, &headers).await?;
    let now = state.now();
    state.patient_rate.take_one(&state.db, &channel.patient_id.0, now).await?;
    let thread = path_thread_id(&thread)?;
    let id = attachment_id(&id)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        status => ApiError::new(status, "unreadable_body", "the attachment could not be read"),
    })?;
    let octets = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("application/octet-stream"));
    if !octets {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the blob as application/octet-stream",
        ));
    }
    if body.len() < MIN_BLOB_BYTES || body.first() != Some(&FORMAT_VERSION) {
        return Err(ApiError::field("body", "not an attachment blob of a format this hub keeps"));
    }
    if body.len() > MAX_BLOB_BYTES {
        return Err(too_large());
    }
    let created = state
        .db
        .call(move |conn| {
            let tx = begin(conn)?;
            let t: &dyn Sql = &tx;
            let key = i64::try_from(thread).unwrap_or(i64::MAX);
            let owner: Option<String> = t
                .query_opt("SELECT patient_id FROM threads WHERE id = ?1", args![key])?
                .map(|r| r.get(0))
                .transpose()?;
            if owner.is_some_and(|o| o != channel.patient_id.0) {
                return Err(ApiError::conflict(
                    "thread_id_taken",
                    "thread",
                    "belongs to another conversation",
                ));
            }
            let digest = store::sha256(&body);
            let existing: Option<(String, i64, Vec<u8>)> = t
                .query_opt(
                    "SELECT patient_id, thread_id, sha256 FROM attachments WHERE id = ?1",
                    args![id.0],
                )?
                .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?)))
                .transpose()?;
            if let Some((patient, at, sha)) = existing {
                if patient == channel.patient_id.0 && at == key && sha == digest {
                    return Ok(false);
                }
                return Err(ApiError::conflict(
                    "attachment_id_taken",
                    "id",
                    "already used for another attachment",
                ));
            }
            let held: i64 =
                t.query_value("SELECT COUNT(*) FROM attachments WHERE thread_id = ?1", args![key])?;
            if held >= MAX_PER_THREAD {
                return Err(ApiError::conflict(
                    "too_many_attachments",
                    "thread",
                    format!("a conversation keeps at most {MAX_PER_THREAD} attachments"),
                ));
            }
            tx.execute(
                "INSERT INTO attachments (id, patient_id, thread_id, blob, sha256, at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![id.0, channel.patient_id.0, key, body.as_ref(), digest, to_db(now)],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
    Ok(if created { StatusCode::CREATED } else { StatusCode::OK }.into_response())
}

/// `GET /v1/attachments/{id}`: the blob, for a device whose role may read
/// the thread it was sent on and that thread's attachments. An attachment
/// whose thread does not exist (yet), or belongs to another patient than
/// the one who sent it, is not found.
pub async fn get_attachment(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = attachment_id(&id)?;
    let blob = state
        .db
        .read(move |conn| {
            let row: Option<(String, i64, Vec<u8>)> = conn
                .query_opt("SELECT patient_id, thread_id, blob FROM attachments WHERE id = ?1", args![id.0])?
                .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?, r.get(2)?)))
                .transpose()?;
            let (patient, thread, blob) = row.ok_or_else(|| ApiError::not_found("no such attachment"))?;
            let thread = readable_thread(conn, who.staff.role, u64::try_from(thread).unwrap_or(0)).map_err(
                |e| match e.status {
                    StatusCode::FORBIDDEN => e,
                    _ => ApiError::not_found("no such attachment"),
                },
            )?;
            if thread.patient_id.0 != patient {
                return Err(ApiError::not_found("no such attachment"));
            }
            if !can(who.staff.role, Action::ReadAttachment, thread.category) {
                return Err(ApiError::forbidden("this role may not open the thread's attachments"));
            }
            Ok::<_, ApiError>(blob)
        })
        .await?;
    let mut resp = blob.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
