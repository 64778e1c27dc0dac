//! The patient channel: `POST /v1/patient/messages` (store a sealed message,
//! opening or continuing a thread) and `GET /v1/patient/replies` (the
//! practice's sealed replies to this patient). Authorised by the channel
//! token, rate limited per channel.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sealbox_model::actor::Actor;
use sealbox_model::hub_api::{
    is_valid_wire_id, Cursor, PatientMessageAccepted, PatientMessageRequest, PatientRepliesPage,
    MAX_ENVELOPE_BYTES, MAX_SYNC_PAGE,
};
use sealbox_model::ids::PatientId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::thread_state::{transition, ThreadAction, ThreadRef, ThreadState};

use super::channels::{self, Channel};
use super::group_commit::Post;
use super::store::{self, ExistingEnvelope, ThreadRow};
use crate::db::sql::Sql;
use crate::db::DbError;
use crate::http::query::parse_u64_params;
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// The bearer token of `Authorization: Bearer <token>`, if well-formed.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let ok = scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && token.len() <= 256
        && token.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| token.to_owned())
}

pub(crate) async fn channel(state: &AppState, headers: &HeaderMap) -> Result<Channel, ApiError> {
    let token = bearer(headers)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <channel token>"))?;
    let found = state.db.read(move |conn| channels::by_token(conn, &token).map_err(ApiError::from)).await?;
    found.ok_or_else(|| ApiError::unauthorized("unknown or revoked channel token"))
}

fn validate(req: &PatientMessageRequest) -> Result<(), ApiError> {
    if !is_valid_wire_id(req.thread_id.0) {
        return Err(ApiError::field("thread_id", "must be between 1 and 2^63-1"));
    }
    if !is_valid_wire_id(req.message_id.0) {
        return Err(ApiError::field("message_id", "must be between 1 and 2^63-1"));
    }
    let len = req.envelope.as_slice().len();
    if len == 0 {
        return Err(ApiError::field("envelope", "must not be empty"));
    }
    if len > MAX_ENVELOPE_BYTES {
        return Err(ApiError::field("envelope", format!("must be at most {MAX_ENVELOPE_BYTES} bytes")));
    }
    Ok(())
}

/// What storing a patient message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored at this seq.
    Stored(u64),
    /// This exact message was already stored.
    Duplicate,
}

/// Stores a patient's message in one transaction: opens the thread or moves
/// it on with the model's `patient_replied` transition.
pub fn ingest(
    conn: &dyn Sql,
    channel: &Channel,
    req: &PatientMessageRequest,
    sealed_for: &str,
    now: Timestamp,
) -> Result<Ingested, ApiError> {
    let tx = store::begin_writes(conn)?;
    let outcome = ingest_into(&tx, channel, req, sealed_for, now)?;
    tx.commit()?;
    Ok(outcome)
}

/// [`ingest`]'s writes inside a transaction (or savepoint) the caller owns
/// and commits: one post at a time (the group commit stores many at once
/// with [`super::patient_batch`], and comes here if that fails).
pub fn ingest_into(
    tx: &dyn Sql,
    channel: &Channel,
    req: &PatientMessageRequest,
    sealed_for: &str,
    now: Timestamp,
) -> Result<Ingested, ApiError> {
    super::envelope_check::check_practice(tx, sealed_for, "envelope")?;
    let existing = store::find_envelope(tx, req.message_id)?;
    let owner = match &existing {
        Some(e) => store::load_thread(tx, e.thread_id)?.map(|t| t.patient_id),
        None => None,
    };
    let thread = store::load_thread(tx, req.thread_id)?;
    let seen = existing.as_ref().map(|e| (e, owner.as_ref()));
    let row = match step(channel, req, seen, thread.as_ref(), now)? {
        Step::Duplicate => return Ok(Ingested::Duplicate),
        Step::Open => ThreadRow::opened(req.thread_id, &channel.patient_id, req.category, now),
        Step::Reply(next) => thread.ok_or(DbError::NoRow)?.moved(next, now, None),
    };
    store::save_threads(tx, &[&row])?;
    let seq =
        store::insert_envelope(tx, req.thread_id, req.message_id, None, req.envelope.as_slice(), now, false)?;
    Ok(Ingested::Stored(seq))
}

/// What a patient's post does to what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// This exact message is stored already: nothing.
    Duplicate,
    /// Opens its thread (state New, version 1) with the message.
    Open,
    /// Adds the message to the patient's thread, which moves to this state
    /// (the model's `patient_replied` transition).
    Reply(ThreadState),
}

/// Decides what `req` does, given the envelope stored under its message id
/// (with the patient whose thread holds it) and its thread as stored; or
/// why it is refused. No storage: the one rule for a post alone and for a
/// batch of them.
pub fn step(
    channel: &Channel,
    req: &PatientMessageRequest,
    existing: Option<(&ExistingEnvelope, Option<&PatientId>)>,
    thread: Option<&ThreadRow>,
    now: Timestamp,
) -> Result<Step, ApiError> {
    if let Some((existing, owner)) = existing {
        let same = existing.thread_id == req.thread_id
            && existing.sender_kind == "patient"
            && owner == Some(&channel.patient_id)
            && existing.body_sha256 == store::sha256(req.envelope.as_slice());
        if same {
            return Ok(Step::Duplicate);
        }
        return Err(ApiError::conflict(
            "message_id_taken",
            "message_id",
            "already used for a different message",
        ));
    }
    match thread {
        None => Ok(Step::Open),
        Some(thread) if thread.patient_id != channel.patient_id => {
            Err(ApiError::conflict("thread_id_taken", "thread_id", "belongs to another conversation"))
        }
        Some(thread) => {
            let tref = ThreadRef { id: thread.id, category: thread.category };
            let (next, _audit) =
                transition(tref, &thread.state, &ThreadAction::PatientReplied, &Actor::Patient, now)
                    .map_err(|e| ApiError::conflict("thread_rule", "thread_id", e.to_string()))?;
            Ok(Step::Reply(next))
        }
    }
}

/// `POST /v1/patient/messages`.
pub async fn post_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    StrictJson(req): StrictJson<PatientMessageRequest>,
) -> Result<Response, ApiError> {
    let token = bearer(&headers)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <channel token>"))?;
    let now = state.now();
    let seal = match validate(&req).and_then(|()| super::envelope_check::patient_seal(&req)) {
        Ok(seal) => seal,
        // Refused before it reaches a batch, and answered as there: its
        // channel first (401), then a token of its bucket (429).
        Err(refused) => {
            let channel = channel(&state, &headers).await?;
            state.patient_rate.take_one(&state.db, &channel.patient_id.0, now).await?;
            return Err(refused);
        }
    };
    let (thread_id, message_id) = (req.thread_id, req.message_id);
    let post = Post { token, req, seal, now };
    let outcome = state.ingest.submit(&state.db, post).await?;
    let (status, duplicate) = match outcome {
        Ingested::Stored(seq) => {
            state.events.changed(seq, thread_id);
            state.metrics.ingested.inc();
            (StatusCode::CREATED, false)
        }
        Ingested::Duplicate => (StatusCode::OK, true),
    };
    Ok((status, Json(PatientMessageAccepted { thread_id, message_id, duplicate })).into_response())
}

/// `GET /v1/patient/replies?cursor=N&limit=M`.
pub async fn get_replies(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<PatientRepliesPage>, ApiError> {
    let [cursor, limit] = parse_u64_params(uri.query(), ["cursor", "limit"])?;
    let limit = page_limit(limit)?;
    let channel = channel(&state, &headers).await?;
    let after = cursor.unwrap_or(0);
    let page = state
        .db
        .call(move |conn| {
            let mut replies = store::replies_for_patient(conn, &channel.patient_id, after, limit + 1)?;
            let more = replies.len() > limit as usize;
            replies.truncate(limit as usize);
            let next = replies.last().map(|r| r.seq).unwrap_or(after);
            Ok::<_, ApiError>(PatientRepliesPage { replies, next_cursor: Cursor(next), more })
        })
        .await?;
    Ok(Json(page))
}

/// Validates `limit` (1..=MAX_SYNC_PAGE, default 100).
pub fn page_limit(limit: Option<u64>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=u64::from(MAX_SYNC_PAGE)).contains(&n) => Ok(n as u32),
        Some(_) => Err(ApiError::field("limit", format!("must be between 1 and {MAX_SYNC_PAGE}"))),
    }
}
