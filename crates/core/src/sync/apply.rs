//! Writing a [`PagePlan`]: patients, messages (with their search entries),
//! threads and triage, unreadable envelopes and the new cursor, all in ONE
//! transaction. Re-applying a page after a crash writes the same rows again
//! (messages are keyed by id), so nothing is duplicated and nothing skipped.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use sealbox_model::category::Category;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::thread_state::ThreadState;

use super::plan::{KnownThread, PagePlan};
use crate::store::write::{key_of, Writer};
use crate::store::{Store, StoreError};

/// What one applied page changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Messages written.
    pub messages: usize,
    /// Threads written.
    pub threads: usize,
    /// Envelopes kept as "could not be decrypted".
    pub unreadable: usize,
    /// Envelopes for other pools (not stored).
    pub not_for_this_device: usize,
    /// Patients named differently from the details held: kept for a
    /// person to confirm, not applied.
    pub patient_changes: usize,
    /// Thread records naming another reply key than the patient's pinned
    /// one: kept, not applied (replies still go to the pinned key).
    pub patient_key_changes: usize,
}

impl Store {
    /// What the cache knows of `ids` (absent ids are not cached).
    pub fn known_threads(
        &self,
        ids: impl IntoIterator<Item = ThreadId>,
    ) -> Result<BTreeMap<ThreadId, KnownThread>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tr.urgent_rank, tr.received_ms, t.state_json,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.thread_key = t.thread_key), t.triage_json
             FROM threads t JOIN triage tr ON tr.thread_key = t.thread_key WHERE t.thread_key = ?1",
        )?;
        let mut out = BTreeMap::new();
        for id in ids {
            let row = stmt
                .query_row([key_of(id.0)], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, bool>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .optional()?;
            if let Some((urgent_rank, received, state, pending, triage)) = row {
                out.insert(
                    id,
                    KnownThread {
                        urgent: urgent_rank == 0,
                        received: Timestamp::from_millisecond(received)
                            .map_err(|_| StoreError::Decode("received time"))?,
                        state: serde_json::from_str(&state)
                            .map_err(|_| StoreError::Decode("thread state"))?,
                        pending_action: pending,
                        triage: triage
                            .map(|t| serde_json::from_str(&t).map_err(|_| StoreError::Decode("triage facts")))
                            .transpose()?,
                    },
                );
            }
        }
        Ok(out)
    }

    /// The hub's version of a cached thread.
    pub fn hub_version(&self, id: ThreadId) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT hub_version FROM threads WHERE thread_key = ?1", [key_of(id.0)], |r| r.get(0))
            .optional()?;
        Ok(v.map(i64::unsigned_abs))
    }

    /// Writes `plan` in one transaction (see the module docs). Everything
    /// in it came from the hub with its cursor, so it is written without
    /// waiting for the disk ([`Store::write_refetchable`]).
    pub fn apply_page(&mut self, plan: &PagePlan, now: Timestamp) -> Result<Applied, StoreError> {
        self.write_refetchable(|w| apply_in(w, plan, now))
    }
}

/// Shows the hub's state of `thread` again (after the hub refused an action
/// that was shown at once).
pub(crate) fn restore_hub_state(w: &mut Writer<'_>, thread: ThreadId) -> Result<(), StoreError> {
    let json: Option<String> = w
        .tx()
        .query_row("SELECT hub_state_json FROM threads WHERE thread_key = ?1", [key_of(thread.0)], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let Some(json) = json else { return Ok(()) };
    let state: ThreadState = serde_json::from_str(&json).map_err(|_| StoreError::Decode("thread state"))?;
    w.tx()
        .prepare_cached("UPDATE threads SET state_json = ?2 WHERE thread_key = ?1")?
        .execute(params![key_of(thread.0), json])?;
    // A refused merge leaves the thread unmerged (the hub holds no link on
    // an open thread).
    if state.is_open() {
        w.set_merged_into(thread, None)?;
    }
    // The queue too: a refused hand-over leaves the thread where the hub has it.
    let category: Option<String> = w
        .tx()
        .query_row("SELECT category FROM triage WHERE thread_key = ?1", [key_of(thread.0)], |r| r.get(0))
        .optional()?;
    let category = category
        .and_then(|c| Category::ALL.into_iter().find(|k| k.key() == c))
        .ok_or(StoreError::Decode("category"))?;
    w.tx()
        .prepare_cached("UPDATE triage SET state = ?2, assignee_staff = ?3, pool = ?4 WHERE thread_key = ?1")?
        .execute(params![
            key_of(thread.0),
            state.kind().key(),
            crate::store::write::assignee_staff(&state),
            super::plan::queue_pool_of(&state, category).key()
        ])?;
    Ok(())
}

/// Writes `plan` inside an open transaction.
pub(crate) fn apply_in(w: &mut Writer<'_>, plan: &PagePlan, now: Timestamp) -> Result<Applied, StoreError> {
    let mut patient_changes = 0;
    for patient in &plan.patients {
        patient_changes += usize::from(w.pin_patient(patient)?);
    }
    let mut patient_key_changes = 0;
    let mut arrived = Vec::new();
    for thread in &plan.threads {
        let known: bool = w
            .tx()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM threads WHERE thread_key = ?1)")?
            .query_row([key_of(thread.record.id.0)], |r| r.get(0))?;
        if !known {
            arrived.push(thread.record.id);
        }
        w.upsert_thread(&thread.record, now)?;
        w.set_merged_into(thread.record.id, thread.merged_into)?;
        w.keep_triage_facts(thread.record.id, &thread.shown_triage, Some(&thread.hub_triage))?;
        let (patient_key, changed) = w.pin_patient_key(&thread.record.patient, &thread.patient_key, now)?;
        patient_key_changes += usize::from(changed);
        let hub_state =
            serde_json::to_string(&thread.hub_state).map_err(|_| StoreError::Decode("thread state"))?;
        w.tx()
            .prepare_cached(
                "UPDATE threads SET hub_version = ?2, hub_state_json = ?3, patient_key = ?4 WHERE thread_key = ?1",
            )?
            .execute(params![
                key_of(thread.record.id.0),
                i64::try_from(thread.hub_version).unwrap_or(i64::MAX),
                hub_state,
                patient_key,
            ])?;
    }
    for (thread, message) in &plan.messages {
        w.insert_message(*thread, message)?;
    }
    for (message, by) in &plan.written_by {
        w.set_written_by(*message, by)?;
    }
    // A thread new here is compared with its patient's open requests once
    // its messages are in (threads of one page in id order).
    for thread in arrived {
        w.link_repeat(thread)?;
    }
    for item in &plan.unreadable {
        super::unreadable::record(w, item, now)?;
    }
    w.set_sync_cursor(&plan.cursor.0.to_string(), now)?;
    Ok(Applied {
        messages: plan.messages.len(),
        threads: plan.threads.len(),
        unreadable: plan.unreadable.len(),
        not_for_this_device: plan.not_for_this_device,
        patient_changes,
        patient_key_changes,
    })
}
