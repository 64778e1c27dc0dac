//! `POST /v1/actions`: a batch of thread actions, applied in order, each on
//! its own: idempotency key first (a retry gets the first outcome), then the
//! expected version (a mismatch is a conflict naming who changed the thread
//! and when), then sealbox-model's state machine and permission matrix.
//! The batch runs in one transaction.

use axum::extract::State;
use axum::Json;
use sealbox_crypto::envelope::{EnvelopeHeader, PartKind};
use sealbox_model::actor::{Actor, StaffRef};
use sealbox_model::category::Category;
use sealbox_model::error::RuleError;
use sealbox_model::hub_api::{
    is_valid_wire_id, ActionOp, ActionOutcome, ActionRequest, ActionResult, ActionsRequest, ActionsResponse,
    ItemOutcome, LoggedOp, RefillChoice, StateOp, MAX_ACTIONS_PER_BATCH, MAX_ENVELOPE_BYTES,
};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::permissions::{can, Action};
use sealbox_model::priority::Priority;
use sealbox_model::thread_state::{transition, Assignee, ThreadAction, ThreadRef, ThreadState};
use sealbox_model::triage::{self, TriageDecision, TriageSet};

use super::envelope_check;
use super::store::{self, sha256, ThreadRow};
use crate::args;
use crate::auth::Principal;
use crate::db::sql::Sql;
use crate::db::time::{from_db, to_db};
use crate::db::DbError;
use crate::http::{ApiError, StrictJson};
use crate::state::AppState;

/// Why an action was refused.
#[derive(Debug)]
enum Refusal {
    Rule(RuleError),
    Other(&'static str, String),
}

impl From<RuleError> for Refusal {
    fn from(e: RuleError) -> Self {
        Refusal::Rule(e)
    }
}

fn rule_code(e: &RuleError) -> &'static str {
    match e {
        RuleError::IllegalTransition { .. } => "illegal_transition",
        RuleError::Forbidden { .. } => "forbidden",
        RuleError::WrongActor { .. } => "wrong_actor",
        RuleError::NotStaff { .. } => "not_staff",
        RuleError::ThreadClosed => "thread_closed",
        RuleError::NotAssignedToActor => "not_assigned_to_actor",
        RuleError::AssigneeCannotRead { .. } => "assignee_cannot_read",
        RuleError::NotAPrescriptionThread { .. } => "not_a_prescription_thread",
        RuleError::UnviewedPatientMessages { .. } => "unviewed_patient_messages",
        RuleError::ItemDecisions => "item_decisions",
        _ => "rule",
    }
}

fn rejected(r: Refusal) -> ActionOutcome {
    match r {
        Refusal::Rule(e) => ActionOutcome::Rejected { code: rule_code(&e).to_owned(), detail: e.to_string() },
        Refusal::Other(code, detail) => ActionOutcome::Rejected { code: code.to_owned(), detail },
    }
}

fn step(
    thread: &ThreadRow,
    state: &ThreadState,
    action: ThreadAction,
    actor: &Actor,
    now: Timestamp,
) -> Result<ThreadState, Refusal> {
    let tref = ThreadRef { id: thread.id, category: thread.category };
    Ok(transition(tref, state, &action, actor, now)?.0)
}

/// Claim: triage if new, assign to me unless mine or my pool's, start.
fn claim(thread: &ThreadRow, me: &StaffRef, now: Timestamp) -> Result<ThreadState, Refusal> {
    let actor = Actor::Staff(me.clone());
    let mut state = thread.state.clone();
    if matches!(state, ThreadState::New) {
        state = step(thread, &state, ThreadAction::Triage, &actor, now)?;
    }
    let mine = match &state {
        ThreadState::Assigned { to: Assignee::Pool(p) } => me.role.pool() == *p,
        ThreadState::Assigned { to: Assignee::Staff(s) } => s.id == me.id,
        _ => false,
    };
    if !mine {
        state = step(thread, &state, ThreadAction::Assign(Assignee::Staff(me.clone())), &actor, now)?;
    }
    step(thread, &state, ThreadAction::Start, &actor, now)
}

/// A refill decision as far as the rules of the thread go: the thread is a
/// repeat prescription request, open, and the role may decide. (An approval
/// also needs the approver's view of every patient message: see
/// [`unviewed_by`].)
fn refill(
    thread: &ThreadRow,
    me: &StaffRef,
    choice: RefillChoice,
    now: Timestamp,
) -> Result<ThreadState, Refusal> {
    let category = thread.category;
    if category != Category::RepeatPrescription {
        return Err(RuleError::NotAPrescriptionThread { category }.into());
    }
    if !thread.state.is_open() {
        return Err(RuleError::ThreadClosed.into());
    }
    let actor = Actor::Staff(me.clone());
    let needed = match choice {
        RefillChoice::Approve => Action::ApprovePrescription,
        RefillChoice::Reject { .. } | RefillChoice::QueryPatient => Action::RejectPrescription,
    };
    permitted(me, needed, category)?;
    match choice {
        RefillChoice::QueryPatient => {
            permitted(me, Action::Reply, category)?;
            step(thread, &thread.state, ThreadAction::AwaitPatient, &actor, now)
        }
        // A decision triages a new thread, so it can be closed once the
        // patient is told.
        _ if matches!(thread.state, ThreadState::New) => {
            step(thread, &thread.state, ThreadAction::Triage, &actor, now)
        }
        _ => Ok(thread.state.clone()),
    }
}

/// The approval or rejection already made on `thread` since the patient
/// last wrote (a second one would issue, or refuse, the same request
/// twice): who, when and which.
fn earlier_decision(
    conn: &dyn Sql,
    thread: ThreadId,
) -> Result<Option<(StaffRef, Timestamp, &'static str)>, DbError> {
    let rows = conn.query(
        "SELECT a.op, a.by_id, a.by_role, a.at_us FROM actions a
         WHERE a.thread_id = ?1 AND a.op LIKE '%\"kind\":\"refill_decision\"%'
           AND a.seq > coalesce((SELECT max(e.seq) FROM envelopes e
                                 WHERE e.thread_id = ?1 AND e.sender_kind = 'patient'), 0)
         ORDER BY a.seq DESC",
        args![thread.0],
    )?;
    for row in rows {
        let (op, id, role, at): (String, String, String, i64) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        let op: LoggedOp =
            serde_json::from_str(&op).map_err(|_| DbError::Corrupt { what: "logged action" })?;
        let which = match op {
            LoggedOp::RefillDecision { decision: RefillChoice::Approve, .. } => "approved",
            LoggedOp::RefillDecision { decision: RefillChoice::Reject { .. }, .. } => "rejected",
            _ => continue,
        };
        let by = StaffRef { id: sealbox_model::ids::StaffId(id), role: store::from_key(&role, "role")? };
        return Ok(Some((by, from_db(at)?, which)));
    }
    Ok(None)
}

/// A person's priority and category: an open thread whose category the
/// role may route; a new thread is triaged by it. Lowering a thread a person
/// made urgent needs a coded reason (the hub cannot read, so red flags are
/// checked on the workstation: `sealbox_model::triage::check`).
fn prioritise(
    thread: &ThreadRow,
    me: &StaffRef,
    decision: &TriageDecision,
    now: Timestamp,
) -> Result<ThreadState, Refusal> {
    if !thread.state.is_open() {
        return Err(RuleError::ThreadClosed.into());
    }
    let actor = Actor::Staff(me.clone());
    permitted(me, Action::Assign, thread.category)?;
    let current = thread.triage.as_ref().map_or(Priority::Routine, |t| t.decision.priority);
    triage::check(current, false, decision).map_err(|e| Refusal::Other("reason_required", e.to_string()))?;
    if matches!(thread.state, ThreadState::New) {
        return step(thread, &thread.state, ThreadAction::Triage, &actor, now);
    }
    Ok(thread.state.clone())
}

/// The permission matrix must let `me` do `action` on `category`.
fn permitted(me: &StaffRef, action: Action, category: Category) -> Result<(), Refusal> {
    if can(me.role, action, category) {
        Ok(())
    } else {
        Err(RuleError::Forbidden { actor: Actor::Staff(me.clone()).kind(), action, category }.into())
    }
}

/// A sealed message's id must not be taken.
fn message_id_free(conn: &dyn Sql, id: sealbox_model::ids::MessageId) -> Result<(), Refusal> {
    match store::find_envelope(conn, id).map_err(|e| Refusal::Other("storage", e.to_string()))? {
        Some(_) => Err(Refusal::Other("message_id_taken", "message_id is already used".into())),
        None => Ok(()),
    }
}

/// A thread is handed only to someone working here now (not disabled, with
/// an approved device not revoked, not away) under the role the practice
/// gave them: the role in the request is what the permission rule checks.
fn working_here_as(conn: &dyn Sql, person: &StaffRef, now: Timestamp) -> Result<(), Refusal> {
    let storage = |e: DbError| Refusal::Other("storage", e.to_string());
    let row = conn
        .query_opt(
            "SELECT s.role, s.away_until_us FROM staff s WHERE s.id = ?1 AND s.disabled_at_us IS NULL AND EXISTS (
                 SELECT 1 FROM devices d WHERE d.staff_id = s.id
                    AND d.approved_at_us IS NOT NULL AND d.revoked_at_us IS NULL)",
            args![person.id.0],
        )
        .map_err(storage)?;
    let row: Option<(String, Option<i64>)> =
        row.map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?))).transpose().map_err(storage)?;
    let away = row.as_ref().and_then(|(_, until)| *until).filter(|until| *until > to_db(now));
    if let Some(until) = away {
        let until = from_db(until).map_err(|e| Refusal::Other("storage", e.to_string()))?;
        return Err(Refusal::Other("away", format!("that colleague is away until {until}")));
    }
    match row.map(|(role, _)| role) {
        Some(role) if role == person.role.key() => Ok(()),
        Some(_) => Err(Refusal::Other("wrong_role", "that colleague has another role".into())),
        None => Err(Refusal::Other("unknown_staff", "no colleague by that id works here now".into())),
    }
}

/// Applies one action whose version matched; returns the new state.
fn decide(
    conn: &dyn Sql,
    thread: &ThreadRow,
    me: &StaffRef,
    op: &ActionOp,
    now: Timestamp,
) -> Result<ThreadState, Refusal> {
    let actor = Actor::Staff(me.clone());
    match op {
        ActionOp::Claim => claim(thread, me, now),
        ActionOp::Assign { to } => {
            let to = Assignee::from(to.clone());
            if let Assignee::Staff(person) = &to {
                working_here_as(conn, person, now)?;
            }
            step(thread, &thread.state, ThreadAction::Assign(to), &actor, now)
        }
        ActionOp::State { change } => step(thread, &thread.state, ThreadAction::from(*change), &actor, now),
        ActionOp::Note { message_id, envelope } => {
            permitted(me, Action::ReadFreeText, thread.category)?;
            // A note in the medication part is shared with whoever reads
            // medication parts (the pharmacy): a grant of its own.
            let header = EnvelopeHeader::parse(envelope.as_slice())
                .map_err(|e| Refusal::Other("invalid_envelope", e.to_string()))?;
            if header.parts.iter().any(|p| p.kind == PartKind::MedicationRequest) {
                permitted(me, Action::ShareIntoMedicationPart, thread.category)?;
            }
            message_id_free(conn, *message_id)?;
            Ok(thread.state.clone())
        }
        ActionOp::Reply { message_id, envelope } => {
            if !is_valid_wire_id(message_id.0) {
                return Err(Refusal::Other(
                    "invalid_message_id",
                    "message_id must be between 1 and 2^63-1".into(),
                ));
            }
            let len = envelope.as_slice().len();
            if len == 0 || len > MAX_ENVELOPE_BYTES {
                return Err(Refusal::Other(
                    "invalid_envelope",
                    format!("envelope must be 1 to {MAX_ENVELOPE_BYTES} bytes"),
                ));
            }
            if !thread.state.is_open() {
                return Err(RuleError::ThreadClosed.into());
            }
            permitted(me, Action::Reply, thread.category)?;
            message_id_free(conn, *message_id)?;
            Ok(thread.state.clone())
        }
        ActionOp::RefillDecision { decision, items } => {
            let next = refill(thread, me, *decision, now)?;
            if !items.is_empty() {
                // The request is sealed: places only. The decision as a
                // whole must follow from them, and a medicine not issued
                // needs the grant to reject as well.
                if sealbox_model::refill::overall(items, None)? != *decision {
                    return Err(RuleError::ItemDecisions.into());
                }
                if items.iter().any(|d| matches!(d.outcome, ItemOutcome::NotIssued { .. })) {
                    permitted(me, Action::RejectPrescription, thread.category)?;
                }
            }
            if !matches!(decision, RefillChoice::QueryPatient) {
                let earlier = earlier_decision(conn, thread.id)
                    .map_err(|e| Refusal::Other("storage", e.to_string()))?;
                if let Some((by, at, which)) = earlier {
                    return Err(Refusal::Other(
                        "already_decided",
                        format!("already {which} by {} {} at {at}", by.role.key(), by.id.0),
                    ));
                }
            }
            if matches!(decision, RefillChoice::Approve) {
                let unviewed =
                    unviewed_by(conn, thread.id, me).map_err(|e| Refusal::Other("storage", e.to_string()))?;
                if unviewed > 0 {
                    return Err(RuleError::UnviewedPatientMessages { unviewed }.into());
                }
            }
            Ok(next)
        }
        ActionOp::Prioritise { decision } => prioritise(thread, me, decision, now),
        ActionOp::Merge { into } => merge(conn, thread, me, *into, now),
    }
}

/// Closes `thread` as a repeat of `into`: the same patient and category,
/// `into` open, and the grant to close (a new thread is triaged first).
fn merge(
    conn: &dyn Sql,
    thread: &ThreadRow,
    me: &StaffRef,
    into: ThreadId,
    now: Timestamp,
) -> Result<ThreadState, Refusal> {
    let refuse = |detail: &str| Err(Refusal::Other("merge_refused", detail.to_owned()));
    if into == thread.id {
        return refuse("a thread cannot be merged into itself");
    }
    let Some(target) =
        store::load_thread(conn, into).map_err(|e| Refusal::Other("storage", e.to_string()))?
    else {
        return refuse("no such thread to merge into");
    };
    if target.patient_id != thread.patient_id {
        return refuse("the threads are not the same patient's");
    }
    if target.category != thread.category {
        return refuse("the threads are not of the same category");
    }
    if !target.state.is_open() || target.merged_into.is_some() {
        return refuse("the thread to merge into is closed");
    }
    if !thread.state.is_open() {
        return Err(RuleError::ThreadClosed.into());
    }
    permitted(me, Action::Close, thread.category)?;
    let actor = Actor::Staff(me.clone());
    let mut state = thread.state.clone();
    if matches!(state, ThreadState::New) {
        state = step(thread, &state, ThreadAction::Triage, &actor, now)?;
    }
    step(thread, &state, ThreadAction::Close, &actor, now)
}

/// How many of `thread`'s patient messages `me` has no `view` event for in
/// the audit trail the hub holds — recorded by one of `me`'s own devices
/// and naming `me` (pushed signed, verified at ingest). An approval needs none: the rule is enforced here, not only on
/// the desktop, so no API path records an approval without the views.
fn unviewed_by(conn: &dyn Sql, thread: ThreadId, me: &StaffRef) -> Result<usize, DbError> {
    let n: i64 = conn.query_value(
        "SELECT count(*) FROM envelopes e
             WHERE e.thread_id = ?1 AND e.sender_kind = 'patient'
               AND NOT EXISTS (SELECT 1 FROM audit_links a JOIN devices d ON d.id = a.device_id
                               WHERE d.staff_id = ?2 AND a.actor = ?2 AND a.action = 'view'
                                 AND a.object = CAST(e.message_id AS TEXT))",
        args![thread.0, me.id.0],
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// What applying a batch produced: the results and the changes to push.
#[derive(Debug, Default)]
pub struct Applied {
    /// One per action.
    pub results: Vec<ActionResult>,
    /// (seq, thread) of each stored change.
    pub changed: Vec<(u64, ThreadId)>,
}

fn apply_one(
    conn: &dyn Sql,
    me: &StaffRef,
    req: &ActionRequest,
    now: Timestamp,
    changed: &mut Vec<(u64, ThreadId)>,
) -> Result<ActionOutcome, DbError> {
    let request_hash =
        sha256(&serde_json::to_vec(req).map_err(|_| DbError::Corrupt { what: "action request" })?);
    let earlier = conn.query_opt(
        "SELECT request_sha256, result FROM idempotency WHERE user_id = ?1 AND key = ?2",
        args![me.id.0, req.idempotency_key.as_str()],
    )?;
    let earlier: Option<(Vec<u8>, String)> =
        earlier.map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?))).transpose()?;
    if let Some((hash, result)) = earlier {
        if hash == request_hash {
            return serde_json::from_str(&result).map_err(|_| DbError::Corrupt { what: "idempotent result" });
        }
        return Ok(ActionOutcome::Rejected {
            code: "idempotency_key_reused".into(),
            detail: "this idempotency key was used for a different action".into(),
        });
    }
    let outcome = match store::load_thread(conn, req.thread_id)? {
        None => ActionOutcome::Rejected { code: "not_found".into(), detail: "no such thread".into() },
        Some(thread) if thread.version != req.expected_version => ActionOutcome::Conflict {
            current_version: thread.version,
            changed_by: thread.updated_by.clone(),
            changed_at: thread.updated_at,
        },
        Some(thread) => match decide(conn, &thread, me, &req.op, now) {
            Err(refusal) => rejected(refusal),
            Ok(next) => {
                let version = thread.version.saturating_add(1);
                if let Some((message_id, envelope, internal)) = req.op.sealed_message() {
                    let seq = store::insert_envelope(
                        conn,
                        thread.id,
                        message_id,
                        Some(me),
                        envelope.as_slice(),
                        now,
                        internal,
                    )?;
                    changed.push((seq, thread.id));
                    // A message to the patient: tell them, blind.
                    if !internal {
                        crate::notice::queue(conn, &thread.patient_id, now)?;
                    }
                }
                match &req.op {
                    ActionOp::Prioritise { decision } => {
                        let set = TriageSet { decision: *decision, by: me.clone(), at: now };
                        store::set_triage(conn, thread.id, &set)?;
                    }
                    ActionOp::Merge { into } => store::set_merged_into(conn, thread.id, Some(*into))?,
                    ActionOp::State { change: StateOp::Reopen } if thread.merged_into.is_some() => {
                        store::set_merged_into(conn, thread.id, None)?;
                    }
                    _ => {}
                }
                store::save_threads(conn, &[&thread.clone().moved(next, now, Some(me.clone()))])?;
                let seq = store::insert_action(conn, thread.id, &LoggedOp::from(&req.op), me, version, now)?;
                changed.push((seq, thread.id));
                ActionOutcome::Applied { version, seq }
            }
        },
    };
    let stored = serde_json::to_string(&outcome).map_err(|_| DbError::Corrupt { what: "action outcome" })?;
    conn.execute(
        "INSERT INTO idempotency (user_id, key, request_sha256, result, at_us) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![me.id.0, req.idempotency_key.as_str(), request_hash, stored, to_db(now)],
    )?;
    Ok(outcome)
}

/// Applies a batch in one transaction.
pub fn apply_batch(
    conn: &dyn Sql,
    me: &StaffRef,
    batch: &ActionsRequest,
    now: Timestamp,
) -> Result<Applied, DbError> {
    let tx = store::begin_writes(conn)?;
    let mut applied = Applied::default();
    for req in &batch.actions {
        let outcome = apply_one(&tx, me, req, now, &mut applied.changed)?;
        applied.results.push(ActionResult { idempotency_key: req.idempotency_key.clone(), outcome });
    }
    tx.commit()?;
    Ok(applied)
}

/// A reply envelope's key-less facts, checked against the signer's device
/// and the practice inside the write.
struct ReplySeal {
    index: usize,
    sender: [u8; 32],
    practice: String,
}

fn validate(batch: &ActionsRequest) -> Result<Vec<ReplySeal>, ApiError> {
    let mut seals = Vec::new();
    if batch.actions.is_empty() || batch.actions.len() > MAX_ACTIONS_PER_BATCH {
        return Err(ApiError::field("actions", format!("must hold 1 to {MAX_ACTIONS_PER_BATCH} actions")));
    }
    for (i, a) in batch.actions.iter().enumerate() {
        if !is_valid_wire_id(a.thread_id.0) {
            return Err(ApiError::field(format!("actions[{i}].thread_id"), "must be between 1 and 2^63-1"));
        }
        if let Some((message_id, envelope, internal)) = a.op.sealed_message() {
            if !is_valid_wire_id(message_id.0) {
                return Err(ApiError::field(
                    format!("actions[{i}].op.message_id"),
                    "must be between 1 and 2^63-1",
                ));
            }
            let len = envelope.as_slice().len();
            if len == 0 || len > MAX_ENVELOPE_BYTES {
                return Err(ApiError::field(
                    format!("actions[{i}].op.envelope"),
                    format!("must be 1 to {MAX_ENVELOPE_BYTES} bytes"),
                ));
            }
            let field = format!("actions[{i}].op.envelope");
            let header = envelope_check::parse_for(envelope.as_slice(), a.thread_id.0, message_id.0, &field)?;
            envelope_check::no_patient_details(&header, &field)?;
            if internal {
                envelope_check::not_to_the_patient(&header, &field)?;
            }
            seals.push(ReplySeal { index: i, sender: header.sender.to_bytes(), practice: header.practice });
        }
        let dup = batch.actions[..i].iter().any(|b| b.idempotency_key == a.idempotency_key);
        if dup {
            return Err(ApiError::field(
                format!("actions[{i}].idempotency_key"),
                "repeated within the batch",
            ));
        }
    }
    Ok(seals)
}

/// Replies must be signed by the key the caller's device registered, for
/// this practice: a reply the patient could not trust is refused whole.
fn check_reply_signers(conn: &dyn Sql, device_id: &str, seals: &[ReplySeal]) -> Result<(), ApiError> {
    if seals.is_empty() {
        return Ok(());
    }
    let key: Option<Vec<u8>> =
        match conn.query_opt("SELECT ed25519_public FROM devices WHERE id = ?1", args![device_id])? {
            Some(row) => row.get(0)?,
            None => None,
        };
    for seal in seals {
        let field = format!("actions[{}].op.envelope", seal.index);
        envelope_check::check_practice(conn, &seal.practice, &field)?;
        match &key {
            None => return Err(ApiError::field(field, "upload this device's keys before replying")),
            Some(k) if k.as_slice() != seal.sender => {
                return Err(ApiError::field(field, "not signed by this device's registered key"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// `POST /v1/actions`.
pub async fn post_actions(
    State(state): State<AppState>,
    who: Principal,
    StrictJson(batch): StrictJson<ActionsRequest>,
) -> Result<Json<ActionsResponse>, ApiError> {
    let seals = validate(&batch)?;
    let now = state.now();
    let me = who.staff.clone();
    let device = who.device_id.clone();
    let applied = state
        .db
        .call(move |conn| {
            check_reply_signers(conn, &device, &seals)?;
            apply_batch(conn, &me, &batch, now).map_err(ApiError::from)
        })
        .await?;
    for (seq, thread) in &applied.changed {
        state.events.changed(*seq, *thread);
    }
    Ok(Json(ActionsResponse { results: applied.results }))
}
