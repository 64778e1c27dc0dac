//! Clinician actions on their way to the hub. Queuing writes the action,
//! its local effect and its audit event in ONE transaction; sending posts
//! the queue in order with each action's idempotency key, so a retry after
//! a lost reply is applied once; the hub's answer removes the row.

use rusqlite::{params, OptionalExtension};
use sealbox_model::actor::StaffRef;
use sealbox_model::hub_api::{
    ActionOp, ActionOutcome, ActionRequest, ActionsRequest, IdempotencyKey, StateOp,
};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::FreeText;
use sealbox_model::thread_state::ThreadState;

use super::apply::restore_hub_state;
use super::client::HubClient;
use super::{lock, SharedStore, SyncError};
use crate::audit::append as audit;
use crate::store::record::RefillDecided;
use crate::store::write::{key_of, OutboxItem, Writer};
use crate::store::{Store, StoreError};
use sealbox_model::actor::SYSTEM_ACTOR;

/// A colleague changed the thread first: the action was not applied and
/// the thread shows the hub's state after the next pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictNotice {
    /// The thread.
    pub thread: ThreadId,
    /// Who changed it (none: the patient or the hub).
    pub changed_by: Option<StaffRef>,
    /// When.
    pub changed_at: Timestamp,
}

/// The hub refused an action by its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedNotice {
    /// The thread.
    pub thread: ThreadId,
    /// The hub's reason code.
    pub code: String,
}

/// What one send did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sent {
    /// Actions applied by the hub (and removed from the outbox).
    pub applied: usize,
    /// Actions a colleague beat us to (removed; shown to the user).
    pub conflicts: Vec<ConflictNotice>,
    /// Actions the hub refused (removed; shown to the user).
    pub rejected: Vec<RejectedNotice>,
}

fn op_name(op: &ActionOp) -> &'static str {
    match op {
        ActionOp::Claim => "claim",
        ActionOp::Assign { .. } => "assign",
        // The audit names what the change was ("closed the thread"), and a
        // clinician's day counts their closes.
        ActionOp::State { change } => match change {
            StateOp::Triage => "triage",
            StateOp::Start => "start",
            StateOp::AwaitPatient => "await_patient",
            StateOp::Close => "close",
            StateOp::Reopen => "reopen",
        },
        ActionOp::Reply { .. } => "reply",
        ActionOp::Note { .. } => "note",
        ActionOp::RefillDecision { .. } => "refill_decision",
        ActionOp::Prioritise { .. } => "prioritise",
        ActionOp::Merge { .. } => "merge",
    }
}

/// Queues `op` on `thread` by `staff`: the outbox row (expected version =
/// the hub version the cache holds, plus one for each action already
/// queued on the thread), the local effect (a claim shows the thread as in
/// progress with `staff` at once) and the audit event, in one transaction.
/// Returns false if `key` was queued already (a double click).
pub fn queue(
    store: &mut Store,
    staff: &StaffRef,
    thread: ThreadId,
    op: ActionOp,
    key: IdempotencyKey,
    now: Timestamp,
) -> Result<bool, SyncError> {
    queue_with(store, staff, thread, op, key, now, |_| Ok(()))
}

/// [`queue`] with a further local effect written in the same transaction
/// (a reply shows in the thread at once).
pub fn queue_with(
    store: &mut Store,
    staff: &StaffRef,
    thread: ThreadId,
    op: ActionOp,
    key: IdempotencyKey,
    now: Timestamp,
    effect: impl FnOnce(&mut Writer<'_>) -> Result<(), StoreError>,
) -> Result<bool, SyncError> {
    let version = store.hub_version(thread)?.ok_or(SyncError::Protocol("the thread is not in the cache"))?;
    // Each action already queued on the thread moves the hub's version by
    // one when applied: this one expects the version after them (if one of
    // them is refused, this one conflicts too, as it should).
    let version = version + store.outbox()?.iter().filter(|i| i.thread == Some(thread)).count() as u64;
    let name = op_name(&op);
    let claim = matches!(op, ActionOp::Claim);
    let request =
        ActionRequest { idempotency_key: key.clone(), thread_id: thread, expected_version: version, op };
    let payload =
        serde_json::to_vec(&request).map_err(|_| SyncError::Protocol("an action could not be encoded"))?;
    Ok(store.write(|w| {
        let exists: bool = w.tx().query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE idempotency_key = ?1)",
            [key.as_str()],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(false);
        }
        w.enqueue(&OutboxItem {
            idempotency_key: key.as_str().to_owned(),
            kind: name.to_owned(),
            thread: Some(thread),
            payload: payload.clone(),
            created: now,
        })?;
        if claim {
            w.set_thread_state(thread, &ThreadState::InProgress { by: staff.clone() }, now)?;
        }
        effect(w)?;
        audit(w, now, &staff.id.0, name, &format!("thread {thread}"))?;
        Ok(true)
    })?)
}

/// Sends every queued action, oldest first, in batches holding at most one
/// action per thread; removes each one the hub answered. An action the hub
/// did not apply takes the later ones queued on its thread with it (they
/// assumed it would apply). A network failure leaves the rest queued
/// (retry later: the idempotency keys make a resend harmless).
pub async fn send(store: &SharedStore, hub: &HubClient, now: Timestamp) -> Result<Sent, SyncError> {
    let mut sent = Sent::default();
    loop {
        let queued = lock(store).outbox()?;
        if queued.is_empty() {
            return Ok(sent);
        }
        // At most one action per thread in a batch: the next one on a thread
        // goes only once the hub has answered this one.
        let mut actions: Vec<ActionRequest> = Vec::new();
        for item in &queued {
            if actions.len() == sealbox_model::hub_api::MAX_ACTIONS_PER_BATCH {
                break;
            }
            let action: ActionRequest =
                serde_json::from_slice(&item.payload).map_err(|_| StoreError::Decode("queued action"))?;
            if !actions.iter().any(|a| a.thread_id == action.thread_id) {
                actions.push(action);
            }
        }
        let batch = ActionsRequest { actions };
        let reply = hub.post_actions(&batch).await?;
        lock(store).write(|w| {
            for (action, result) in batch.actions.iter().zip(&reply.results) {
                let thread = action.thread_id;
                let refused = match &result.outcome {
                    ActionOutcome::Applied { version, .. } => {
                        set_hub_version(w, thread, *version)?;
                        if let ActionOp::RefillDecision { decision, items } = &action.op {
                            // Kept for save to record: the decision as applied.
                            let decided = RefillDecided { decision: *decision, items: items.clone() };
                            w.keep_refill_decision(thread, &decided, now)?;
                        }
                        sent.applied += 1;
                        false
                    }
                    ActionOutcome::Conflict { current_version, changed_by, changed_at } => {
                        sent.conflicts.push(ConflictNotice {
                            thread,
                            changed_by: changed_by.clone(),
                            changed_at: *changed_at,
                        });
                        set_hub_version(w, thread, *current_version)?;
                        audit(w, now, SYSTEM_ACTOR, "action_conflict", &format!("thread {thread}"))?;
                        true
                    }
                    ActionOutcome::Rejected { code, .. } => {
                        sent.rejected.push(RejectedNotice { thread, code: code.clone() });
                        audit(w, now, SYSTEM_ACTOR, "action_rejected", &format!("thread {thread}"))?;
                        true
                    }
                };
                w.ack_outbox(action.idempotency_key.as_str())?;
                if refused {
                    // What was queued after it on the thread assumed it
                    // would apply: it goes too (a reply back to the draft),
                    // and the hub's state is shown again.
                    unsent_reply_to_draft(w, action, now)?;
                    for later in queued.iter().filter(|i| i.thread == Some(thread)) {
                        let Ok(later) = serde_json::from_slice::<ActionRequest>(&later.payload) else {
                            continue;
                        };
                        if w.ack_outbox(later.idempotency_key.as_str())? {
                            sent.conflicts.push(ConflictNotice { thread, changed_by: None, changed_at: now });
                            unsent_reply_to_draft(w, &later, now)?;
                        }
                    }
                    restore_hub_state(w, thread)?;
                    w.restore_hub_triage(thread, now)?;
                }
            }
            Ok(())
        })?;
    }
}

/// The hub's version of `thread` as an answer reported it (never backwards).
fn set_hub_version(w: &mut Writer<'_>, thread: ThreadId, version: u64) -> Result<(), StoreError> {
    w.tx().execute(
        "UPDATE threads SET hub_version = max(hub_version, ?2) WHERE thread_key = ?1",
        params![key_of(thread.0), i64::try_from(version).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

/// A reply the hub did not apply leaves the thread (it was never sent) and
/// its text goes back to the thread's draft, after any draft already there:
/// nothing the clinician wrote is lost.
fn unsent_reply_to_draft(
    w: &mut Writer<'_>,
    action: &ActionRequest,
    now: Timestamp,
) -> Result<(), StoreError> {
    let ActionOp::Reply { message_id, .. } = &action.op else { return Ok(()) };
    let Some(signed) = w.take_message(*message_id)? else { return Ok(()) };
    // Back to what the clinician wrote: the sign-off (one line, added when
    // the reply was sealed) is added again when it is sent again.
    let text = FreeText::new(signed.reveal().rsplit_once("\n\n").map_or(signed.reveal(), |(body, _)| body));
    let thread = action.thread_id;
    let earlier: Option<String> = w
        .tx()
        .query_row("SELECT body FROM drafts WHERE thread_key = ?1", [key_of(thread.0)], |r| r.get(0))
        .optional()?;
    let body = match earlier {
        Some(e) if !e.trim().is_empty() => FreeText::new(format!("{e}\n\n{}", text.reveal())),
        _ => text,
    };
    w.save_draft(thread, &body, now)
}
