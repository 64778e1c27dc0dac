//! `sealbox-sim read-replies`: what the practice wrote back, opened with
//! each simulated patient's own key — the proof, end to end, that a reply
//! left a clinician's desktop sealed and reached the patient — and shown
//! only if a device the practice's signed directory names signed it
//! (`sealbox_crypto::patient_message::open_reply`, as the browser does).

use reqwest::Client;
use serde::Serialize;

use sealbox_crypto::directory::Directory;
use sealbox_crypto::patient_message::open_reply;
use sealbox_model::hub_api::{Cursor, PatientRepliesPage, PracticeFile, SimPatient};

use crate::client::get_json;
use crate::seal::reply_secret;
use crate::SimError;

/// One reply as the patient reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub patient_id: String,
    pub thread_id: u64,
    pub message_id: u64,
    /// The free text of the reply (this is the patient's own view).
    pub text: String,
}

impl Reply {
    /// One JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Every reply to every patient of the practice file, opened.
pub async fn read_replies(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
) -> Result<Vec<Reply>, SimError> {
    let pinned = practice.practice_key.as_ref().ok_or_else(|| {
        SimError::PracticeFormat(
            "the practice file names no practice key: replies cannot be checked".to_owned(),
        )
    })?;
    let dir = crate::directory::verified_directory(client, hub, practice, pinned).await?;
    let mut out = Vec::new();
    for patient in &practice.patients {
        out.extend(replies_for(client, hub, &practice.practice_id, &dir, patient).await?);
    }
    Ok(out)
}

async fn replies_for(
    client: &Client,
    hub: &str,
    practice: &str,
    dir: &Directory,
    patient: &SimPatient,
) -> Result<Vec<Reply>, SimError> {
    let secret = reply_secret(patient)?;
    let mut cursor = Cursor(0);
    let mut out = Vec::new();
    loop {
        let path = format!("/v1/patient/replies?cursor={}", cursor.0);
        let page: PatientRepliesPage =
            get_json(client, hub, &path, Some(&patient.channel_token.0), "GET /v1/patient/replies").await?;
        for record in &page.replies {
            let reply = open_reply(record.envelope.as_slice(), practice, &secret, dir)
                .map_err(|e| SimError::Open(e.to_string()))?;
            out.push(Reply {
                patient_id: patient.patient_id.0.clone(),
                thread_id: record.thread_id.0,
                message_id: record.message_id.0,
                text: reply.text.reveal().to_owned(),
            });
        }
        if !page.more || page.next_cursor <= cursor {
            return Ok(out);
        }
        cursor = page.next_cursor;
    }
}
