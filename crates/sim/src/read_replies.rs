//! `sealbox-sim read-replies`: what the practice wrote back, opened with
//! each simulated patient's own key — the proof, end to end, that a reply
//! left a clinician's desktop sealed and reached the patient.

use reqwest::Client;
use serde::Serialize;

use sealbox_crypto::envelope::{open_envelope, RecipientId};
use sealbox_model::hub_api::{Cursor, PatientRepliesPage, PracticeFile, SimPatient};
use sealbox_model::message::MessagePart;

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
    let mut out = Vec::new();
    for patient in &practice.patients {
        out.extend(replies_for(client, hub, patient).await?);
    }
    Ok(out)
}

async fn replies_for(client: &Client, hub: &str, patient: &SimPatient) -> Result<Vec<Reply>, SimError> {
    let secret = reply_secret(patient)?;
    let mut cursor = Cursor(0);
    let mut out = Vec::new();
    loop {
        let path = format!("/v1/patient/replies?cursor={}", cursor.0);
        let page: PatientRepliesPage =
            get_json(client, hub, &path, Some(&patient.channel_token.0), "GET /v1/patient/replies").await?;
        for record in &page.replies {
            let opened = open_envelope(record.envelope.as_slice(), RecipientId::Patient, &secret, None)
                .map_err(|e| SimError::Open(e.to_string()))?;
            let mut text = String::new();
            for part in &opened.parts {
                if let MessagePart::FreeText(t) = MessagePart::from_sealed_plaintext(&part.plaintext)
                    .map_err(|e| SimError::Open(e.to_string()))?
                {
                    text.push_str(t.reveal());
                }
            }
            out.push(Reply {
                patient_id: patient.patient_id.0.clone(),
                thread_id: record.thread_id.0,
                message_id: record.message_id.0,
                text,
            });
        }
        if !page.more || page.next_cursor <= cursor {
            return Ok(out);
        }
        cursor = page.next_cursor;
    }
}
