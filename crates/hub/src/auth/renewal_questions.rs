//! The practice's renewal questions at the hub (issue 25 point 4a): `PUT
//! /v1/practice/renewal-questions` (an admin publishes a set signed with
//! the practice key; only a higher version replaces the one held) and `GET
//! /v1/patient/renewal-questions` (a patient's channel reads it). The hub
//! checks the signature so an honest hub holds only what the practice
//! signed; patients' browsers check it again under the key they pinned.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use sealbox_crypto::renewal_questions;
use sealbox_model::hub_api::{Base64Bytes, SignedRenewalQuestions};

use super::directory::signing_key;
use super::Principal;
use crate::args;
use crate::db::{practice, time, DbError};
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// The most bytes a signed set's body may take.
const MAX_BODY: usize = 64 * 1024;

/// `PUT /v1/practice/renewal-questions`: an admin publishes the practice's
/// questions. 201 when taken; 409 when the hub holds this version or a
/// higher one; 422-like field errors when it is not the practice's.
pub async fn put_questions(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(signed): StrictJson<SignedRenewalQuestions>,
) -> Result<StatusCode, ApiError> {
    who.require_admin()?;
    if signed.body.as_slice().len() > MAX_BODY {
        return Err(ApiError::field("body", format!("at most {MAX_BODY} bytes")));
    }
    let now = state.now();
    state
        .db
        .call(move |conn| {
            let key = signing_key(conn)?.ok_or_else(|| {
                ApiError::conflict("no_signing_key", "signature", "the practice key is not set yet")
            })?;
            let practice = practice::get(conn)?.ok_or_else(|| ApiError::forbidden("no practice"))?;
            let questions = renewal_questions::verify(&key, &practice.id, &signed)
                .map_err(|e| ApiError::field("signature", e.to_string()))?;
            let held: Option<i64> = conn
                .query_opt("SELECT version FROM renewal_questions WHERE id = 1", args![])?
                .map(|r| r.get(0))
                .transpose()?;
            let version = i64::try_from(questions.version).unwrap_or(i64::MAX);
            if held.is_some_and(|h| h >= version) {
                return Err(ApiError::conflict(
                    "version_not_newer",
                    "body",
                    "the hub holds this version of the questions or a newer one",
                ));
            }
            conn.execute(
                "INSERT INTO renewal_questions (id, version, body, signature, published_by_device, published_at_us)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
                   signature = excluded.signature, published_by_device = excluded.published_by_device,
                   published_at_us = excluded.published_at_us",
                args![
                    version,
                    signed.body.as_slice(),
                    signed.signature.as_slice(),
                    who.device_id,
                    time::to_db(now)
                ],
            )?;
            Ok(StatusCode::CREATED)
        })
        .await
}

/// `GET /v1/patient/renewal-questions`: the set held, as signed, for a
/// patient's channel; 404 while the practice has published none.
pub async fn get_questions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SignedRenewalQuestions>, ApiError> {
    crate::relay::patient::channel(&state, &headers).await?;
    let held = state
        .db
        .read(|conn| {
            conn.query_opt("SELECT body, signature FROM renewal_questions WHERE id = 1", args![])?
                .map(|r| {
                    Ok::<_, DbError>(SignedRenewalQuestions {
                        body: Base64Bytes(r.get(0)?),
                        signature: Base64Bytes(r.get(1)?),
                    })
                })
                .transpose()
                .map_err(ApiError::from)
        })
        .await?;
    held.map(Json).ok_or_else(|| ApiError::not_found("the practice has published no renewal questions"))
}
