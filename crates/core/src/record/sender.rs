//! Save to record over the network, away from the desk (a task the shell
//! keeps with its sends, so a lock stops it): the patient looked up by NHS
//! number and the match kept, the saves that wait sent (each Bundle made
//! again from the cache, with its photos fetched from the hub; the same
//! ids each time, so a retry never writes twice), and a Bundle exported as
//! a file. A save waits while the thread still has changes the hub has
//! not taken (a refused decision must not reach the record).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sealbox_model::hub_api::StaffDirectory;
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::registration::Registration;
use sealbox_record::endpoint::{Endpoint, SaveError};
use sealbox_record::matching::{check, Wrote};
use sealbox_record::thread::Photo;
use sealbox_record::{to_bundle, to_json};
use serde_json::Value;

use super::handled::{handled, object, Found, Here};
use super::{RecordConfig, SaveToRecordError};
use crate::audit;
use crate::store::record::SaveRow;
use crate::sync::plan::TriageRules;
use crate::sync::SharedStore;
use crate::workstation::attachment::AttachmentReader;
use crate::workstation::{Desk, WorkstationError};

/// Makes a thread's Bundle from the cache (no endpoint needed).
pub struct BundleMaker {
    store: Arc<SharedStore>,
    attachments: AttachmentReader,
    practice: String,
    device: String,
    me: StaffId,
    registration: Option<Registration>,
    staff: StaffDirectory,
    rules: Arc<TriageRules>,
}

/// Sends to the practice's endpoint, signed in as this workstation.
pub struct RecordSender {
    maker: BundleMaker,
    endpoint: Endpoint,
}

impl std::fmt::Debug for RecordSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSender").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BundleMaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleMaker").finish_non_exhaustive()
    }
}

/// What a round of sends did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Saves the endpoint took.
    pub saved: usize,
    /// Saves still waiting.
    pub waiting: usize,
}

impl Desk {
    /// A Bundle maker for this desk's session.
    pub fn bundle_maker(&self) -> Result<BundleMaker, WorkstationError> {
        let profile = self.profile();
        Ok(BundleMaker {
            store: self.store(),
            attachments: self.attachment_reader(),
            practice: profile.practice_id.clone(),
            device: profile.device_id.clone(),
            me: StaffId(profile.user_id.clone()),
            registration: profile.registration.clone(),
            staff: self.staff()?,
            rules: self.rules(),
        })
    }

    /// A sender to the endpoint `config` names, with this enrolment's key.
    pub fn record_sender(&self, config: &RecordConfig) -> Result<RecordSender, WorkstationError> {
        let endpoint = Endpoint::new(
            &config.endpoint,
            config.client_id(&self.profile().device_id),
            self.record_key()?,
            config.timeout(),
        )
        .map_err(SaveToRecordError::from)?;
        Ok(RecordSender { maker: self.bundle_maker()?, endpoint })
    }
}

impl BundleMaker {
    /// `thread`'s Bundle as saved by `save` (as JSON).
    async fn bundle(&self, thread: ThreadId, save: &SaveRow) -> Result<Value, WorkstationError> {
        let (mut record, photos) = {
            let store = crate::sync::lock(&self.store);
            let detail =
                store.thread(thread)?.ok_or(crate::workstation::refill::RefillError::NoSuchThread)?;
            let facts = store.triage_facts(thread)?;
            let decided = store.refill_decided(thread)?;
            let here = Here {
                practice: &self.practice,
                workstation: &self.device,
                me: &self.me,
                my_registration: self.registration.as_ref(),
                staff: &self.staff,
                detector: &self.rules.red_flags,
            };
            let found = Found { detail: &detail, facts: facts.as_ref(), decided: decided.as_ref(), save };
            handled(&found, &here)?
        };
        for photo in photos {
            let opened = self
                .attachments
                .open(thread, &photo.reference.id)
                .await
                .map_err(|_| SaveToRecordError::Photo)?;
            if let Some(message) = record.messages.get_mut(photo.message) {
                message
                    .photos
                    .push(Photo { content_type: opened.media_type.clone(), bytes: opened.bytes.to_vec() });
            }
        }
        let bundle = to_bundle(&record).map_err(SaveToRecordError::from)?;
        Ok(to_json(bundle).map_err(SaveToRecordError::from)?)
    }

    /// Writes `thread`'s Bundle to `dir` as `sealbox-thread-<id>.json`
    /// (readable by this user only), audited as `export_record`; returns
    /// the file.
    pub async fn export(
        &self,
        thread: ThreadId,
        dir: &Path,
        now: Timestamp,
    ) -> Result<PathBuf, WorkstationError> {
        let hash = crate::sync::lock(&self.store)
            .write(|w| audit::append_hashed(w, now, &self.me.0, "export_record", &object(thread)))?;
        let save = SaveRow {
            queued_at: now,
            queued_by: self.me.clone(),
            audit_hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
            tries: 0,
            last_error: None,
            saved_at: None,
        };
        let bundle = self.bundle(thread, &save).await?;
        let text = serde_json::to_vec_pretty(&bundle)
            .map_err(|e| SaveToRecordError::Bundle(sealbox_record::RecordError::Encode(e.to_string())))?;
        let name = format!("sealbox-thread-{}.json", thread.0);
        crate::durable::write(dir, &name, &text).map_err(|e| SaveToRecordError::Export(e.kind()))?;
        Ok(dir.join(name))
    }
}

impl RecordSender {
    /// Looks `thread`'s patient up in the record by NHS number and keeps
    /// how they match what the patient wrote (a thread without a number:
    /// nothing to look up).
    pub async fn check_match(&mut self, thread: ThreadId, now: Timestamp) -> Result<(), WorkstationError> {
        let patient = {
            let store = crate::sync::lock(&self.maker.store);
            store.thread(thread)?.ok_or(crate::workstation::refill::RefillError::NoSuchThread)?.patient
        };
        let Some(number) = patient.nhs_number.as_ref() else { return Ok(()) };
        let found = self.endpoint.find_patient(number, now).await.map_err(SaveToRecordError::from)?;
        let birth = patient.date_of_birth.reveal().to_string();
        let wrote = Wrote { name: patient.display_name.reveal(), birth_date: &birth };
        let outcome = check(&found, &wrote);
        crate::sync::lock(&self.maker.store).write(|w| w.set_record_match(thread, outcome.key(), now))?;
        Ok(())
    }

    /// Sends every save that waits, oldest first; a refusal is kept on
    /// its save (and the next is tried), an endpoint out of reach stops
    /// the round. Each save the endpoint takes is audited.
    pub async fn send_waiting(&mut self, now: Timestamp) -> Result<Sent, WorkstationError> {
        let waiting = crate::sync::lock(&self.maker.store).waiting_record_saves()?;
        let mut sent = Sent { saved: 0, waiting: waiting.len() };
        for thread in waiting {
            let (save, unsent) = {
                let store = crate::sync::lock(&self.maker.store);
                let unsent = store.outbox()?.iter().any(|i| i.thread == Some(thread));
                (store.record_save(thread)?, unsent)
            };
            let Some(save) = save else { continue };
            if unsent {
                let why = "waiting for the practice hub to take this thread's changes first";
                crate::sync::lock(&self.maker.store).write(|w| w.record_save_failed(thread, why))?;
                continue;
            }
            let result = match self.maker.bundle(thread, &save).await {
                Ok(bundle) => self.endpoint.save(&bundle, now).await.map_err(WorkstationError::from),
                Err(e) => Err(e),
            };
            let me = self.maker.me.0.clone();
            match result {
                Ok(receipt) => {
                    let what = format!(
                        "{}: {} created, {} already held",
                        object(thread),
                        receipt.created,
                        receipt.existing
                    );
                    crate::sync::lock(&self.maker.store).write(|w| {
                        w.record_saved(thread, now)?;
                        audit::append(w, now, &me, "saved_to_record", &what)
                    })?;
                    sent.saved += 1;
                    sent.waiting -= 1;
                }
                Err(e) => {
                    let why = e.to_string();
                    crate::sync::lock(&self.maker.store).write(|w| w.record_save_failed(thread, &why))?;
                    let out_of_reach = matches!(
                        e,
                        WorkstationError::Record(SaveToRecordError::Endpoint(
                            SaveError::Unreachable | SaveError::Slow
                        ))
                    );
                    if out_of_reach {
                        break;
                    }
                }
            }
        }
        Ok(sent)
    }
}

impl From<SaveError> for WorkstationError {
    fn from(e: SaveError) -> Self {
        WorkstationError::Record(SaveToRecordError::Endpoint(e))
    }
}
