//! Pure planning: a sync page, the keys this device holds, the triage rules
//! and what the cache already knows → exactly what to write. No IO, so every
//! case (an envelope for another pool, a tampered one, a thread with a
//! queued action) is tested without a hub or a database.

use std::collections::BTreeMap;

use sealbox_model::bank_holidays::Nation;
use sealbox_model::breach::{due_at, ResponsePolicy};
use sealbox_model::calendar::WorkingCalendar;
use sealbox_model::hub_api::{Cursor, EnvelopeRecord, Sender, SyncPage, ThreadMeta};
use sealbox_model::ids::{MessageId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, Message};
use sealbox_model::patient::{Patient, PatientDetails, Representative};
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::red_flags::RedFlagDetector;
use sealbox_model::thread_state::{Assignee, ThreadState};
use sealbox_model::triage::effective_priority;
use std::sync::atomic::{AtomicBool, Ordering};

use super::keys::{OpenFailure, OpenedMessage, PoolKeyring};
use crate::store::triage::TriageFacts;
use crate::store::write::ThreadRecord;

/// The practice's triage rules: working calendar, response targets and the
/// red-flag detector.
pub struct TriageRules {
    /// Opening hours and bank holidays.
    pub calendar: WorkingCalendar,
    /// Response targets per category and priority.
    pub policy: ResponsePolicy,
    /// Red-flag phrases.
    pub red_flags: RedFlagDetector,
}

impl std::fmt::Debug for TriageRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriageRules").finish_non_exhaustive()
    }
}

impl TriageRules {
    /// England and Wales calendar, UK default targets.
    pub fn uk_default() -> Result<Self, RulesError> {
        Ok(TriageRules {
            calendar: WorkingCalendar::uk_default(Nation::EnglandAndWales).map_err(|_| RulesError)?,
            policy: ResponsePolicy::uk_defaults(),
            red_flags: RedFlagDetector::new().map_err(|_| RulesError)?,
        })
    }
}

/// The built-in rules failed to load (a build defect, not user input).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the built-in triage rules could not be loaded")]
pub struct RulesError;

/// What the cache knows of a thread before this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownThread {
    /// A red flag was seen in an earlier message.
    pub urgent: bool,
    /// When the latest patient message arrived.
    pub received: Timestamp,
    /// The state shown now.
    pub state: ThreadState,
    /// An action on it waits in the outbox: the local state stands until
    /// the hub has answered it.
    pub pending_action: bool,
    /// The triage facts shown now (none: cached before schema 8).
    pub triage: Option<TriageFacts>,
}

/// A thread to write, with the hub's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedThread {
    /// Thread and triage facts.
    pub record: ThreadRecord,
    /// The hub's version (the expected version of the next action).
    pub hub_version: u64,
    /// The hub's state (shown again if the hub refuses a queued action).
    pub hub_state: ThreadState,
    /// The triage facts shown (a decision queued here stands until answered).
    pub shown_triage: TriageFacts,
    /// The hub's triage facts (shown again if the hub refuses a decision).
    pub hub_triage: TriageFacts,
    /// The patient's X25519 public key (replies are sealed to it).
    pub patient_key: Vec<u8>,
    /// The thread it was merged into as a repeat, as the hub has it.
    pub merged_into: Option<ThreadId>,
}

/// An envelope that could not be opened: kept, shown as "could not be
/// decrypted", never dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Its thread.
    pub thread_id: ThreadId,
    /// Its message.
    pub message_id: MessageId,
    /// Why (log-safe).
    pub reason: String,
    /// The sealed bytes as received.
    pub envelope: Vec<u8>,
}

impl std::fmt::Debug for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unreadable")
            .field("thread_id", &self.thread_id)
            .field("message_id", &self.message_id)
            .field("reason", &self.reason)
            .field("envelope_len", &self.envelope.len())
            .finish()
    }
}

/// Everything one page changes in the cache. `Debug` shows counts only.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PagePlan {
    /// Patients named by opened messages.
    pub patients: Vec<Patient>,
    /// Opened messages, per thread.
    pub messages: Vec<(ThreadId, Message)>,
    /// Who wrote which patient message on the patient's behalf.
    pub written_by: Vec<(MessageId, Representative)>,
    /// Threads to insert or update.
    pub threads: Vec<PlannedThread>,
    /// Envelopes that could not be opened.
    pub unreadable: Vec<Unreadable>,
    /// Envelopes with nothing for this device's pools (not stored).
    pub not_for_this_device: usize,
    /// The cursor after this page.
    pub cursor: Cursor,
}

impl std::fmt::Debug for PagePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagePlan")
            .field("patients", &self.patients.len())
            .field("messages", &self.messages.len())
            .field("threads", &self.threads.len())
            .field("unreadable", &self.unreadable)
            .field("not_for_this_device", &self.not_for_this_device)
            .field("cursor", &self.cursor)
            .finish()
    }
}

/// Who wrote it: a member of staff's envelope sealed to nobody outside the
/// practice is an internal note (told by the signed envelope, not by the
/// hub).
fn author(sender: &Sender, to_patient: bool) -> Author {
    match sender {
        Sender::Patient => Author::Patient,
        Sender::Staff { staff } if to_patient => Author::Clinician(staff.id.clone()),
        Sender::Staff { staff } => Author::Note(staff.id.clone()),
    }
}

/// What one envelope held for this device, with its red-flag assessment.
pub struct OpenedRecord {
    patient: Option<PatientDetails>,
    message: Message,
    urgent: bool,
}

/// One record opened: Ok(None) when nothing in it is for this device; Err
/// with a log-safe reason when it cannot be opened.
pub type Opened = Result<Option<OpenedRecord>, String>;

/// Opens a run of envelope records (their signatures checked as one batch)
/// and assesses each one's free text for red flags.
/// Envelopes opened between two looks at the stop flag.
const STOP_CHECK_EVERY: usize = 32;

fn open_records(
    records: &[EnvelopeRecord],
    keys: &PoolKeyring,
    rules: &TriageRules,
    stop: &AtomicBool,
) -> Vec<Opened> {
    let mut out = Vec::with_capacity(records.len());
    for batch in records.chunks(STOP_CHECK_EVERY) {
        if stop.load(Ordering::Relaxed) {
            // Never applied: the page's sync was dropped (a lock).
            out.extend(batch.iter().map(|_| Err("opening stopped at lock".to_owned())));
            continue;
        }
        let envelopes: Vec<&[u8]> = batch.iter().map(|r| r.envelope.as_slice()).collect();
        out.extend(
            batch
                .iter()
                .zip(keys.open_many(&envelopes))
                .map(|(record, opened)| assess(record, opened, rules)),
        );
    }
    out
}

/// One opened envelope → what the plan needs: the ids checked against the
/// hub's record, the message, its red-flag assessment.
fn assess(
    record: &EnvelopeRecord,
    opened: Result<Option<OpenedMessage>, OpenFailure>,
    rules: &TriageRules,
) -> Opened {
    let opened = match opened {
        Ok(Some(o)) => o,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if opened.thread_id != record.thread_id.0 || opened.message_id != record.message_id.0 {
        return Err("the envelope's own ids differ from the hub's record".to_owned());
    }
    let message = Message {
        id: record.message_id,
        author: author(&record.sender, opened.to_patient),
        received_at: record.received_at,
        parts: opened.parts,
    };
    let urgent =
        message.is_from_patient() && rules.red_flags.assess(message.free_text().reveal()).suggests_urgent();
    Ok(Some(OpenedRecord { patient: opened.patient, message, urgent }))
}

/// Opens every record of a page, on all cores: the costly, cache-free half
/// of planning (X25519 and Ed25519 work and the red-flag scan per envelope,
/// independent of the others). Results keep the page's order. The sync
/// engine runs this for the next page while the current one is stored.
pub fn open_page(records: &[EnvelopeRecord], keys: &PoolKeyring, rules: &TriageRules) -> Vec<Opened> {
    open_page_until(records, keys, rules, &AtomicBool::new(false))
}

/// [`open_page`] that stops opening (and lets go of the keys) within
/// [`STOP_CHECK_EVERY`] envelopes per worker once `stop` is set: how a sync
/// dropped at lock ends its work on the blocking pool.
pub fn open_page_until(
    records: &[EnvelopeRecord],
    keys: &PoolKeyring,
    rules: &TriageRules,
    stop: &AtomicBool,
) -> Vec<Opened> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let workers = cores.min(records.len() / 32).max(1);
    if workers == 1 {
        return open_records(records, keys, rules, stop);
    }
    let chunk = records.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|part| scope.spawn(move || open_records(part, keys, rules, stop)))
            .collect();
        let mut out = Vec::with_capacity(records.len());
        for (handle, part) in handles.into_iter().zip(records.chunks(chunk)) {
            match handle.join() {
                Ok(results) => out.extend(results),
                // A worker that panicked opened nothing: its envelopes are kept
                // as unreadable rather than lost.
                Err(_) => out.extend(part.iter().map(|_| Err("opening failed unexpectedly".to_owned()))),
            }
        }
        out
    })
}

/// The pool a thread's queue is: where it was assigned, else its category's
/// home pool.
pub fn queue_pool(meta: &ThreadMeta) -> Pool {
    queue_pool_of(&meta.state, meta.category)
}

/// [`queue_pool`] from a state and a category.
pub fn queue_pool_of(state: &ThreadState, category: sealbox_model::category::Category) -> Pool {
    match state {
        ThreadState::Assigned { to: Assignee::Pool(p) } => *p,
        _ => Pool::home_of(category),
    }
}

/// Plans `page`. `known` holds what the cache knows of the page's threads.
pub fn plan_page(
    page: &SyncPage,
    keys: &PoolKeyring,
    rules: &TriageRules,
    known: &BTreeMap<ThreadId, KnownThread>,
) -> PagePlan {
    plan_opened(page, open_page(&page.envelopes, keys, rules), rules, known)
}

/// Plans `page` from its envelopes as [`open_page`] opened them (`opened`
/// in the page's order). `known` holds what the cache knows of the page's
/// threads.
pub fn plan_opened(
    page: &SyncPage,
    opened_records: Vec<Opened>,
    rules: &TriageRules,
    known: &BTreeMap<ThreadId, KnownThread>,
) -> PagePlan {
    let mut plan = PagePlan { cursor: page.next_cursor, ..PagePlan::default() };
    let metas: BTreeMap<ThreadId, &ThreadMeta> = page.threads.iter().map(|t| (t.thread_id, t)).collect();
    // Per thread: patient named in this page, red flag, latest patient message.
    let mut named: BTreeMap<ThreadId, Patient> = BTreeMap::new();
    // When the latest red-flagged patient message of this page arrived.
    let mut flagged: BTreeMap<ThreadId, Timestamp> = BTreeMap::new();
    let mut latest: BTreeMap<ThreadId, Timestamp> = BTreeMap::new();
    let mut opened: Vec<(ThreadId, Message)> = Vec::new();
    let mut results = opened_records.into_iter();
    for record in &page.envelopes {
        // A short `opened_records` (a caller's mistake) keeps the rest as
        // unreadable: nothing is dropped.
        let result = results.next().unwrap_or_else(|| Err("the envelope was not opened".to_owned()));
        match result {
            Ok(None) => plan.not_for_this_device += 1,
            Ok(Some(OpenedRecord { patient, message, urgent })) => {
                let thread = record.thread_id;
                // Only the patient's own messages name the patient: details in
                // a staff envelope are ignored (the hub refuses them too).
                if let (Some(mut details), Some(meta), true) =
                    (patient, metas.get(&thread), message.is_from_patient())
                {
                    if let Some(by) = details.written_by.take() {
                        plan.written_by.push((message.id, by));
                    }
                    named.insert(thread, details.into_patient(meta.patient_id.clone()));
                }
                if message.is_from_patient() {
                    if urgent {
                        let at = flagged.entry(thread).or_insert(message.received_at);
                        *at = (*at).max(message.received_at);
                    }
                    let at = latest.entry(thread).or_insert(message.received_at);
                    *at = (*at).max(message.received_at);
                }
                opened.push((thread, message));
            }
            Err(reason) => plan.unreadable.push(Unreadable {
                thread_id: record.thread_id,
                message_id: record.message_id,
                reason,
                envelope: record.envelope.as_slice().to_vec(),
            }),
        }
    }
    for meta in &page.threads {
        let id = meta.thread_id;
        let before = known.get(&id);
        // A thread enters the cache only with a patient this device may see.
        if before.is_none() && !named.contains_key(&id) {
            continue;
        }
        let received = match (before.map(|k| k.received), latest.get(&id)) {
            (Some(a), Some(b)) => a.max(*b),
            (Some(a), None) => a,
            (None, Some(b)) => *b,
            (None, None) => meta.created_at,
        };
        // A person's decision stands unless a newer message raised a red
        // flag; with none, a flag seen in an earlier page still counts.
        let flag_at = flagged.get(&id).copied();
        let priority = match (&meta.triage, flag_at) {
            (None, None) if before.is_some_and(|k| k.urgent) => Priority::Urgent,
            _ => effective_priority(meta.triage.as_ref(), flag_at),
        };
        let due = rules
            .policy
            .target(meta.category, priority)
            .and_then(|target| due_at(&rules.calendar, target, received).ok());
        let hub_triage = TriageFacts {
            priority,
            category: meta.category,
            urgent: priority == Priority::Urgent,
            due,
            set: meta.triage.clone(),
        };
        // A decision queued here and not yet answered stands, like the state.
        let (state, shown) = match before {
            Some(k) if k.pending_action => (k.state.clone(), k.triage.clone().unwrap_or(hub_triage.clone())),
            _ => (meta.state.clone(), hub_triage.clone()),
        };
        plan.threads.push(PlannedThread {
            record: ThreadRecord {
                id,
                patient: meta.patient_id.clone(),
                pool: queue_pool(meta),
                category: shown.category,
                priority: shown.priority,
                state,
                urgent: shown.urgent,
                due: shown.due,
                received,
            },
            shown_triage: shown,
            hub_triage,
            hub_version: meta.version,
            hub_state: meta.state.clone(),
            patient_key: meta.patient_x25519_public.as_slice().to_vec(),
            merged_into: meta.merged_into,
        });
    }
    plan.patients = named.into_values().collect();
    let stored: std::collections::BTreeSet<ThreadId> =
        plan.threads.iter().map(|t| t.record.id).chain(known.keys().copied()).collect();
    for (thread, message) in opened {
        if stored.contains(&thread) {
            plan.messages.push((thread, message));
        } else {
            plan.not_for_this_device += 1;
        }
    }
    plan
}

#[cfg(test)]
mod tests;
