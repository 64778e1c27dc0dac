//! Opening a thread: the messages as plain text, and the record that this
//! clinician viewed each patient message — a `views` row and a chained
//! audit event `view`, in the same transaction — before anything is shown.
//! Claiming it: through the outbox (queued with its effect and audit).

use sealbox_model::actor::{Actor, StaffRef};
use sealbox_model::api::ThreadChange;
use sealbox_model::api::{
    AttachmentLine, IdentityChange, MessageLine, OtherThreadLine, RepeatLine, TemplateLine, ThreadView,
};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::hub_api::{ActionOp, IdempotencyKey};
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{Author, Message, MessagePart};
use sealbox_model::patient::Representative;
use sealbox_model::permissions::{can, Action};
use sealbox_model::reply_templates::{self, Placeholders};
use sealbox_model::sharing::reaches_pharmacy_only_shared;
use sealbox_model::thread_state::{transition, Assignee, ThreadAction, ThreadRef, ThreadState};
use sealbox_model::undo::{LastAction, Undoable};

use super::{refill, triage, Desk, WorkstationError};
use crate::audit;
use crate::status::shown_time;
use crate::store::queries::MessageView;
use crate::store::StoreError;
use crate::sync::outbox;

impl Desk {
    /// Opens `thread` for the clinician at `now`; `None` if the cache has no
    /// such thread. Each patient message not yet viewed by this clinician
    /// is recorded as viewed (and audited) first.
    pub fn open_thread(
        &self,
        thread: ThreadId,
        now: Timestamp,
    ) -> Result<Option<ThreadView>, WorkstationError> {
        let me = StaffId(self.profile.user_id.clone());
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let Some(mut detail) = store.thread(thread)? else { return Ok(None) };
        // Repeat requests merged into this one are read with it.
        let mut merged = Vec::new();
        for id in store.merged_in(thread)? {
            if let Some(d) = store.thread(id)? {
                merged.push(d);
            }
        }
        let mut written_by = store.written_by(thread)?;
        for d in &merged {
            written_by.extend(store.written_by(d.thread.id)?);
        }
        let unseen: Vec<_> = std::iter::once(&detail)
            .chain(&merged)
            .flat_map(|d| {
                d.thread
                    .messages
                    .iter()
                    .filter(|m| m.author == Author::Patient)
                    .filter(|m| !d.views.iter().any(|v| v.message == m.id && v.staff == me))
            })
            .map(|m| m.id)
            .collect();
        if !unseen.is_empty() {
            store.write(|w| {
                for id in &unseen {
                    w.record_view(*id, &me, now)?;
                    audit::append(w, now, &me.0, "view", &id.0.to_string())?;
                }
                Ok::<_, StoreError>(())
            })?;
            // What was just written, without reading the thread again.
            let seen =
                |id: &sealbox_model::ids::MessageId| MessageView { message: *id, staff: me.clone(), at: now };
            for d in std::iter::once(&mut detail).chain(merged.iter_mut()) {
                let ids: Vec<_> =
                    d.thread.messages.iter().map(|m| m.id).filter(|id| unseen.contains(id)).collect();
                d.views.extend(ids.iter().map(seen));
            }
        }
        let repeat = store.duplicate_link(thread)?;
        let others = store.open_threads_of(&detail.patient.id, thread)?;
        drop(store);
        let staff = self.staff()?;
        let tz = uk_time_zone().map_err(|_| WorkstationError::Rules)?;
        let shown = |t: Timestamp| shown_time(t, &tz);
        let today = now.to_zoned(tz.clone()).date();
        let line_of = |m: &Message, views: &[MessageView], merged_from: String| {
            let mut line = MessageLine {
                id: m.id.0.to_string(),
                from: match &m.author {
                    Author::Patient => "Patient".to_owned(),
                    Author::Clinician(s) | Author::Note(s) => staff.shown(s),
                    Author::System => "Sealbox".to_owned(),
                },
                received_shown: shown(m.received_at),
                text: String::new(),
                medicines: Vec::new(),
                attachments: Vec::new(),
                viewed_by: views
                    .iter()
                    .filter(|v| v.message == m.id)
                    .map(|v| format!("{} at {}", staff.shown(&v.staff), shown(v.at)))
                    .collect(),
                note: matches!(m.author, Author::Note(_)),
                written_by: written_by.get(&m.id).map(Representative::sentence).unwrap_or_default(),
                merged_from,
            };
            for part in &m.parts {
                match part {
                    MessagePart::FreeText(t) => line.text.push_str(t.reveal()),
                    MessagePart::MedicationRequest(r) => {
                        line.medicines.extend(r.items.iter().map(|i| i.reveal().to_owned()));
                        for n in &r.shared_notes {
                            if !line.text.is_empty() {
                                line.text.push_str("\n\n");
                            }
                            line.text.push_str("Shared with the pharmacy: ");
                            line.text.push_str(n.text.reveal());
                        }
                    }
                    MessagePart::Attachment(a) => line.attachments.push(AttachmentLine {
                        id: a.id.0.clone(),
                        media_type: a.media_type.clone(),
                        label: a.label(),
                        image: a.is_inline_image(),
                    }),
                }
            }
            (m.received_at, line)
        };
        let mut messages: Vec<(Timestamp, MessageLine)> =
            detail.thread.messages.iter().map(|m| line_of(m, &detail.views, String::new())).collect();
        for d in &merged {
            let first = d.thread.messages.first().map(|m| shown(m.received_at)).unwrap_or_default();
            let from = format!("From the repeat request received {first}, merged into this thread");
            messages.extend(d.thread.messages.iter().map(|m| line_of(m, &d.views, from.clone())));
        }
        messages.sort_by_key(|(at, _)| *at);
        let messages: Vec<MessageLine> = messages.into_iter().map(|(_, l)| l).collect();
        let t = &detail.thread;
        let first_name = detail.patient.display_name.reveal().split_whitespace().next().map(str::to_owned);
        let values =
            Placeholders { first_name, medicine: refill::latest_request(&t.messages).map(refill::names) };
        let templates = reply_templates::offered(t.category, &values)
            .into_iter()
            .map(|(t, text)| TemplateLine { key: t.key.to_owned(), label: t.label.to_owned(), text })
            .collect();
        let (draft, refill, change) = {
            let store = crate::sync::lock(&shared);
            let draft = store.draft(thread)?.map(|d| d.reveal().to_owned()).unwrap_or_default();
            let change = store.pending_patient_change(&detail.patient.id)?.map(|(_, p)| IdentityChange {
                patient: p.display_name.reveal().to_owned(),
                date_of_birth: p.date_of_birth.reveal().strftime("%-d %b %Y").to_string(),
                nhs_number: nhs_shown(p.nhs_number.as_ref()),
            });
            (draft, self.refill_panel(&store, &detail, now, &tz)?, change)
        };
        let flags = triage::flag_lines(&self.rules().red_flags, &detail.thread);
        let decided = crate::sync::lock(&shared).triage_facts(thread)?.and_then(|f| f.set);
        let triage = decided.map(|set| triage::triage_line(&set, !flags.is_empty(), &staff, &tz));
        Ok(Some(ThreadView {
            thread: t.id.0.to_string(),
            category: t.category.key().to_owned(),
            priority: t.priority.key().to_owned(),
            state: t.state.kind().key().to_owned(),
            patient: detail.patient.display_name.reveal().to_owned(),
            age: detail.patient.date_of_birth.age_on(today),
            nhs_number: nhs_shown(detail.patient.nhs_number.as_ref()),
            messages,
            latest_received: t
                .messages
                .iter()
                .filter(|m| m.author == Author::Patient)
                .map(|m| m.received_at)
                .max()
                .map(|at| at.to_string())
                .unwrap_or_default(),
            can_reply: t.state.is_open() && can(self.profile.role, Action::Reply, t.category),
            templates,
            draft,
            refill,
            identity_change: change,
            flags,
            triage,
            can_triage: t.state.is_open() && can(self.profile.role, Action::Assign, t.category),
            holder: match holder_of(&t.state) {
                Some(s) if s.id == me => "You".to_owned(),
                Some(s) => staff.shown(&s.id),
                None => String::new(),
            },
            hand_to: if t.state.is_open() { self.hand_options(t.category, &staff) } else { Vec::new() },
            can_note: can(self.profile.role, Action::ReadFreeText, t.category),
            can_share: can(self.profile.role, Action::ShareIntoMedicationPart, t.category)
                && can(self.profile.role, Action::ReadFreeText, t.category)
                && reaches_pharmacy_only_shared(t),
            can_reinvite: self.profile.role.may_invite_patients(),
            repeat_of: repeat.map(|(of, why)| RepeatLine {
                thread: of.0.to_string(),
                reason: why.words().to_owned(),
                can_merge: t.state.is_open() && can(self.profile.role, Action::Close, t.category),
            }),
            patient_open: others
                .into_iter()
                .map(|o| OtherThreadLine {
                    thread: o.id.0.to_string(),
                    category: o.category.key().to_owned(),
                    state: o.state,
                    received_shown: shown(o.received),
                })
                .collect(),
        }))
    }

    /// The clinician has checked the details a newer message gave for
    /// `thread`'s patient against the patient's record and confirms them:
    /// they replace the details held (audited as `confirm_patient_details`).
    /// False when no change was waiting.
    pub fn confirm_patient_details(
        &self,
        thread: ThreadId,
        now: Timestamp,
    ) -> Result<bool, WorkstationError> {
        let me = self.profile.user_id.clone();
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let Some(detail) = store.thread(thread)? else { return Ok(false) };
        let Some((change, _)) = store.pending_patient_change(&detail.patient.id)? else { return Ok(false) };
        let object = format!("thread {}", thread.0);
        Ok(store.write(|w| {
            let applied = w.confirm_patient_change(change)?.is_some();
            if applied {
                audit::append(w, now, &me, "confirm_patient_details", &object)?;
            }
            Ok::<_, StoreError>(applied)
        })?)
    }
}

impl Desk {
    /// Claims `thread` for this clinician: queued in the outbox with its
    /// local effect (in progress with me) and its audit event, in one
    /// transaction; the caller sends it (`sync::outbox::send`). False if
    /// the same claim is already queued.
    pub fn claim(&self, thread: ThreadId, now: Timestamp) -> Result<bool, WorkstationError> {
        let me = self.me();
        let key = action_key("claim", thread)?;
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        Ok(outbox::queue(&mut store, &me, thread, ActionOp::Claim, key, now)?)
    }
}

/// Who holds a thread in `state` (none while it waits in a queue).
fn holder_of(state: &ThreadState) -> Option<&StaffRef> {
    match state {
        ThreadState::InProgress { by } => Some(by),
        ThreadState::AwaitingPatient { owner } => Some(owner),
        ThreadState::Assigned { to: Assignee::Staff(s) } => Some(s),
        _ => None,
    }
}

/// A fresh idempotency key for an action of `kind` on `thread`.
pub(super) fn action_key(kind: &str, thread: ThreadId) -> Result<IdempotencyKey, WorkstationError> {
    IdempotencyKey::new(format!("{kind}-{}-{}", thread.0, random_token())).map_err(|_| {
        WorkstationError::Hub(crate::sync::SyncError::Protocol("an idempotency key was refused"))
    })
}

fn random_token() -> String {
    sealbox_crypto::secret::random_bytes::<12>().iter().map(|b| format!("{b:02x}")).collect()
}

impl Desk {
    /// Closes, reopens, awaits the patient or sets the priority of
    /// `thread`, if sealbox-model's life-cycle rules allow it for this
    /// clinician now: queued with its local effect and audit event; the
    /// caller sends the outbox (the hub applies the same rules).
    pub fn change(
        &self,
        thread: ThreadId,
        change: ThreadChange,
        now: Timestamp,
    ) -> Result<(), WorkstationError> {
        let me = self.me();
        let (op, action) = match change {
            ThreadChange::Prioritise { decision } => return self.prioritise(thread, decision, now),
            ThreadChange::State { change } => (ActionOp::State { change }, ThreadAction::from(change)),
        };
        let shared = self.store();
        let mut store = crate::sync::lock(&shared);
        let detail = store.thread(thread)?.ok_or(refill::RefillError::NoSuchThread)?;
        let t = &detail.thread;
        let (next, _) = transition(
            ThreadRef { id: t.id, category: t.category },
            &t.state,
            &action,
            &Actor::Staff(me.clone()),
            now,
        )?;
        let key = action_key("change", thread)?;
        outbox::queue_with(&mut store, &me, thread, op, key, now, |w| {
            w.set_thread_state(thread, &next, now)
        })?;
        if action == ThreadAction::Close {
            let (before, category) = (t.state.clone(), t.category);
            self.remember(Some(LastAction { thread, what: Undoable::Close, before, category, at: now }));
        }
        Ok(())
    }
}

/// The NHS number as the clinician reads it, or that the patient gave none.
fn nhs_shown(nhs: Option<&sealbox_model::nhs_number::NhsNumber>) -> String {
    nhs.map_or_else(|| "not given".to_owned(), |n| n.reveal_formatted())
}
