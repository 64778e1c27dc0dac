//! Requests to the hub that served this page (same origin). Errors come
//! back in words for the patient; the hub's problem details never carry
//! patient data.

use gloo_net::http::{Request, Response};
use sealbox_crypto::directory::{verify_for_patient, Directory};
use sealbox_crypto::patient_message::{OpenedReply, PoolKeys};
use sealbox_crypto::renewal_questions;
use sealbox_model::hub_api::{
    DirectoryPage, HeadsPage, PatientJoinRequest, PatientJoined, PatientMessageAccepted,
    PatientMessageRequest, PatientPolicy, PatientRepliesPage, Problem, SignedRenewalQuestions,
};
use sealbox_model::renewal::RenewalQuestions;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::channel::Channel;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("We could not reach your practice. Check your internet connection and try again.")]
    Unreachable,
    #[error("{0}")]
    Refused(String),
    #[error("Your practice's answer was not understood. Please try again later.")]
    BadReply,
    #[error(
        "Your practice's keys could not be checked, so nothing was sent. Please tell your practice. ({0})"
    )]
    Untrusted(String),
}

async fn read<R: DeserializeOwned>(response: Response) -> Result<R, HubError> {
    if response.ok() {
        return response.json().await.map_err(|_| HubError::BadReply);
    }
    let status = response.status();
    let detail = response.json::<Problem>().await.ok().and_then(|p| p.detail);
    Err(HubError::Refused(match (status, detail) {
        (429, _) => "You have sent a lot of messages. Please wait a few minutes and try again.".to_owned(),
        (_, Some(detail)) => capitalised(&detail),
        (status, None) => format!("Your practice could not take this (error {status})."),
    }))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}

/// The practice's address on its hub, before `/patient/`: empty on a hub
/// of one practice, `/p/prac-…` on a deployment serving several.
pub fn base() -> String {
    let path = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
    path.split_once("/patient/").map(|(base, _)| base.to_owned()).unwrap_or_default()
}

/// `path` on this practice's hub.
fn at(path: &str) -> String {
    format!("{}{path}", base())
}

async fn post<B: Serialize, R: DeserializeOwned>(
    path: &str,
    token: Option<&str>,
    body: &B,
) -> Result<R, HubError> {
    let mut request = Request::post(&at(path));
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request
        .json(body)
        .map_err(|_| HubError::BadReply)?
        .send()
        .await
        .map_err(|_| HubError::Unreachable)?;
    read(response).await
}

async fn get<R: DeserializeOwned>(path: &str, token: &str) -> Result<R, HubError> {
    read(get_response(path, token).await?).await
}

async fn get_response(path: &str, token: &str) -> Result<Response, HubError> {
    Request::get(&at(path))
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| HubError::Unreachable)
}

/// `POST /v1/patient/join`.
pub async fn join(request: &PatientJoinRequest) -> Result<PatientJoined, HubError> {
    post("/v1/patient/join", None, request).await
}

/// The practice's signed key directory, replayed under the practice key
/// from the invite (never one the hub serves) and reaching every head a
/// practice device signed.
async fn directory(channel: &Channel) -> Result<Directory, HubError> {
    // Heads first: the chain fetched after them must reach each.
    let heads: HeadsPage = get("/v1/directory/heads", channel.token()).await?;
    let page: DirectoryPage = get("/v1/directory?after=0", channel.token()).await?;
    verify_for_patient(&channel.practice, channel.practice_key, &page, &heads)
        .map_err(|e| HubError::Untrusted(e.to_string()))
}

/// The pool keys to seal to, from the verified directory.
pub async fn pool_keys(channel: &Channel) -> Result<PoolKeys, HubError> {
    Ok(PoolKeys::from_directory(&directory(channel).await?))
}

/// What the practice's policy says of the patient's page.
pub async fn patient_policy(channel: &Channel) -> Result<PatientPolicy, HubError> {
    get("/v1/patient/policy", channel.token()).await
}

/// The practice's renewal questions, only if its practice key (the one
/// the invite pinned) signed them: a hub cannot ask patients anything of
/// its own. None when the practice has published none; a set that does not
/// verify is an error, and the request is not sent without it.
pub async fn renewal_questions(channel: &Channel) -> Result<Option<RenewalQuestions>, HubError> {
    let response = get_response("/v1/patient/renewal-questions", channel.token()).await?;
    if response.status() == 404 {
        return Ok(None);
    }
    let signed: SignedRenewalQuestions = read(response).await?;
    renewal_questions::verify(&channel.practice_key, &channel.practice, &signed)
        .map(Some)
        .map_err(|e| HubError::Untrusted(e.to_string()))
}

/// Every reply the practice sent on this channel, oldest first: opened
/// when a practice device the directory names signed it, otherwise why
/// not (shown, never dropped).
pub async fn replies(channel: &Channel) -> Result<Vec<Result<OpenedReply, String>>, HubError> {
    let dir = directory(channel).await?;
    let mut out = Vec::new();
    let mut cursor = 0u64;
    loop {
        let page: PatientRepliesPage =
            get(&format!("/v1/patient/replies?cursor={cursor}"), channel.token()).await?;
        for record in &page.replies {
            out.push(channel.open_reply(record.envelope.as_slice(), &dir).map_err(|e| e.to_string()));
        }
        if !page.more || page.next_cursor.0 <= cursor {
            return Ok(out);
        }
        cursor = page.next_cursor.0;
    }
}

/// `PUT /v1/patient/threads/{thread}/attachments/{id}`: a sealed photo.
pub async fn put_attachment(channel: &Channel, thread: u64, id: &str, blob: &[u8]) -> Result<(), HubError> {
    let response = Request::put(&at(&format!("/v1/patient/threads/{thread}/attachments/{id}")))
        .header("Authorization", &format!("Bearer {}", channel.token()))
        .header("Content-Type", "application/octet-stream")
        .body(js_sys::Uint8Array::from(blob))
        .map_err(|_| HubError::BadReply)?
        .send()
        .await
        .map_err(|_| HubError::Unreachable)?;
    if response.ok() {
        return Ok(());
    }
    read::<serde_json::Value>(response).await.map(drop)
}

/// `POST /v1/patient/messages`.
pub async fn send(
    channel: &Channel,
    message: &PatientMessageRequest,
) -> Result<PatientMessageAccepted, HubError> {
    post("/v1/patient/messages", Some(channel.token()), message).await
}
