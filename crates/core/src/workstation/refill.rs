//! Refill review: the panel of a repeat prescription request (what was
//! asked for, the patient's earlier requests, whether sealbox-model's rule
//! allows a decision now and why not) and the decision itself. The rule is
//! sealbox-model's `refill` module, run here against the cache's view log;
//! the hub checks the views again on approval, and refuses a second
//! decision on the same request. The patient is always told: the note, or
//! the practice's wording for the outcome, as a sealed reply queued after
//! the decision; then the thread is closed.

use sealbox_model::actor::Actor;
use sealbox_model::api::{AnswerLine, ReasonLine, RefillPanel, RequestedItem, ThreadChange};
use sealbox_model::category::Category;
use sealbox_model::error::RuleError;
use sealbox_model::hub_api::{ActionOp, ItemDecision, ItemOutcome, RefillChoice, StateOp};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::tz::TimeZone;
use sealbox_model::jiff::Timestamp;
use sealbox_model::medicine;
use sealbox_model::message::{Author, FreeText, MedicationRequest, Message, MessagePart};
use sealbox_model::refill::{self, RefillContext, RefillWarning, RejectionReason, ViewLog};
use sealbox_model::reply_templates::{self, Placeholders};
use sealbox_model::thread_state::{ThreadRef, ThreadState};

use super::{Desk, WorkstationError};
use crate::store::queries::ThreadDetail;
use crate::store::{Store, StoreError};
use crate::sync::outbox;

/// Earlier requests listed on the panel.
const HISTORY: u32 = 10;

/// Why a decision was not queued. Nothing here carries patient data.
#[derive(Debug, thiserror::Error)]
pub enum RefillError {
    /// sealbox-model's rule refused it.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The thread is not cached.
    #[error("that thread is not in this workstation's cache")]
    NoSuchThread,
    /// Querying the patient needs the question to ask.
    #[error("write the question to the patient before sending the query")]
    QuestionRequired,
    /// The practice has no wording for this decision here (the request
    /// names no medicine): the patient must be told in a note.
    #[error("write a note to the patient: every decision is told to the patient")]
    NoteRequired,
}

/// The medication request of the patient's latest message that has one.
pub fn latest_request(messages: &[Message]) -> Option<&MedicationRequest> {
    messages.iter().rev().filter(|m| m.author == Author::Patient).flat_map(|m| &m.parts).find_map(|p| match p
    {
        MessagePart::MedicationRequest(r) if !r.items.is_empty() => Some(r),
        _ => None,
    })
}

fn context<'a>(detail: &'a ThreadDetail, views: &'a ViewLog) -> RefillContext<'a> {
    let t = &detail.thread;
    RefillContext {
        thread: ThreadRef { id: t.id, category: t.category },
        state: &t.state,
        messages: &t.messages,
        views,
        // Review dates live in the clinical record, not in Sealbox.
        review_due: None,
    }
}

fn view_log(detail: &ThreadDetail) -> ViewLog {
    let mut log = ViewLog::new();
    for v in &detail.views {
        log.record(v.message, v.staff.clone());
    }
    log
}

impl Desk {
    /// The refill panel of `detail` (none unless it is a repeat
    /// prescription request), as the rule stands at `now`.
    pub(super) fn refill_panel(
        &self,
        store: &Store,
        detail: &ThreadDetail,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<Option<RefillPanel>, StoreError> {
        let t = &detail.thread;
        if t.category != Category::RepeatPrescription {
            return Ok(None);
        }
        let items: Vec<RequestedItem> = latest_request(&t.messages)
            .map(|r| {
                r.items
                    .iter()
                    .enumerate()
                    .map(|(n, i)| {
                        let p = medicine::split(i.reveal());
                        // The patient's answers to the practice's renewal
                        // questions about this medicine, beside it.
                        let answers = r
                            .answers
                            .iter()
                            .filter(|a| usize::from(a.item) == n)
                            .map(|a| AnswerLine { question: a.question.clone(), answer: a.answer.clone() })
                            .collect();
                        RequestedItem {
                            text: i.reveal().to_owned(),
                            name: p.name,
                            strength: p.strength,
                            form: p.form,
                            quantity: p.quantity,
                            answers,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut history = Vec::new();
        // Each earlier request's medicines by name, for the warnings.
        let mut earlier = Vec::new();
        for (id, at, state) in store.patient_threads(&detail.patient.id, t.category, t.id, HISTORY)? {
            let request = store.thread(id)?.and_then(|d| latest_request(&d.thread.messages).cloned());
            let asked = request.as_ref().map(names).unwrap_or_else(|| "no medicine named".to_owned());
            let day = at.to_zoned(tz.clone()).strftime("%-d %b %Y").to_string();
            history.push(format!("{day} · {asked} · {}", state.replace('_', " ")));
            let listed = request.iter().flat_map(|r| &r.items).map(|i| medicine::split(i.reveal()).name);
            earlier.push((at, listed.collect()));
        }
        let views = view_log(detail);
        let ctx = context(detail, &views);
        let actor = Actor::Staff(self.me());
        // What the rule computes on approval (a review overdue) and what the
        // request's medicines call for: shown, never dropped.
        let named: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
        let approval = refill::approve(&ctx, &actor, now);
        let (mut warnings, approve_blocked): (Vec<RefillWarning>, _) = match approval {
            Ok(outcome) => (outcome.warnings, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        warnings.extend(refill::item_warnings(&named, &earlier, now));
        Ok(Some(RefillPanel {
            warnings: warnings.iter().map(|w| w.words(&named)).collect(),
            items,
            history,
            review: "No medication review date is held in Sealbox: check the clinical record.".to_owned(),
            approve_blocked,
            decide_blocked: refill::reject(&ctx, &actor, RejectionReason::TooEarly, None, now)
                .err()
                .map(|e| e.to_string()),
            reasons: RejectionReason::ALL
                .iter()
                .map(|r| ReasonLine { key: r.to_string(), label: r.label().to_owned() })
                .collect(),
        }))
    }

    /// Decides the repeat prescription request on `thread` if the rule
    /// allows it now, and tells the patient: queued with its audit event,
    /// then `note` as a sealed reply — for an approval or a rejection
    /// without a note, the practice's wording for the outcome or the coded
    /// reason (`reply_templates::decision_reply`) — then, for an approval
    /// or a rejection, the thread is closed: a colleague finds it decided
    /// (the hub refuses a second decision). A query shows the thread as
    /// awaiting the patient at once. The caller sends the outbox; if the
    /// hub refuses the reply, the close is not applied either.
    pub fn decide_refill(
        &self,
        thread: ThreadId,
        choice: RefillChoice,
        note: &str,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        self.decide(thread, choice, &[], note, now)
    }

    /// Decides a request that lists several medicines one by one (each
    /// listed medicine exactly once, and `choice` what they make as a
    /// whole: `refill::overall`), as [`Desk::decide_refill`] does: checked
    /// by the rule for each outcome present; without a note the patient is
    /// told of each medicine in the practice's words.
    pub fn decide_refill_items(
        &self,
        thread: ThreadId,
        choice: RefillChoice,
        items: &[ItemDecision],
        note: &str,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        if items.is_empty() {
            return Err(RefillError::Rule(RuleError::ItemDecisions).into());
        }
        self.decide(thread, choice, items, note, now)
    }

    fn decide(
        &self,
        thread: ThreadId,
        choice: RefillChoice,
        items: &[ItemDecision],
        note: &str,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        let me = self.me();
        let actor = Actor::Staff(me.clone());
        let note = note.trim();
        if note.chars().count() > super::reply::MAX_REPLY_CHARS {
            return Err(super::reply::ReplyError::TooLong.into());
        }
        let told = {
            let shared = self.store();
            let mut store = crate::sync::lock(&shared);
            let detail = store.thread(thread)?.ok_or(RefillError::NoSuchThread)?;
            let request = latest_request(&detail.thread.messages);
            // Decided one by one: every medicine of the request once, making `choice` as a whole.
            if !items.is_empty() {
                let listed = request.map_or(0, |r| r.items.len());
                if refill::overall(items, Some(listed)).map_err(RefillError::from)? != choice {
                    return Err(RefillError::Rule(RuleError::ItemDecisions).into());
                }
            }
            let views = view_log(&detail);
            let ctx = context(&detail, &views);
            let shown = match choice {
                RefillChoice::Approve => refill::approve(&ctx, &actor, now).map(|_| None),
                RefillChoice::Reject { reason } => {
                    let note = (!note.is_empty()).then(|| FreeText::new(note));
                    refill::reject(&ctx, &actor, reason, note, now).map(|_| None)
                }
                RefillChoice::QueryPatient => {
                    if note.is_empty() {
                        return Err(RefillError::QuestionRequired.into());
                    }
                    refill::query_patient(&ctx, &actor, now).map(|(state, _)| Some(state))
                }
            }
            .map_err(RefillError::from)?;
            // A medicine not issued is a rejection, whatever the others:
            // the rule for it applies too ("other" needs a note).
            for reason in items.iter().filter_map(|d| match d.outcome {
                ItemOutcome::NotIssued { reason } => Some(reason),
                ItemOutcome::Issue => None,
            }) {
                let note = (!note.is_empty()).then(|| FreeText::new(note));
                refill::reject(&ctx, &actor, reason, note, now).map_err(RefillError::from)?;
            }
            let told = if note.is_empty() {
                let first_name = detail.patient.display_name.reveal().split_whitespace().next();
                let said = if items.is_empty() {
                    let values = Placeholders {
                        first_name: first_name.map(str::to_owned),
                        medicine: request.map(names),
                    };
                    reply_templates::decision_reply(choice, &values)
                } else {
                    let listed: Vec<String> = request
                        .map(|r| r.items.iter().map(|i| i.reveal().to_owned()).collect())
                        .unwrap_or_default();
                    reply_templates::items_reply(items, &listed, first_name)
                };
                said.ok_or(RefillError::NoteRequired)?
            } else {
                note.to_owned()
            };
            // The reply must be able to follow the decision: asked before
            // the decision is queued, so one is never sent without the other.
            self.reply_recipients(&store, thread)?;
            // A decision on a new request triages it (as the hub does).
            let shown = shown
                .or_else(|| matches!(detail.thread.state, ThreadState::New).then_some(ThreadState::Triaged));
            let key = super::thread::action_key("refill", thread)?;
            let op = ActionOp::RefillDecision { decision: choice, items: items.to_vec() };
            outbox::queue_with(&mut store, &me, thread, op, key, now, |w| match &shown {
                Some(state) => w.set_thread_state(thread, state, now),
                None => Ok(()),
            })?;
            told
        };
        self.reply(thread, &told, now)?;
        if !matches!(choice, RefillChoice::QueryPatient) {
            let close = ThreadChange::State { change: StateOp::Close };
            self.change(thread, close, now)?;
        }
        Ok(())
    }
}

/// "Ramipril 5mg capsules and Atorvastatin 20mg tablets".
pub fn names(request: &MedicationRequest) -> String {
    let items: Vec<&str> = request.items.iter().map(|i| i.reveal()).collect();
    reply_templates::and_list(&items)
}
