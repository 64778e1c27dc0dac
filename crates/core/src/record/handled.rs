//! A thread in the cache as the record gets it (`sealbox_record::thread`):
//! the patient's messages and the practice's replies (internal notes and
//! Sealbox's own lines stay out: they are not what was said to the
//! patient), the red flags the rules in force raise and a person's
//! decision that lowered them, and the refill decision made here. Photos
//! are named here and fetched by the sender (they live at the hub).

use sealbox_model::hub_api::{ItemOutcome, RefillChoice, StaffDirectory};
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::medicine;
use sealbox_model::message::{AttachmentRef, Author, MessagePart};
use sealbox_model::priority::Priority;
use sealbox_model::red_flags::RedFlagDetector;
use sealbox_model::registration::Registration;
use sealbox_model::thread_state::{Assignee, ThreadState};
use sealbox_record::thread::{
    Clinician, HandledThread, Medicine, Message, Overrule, RedFlag, Refill, Saved, Sender,
};

use super::SaveToRecordError;
use crate::store::queries::ThreadDetail;
use crate::store::record::{RefillDecided, SaveRow};
use crate::store::triage::TriageFacts;
use crate::workstation::refill::latest_request;

/// Who is saving, and where.
pub(crate) struct Here<'a> {
    /// The practice's id at its hub.
    pub practice: &'a str,
    /// The enrolment's device id.
    pub workstation: &'a str,
    /// The clinician unlocked here.
    pub me: &'a StaffId,
    /// Their registration (the directory does not hold colleagues').
    pub my_registration: Option<&'a Registration>,
    /// The practice's staff.
    pub staff: &'a StaffDirectory,
    /// The red-flag rules in force.
    pub detector: &'a RedFlagDetector,
}

impl Here<'_> {
    fn clinician(&self, id: &StaffId) -> Clinician {
        let entry = self.staff.staff.iter().find(|s| &s.id == id);
        Clinician {
            staff_id: id.0.clone(),
            name: entry.map_or_else(|| id.0.clone(), |s| s.name.clone()),
            role: entry.map(|s| s.role),
            registration: if id == self.me { self.my_registration.cloned() } else { None },
        }
    }
}

/// A photo of message `message` (its place in [`HandledThread::messages`]).
pub(crate) struct PhotoToFetch {
    pub message: usize,
    pub reference: AttachmentRef,
}

/// What was found in the cache for one thread.
pub(crate) struct Found<'a> {
    pub detail: &'a ThreadDetail,
    pub facts: Option<&'a TriageFacts>,
    pub decided: Option<&'a RefillDecided>,
    pub save: &'a SaveRow,
}

/// `found` as the record gets it, and the photos to fetch into it.
pub(crate) fn handled(
    found: &Found<'_>,
    here: &Here<'_>,
) -> Result<(HandledThread, Vec<PhotoToFetch>), SaveToRecordError> {
    let detail = found.detail;
    let thread = &detail.thread;
    let nhs_number = detail.patient.nhs_number.clone().ok_or(SaveToRecordError::NoNhsNumber)?;
    let mut messages = Vec::new();
    let mut photos = Vec::new();
    for m in &thread.messages {
        let from = match &m.author {
            Author::Patient => Sender::Patient,
            Author::Clinician(s) => Sender::Staff(here.clinician(s)),
            Author::Note(_) | Author::System => continue,
        };
        let mut text = m.free_text().reveal().to_owned();
        for part in &m.parts {
            match part {
                MessagePart::MedicationRequest(r) if !r.items.is_empty() => {
                    let items: Vec<&str> = r.items.iter().map(|i| i.reveal()).collect();
                    if !text.is_empty() {
                        text.push_str("\n\n");
                    }
                    text.push_str("Medicines requested: ");
                    text.push_str(&items.join("; "));
                }
                MessagePart::Attachment(a) if a.is_inline_image() => {
                    photos.push(PhotoToFetch { message: messages.len(), reference: a.clone() });
                }
                _ => {}
            }
        }
        messages.push(Message { id: m.id.0, from, sent: m.received_at, text, photos: Vec::new() });
    }
    let opened = thread
        .messages
        .iter()
        .find(|m| m.is_from_patient())
        .or(thread.messages.first())
        .map_or(found.save.queued_at, |m| m.received_at);
    let owner = match &thread.state {
        ThreadState::InProgress { by } | ThreadState::AwaitingPatient { owner: by } => Some(&by.id),
        ThreadState::Assigned { to: Assignee::Staff(to) } => Some(&to.id),
        _ => None,
    }
    .map(|id| here.clinician(id));
    Ok((
        HandledThread {
            practice: here.practice.to_owned(),
            thread: thread.id.0,
            nhs_number,
            category: thread.category,
            priority: thread.priority,
            closed: thread.state == ThreadState::Closed,
            owner,
            opened,
            messages,
            red_flags: red_flags(found, here),
            refill: refill(found),
            saved: Saved {
                by: here.clinician(&found.save.queued_by),
                workstation: here.workstation.to_owned(),
                at: found.save.queued_at,
                audit_link: found.save.audit_hash.clone(),
            },
        },
        photos,
    ))
}

/// Each rule the patient's messages raise, once; lowered when a person
/// set the thread below urgent (who, and their coded reason).
fn red_flags(found: &Found<'_>, here: &Here<'_>) -> Vec<RedFlag> {
    let lowered =
        found.facts.and_then(|f| f.set.as_ref()).filter(|set| set.decision.priority != Priority::Urgent);
    let mut rules: Vec<String> = Vec::new();
    for m in found.detail.thread.messages.iter().filter(|m| m.is_from_patient()) {
        for flag in here.detector.assess(m.free_text().reveal()).flags {
            if !rules.contains(&flag.label) {
                rules.push(flag.label);
            }
        }
    }
    rules
        .into_iter()
        .map(|rule| RedFlag {
            rule,
            overruled: lowered.map(|set| Overrule {
                by: here.clinician(&set.by.id),
                reason: set.decision.reason.map(|r| r.label().to_owned()).unwrap_or_default(),
            }),
        })
        .collect()
}

/// The medicines of the request, split as the refill review shows them.
fn medicines(found: &Found<'_>, issued: impl Fn(usize) -> bool) -> Vec<Medicine> {
    latest_request(&found.detail.thread.messages)
        .map(|r| {
            r.items
                .iter()
                .enumerate()
                .filter(|(n, _)| issued(*n))
                .map(|(_, item)| {
                    let parts = medicine::split(item.reveal());
                    Medicine {
                        name: parts.name,
                        strength: parts.strength.unwrap_or_default(),
                        form: parts.form.unwrap_or_default(),
                        quantity: parts
                            .quantity
                            .and_then(|q| q.trim_start_matches(['x', 'X', '\u{d7}']).parse().ok()),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The refill decision made here; a request decided elsewhere (or not
/// yet) is written as undecided: the Task's status still says closed.
fn refill(found: &Found<'_>) -> Option<Refill> {
    if found.detail.thread.category != sealbox_model::category::Category::RepeatPrescription {
        return None;
    }
    let Some(decided) = found.decided else { return Some(Refill::Undecided) };
    if decided.items.is_empty() {
        return Some(match decided.decision {
            RefillChoice::Approve => Refill::Approved(medicines(found, |_| true)),
            RefillChoice::Reject { reason } => Refill::Rejected { reason, note: None },
            RefillChoice::QueryPatient => Refill::Undecided,
        });
    }
    let issued: Vec<usize> = decided
        .items
        .iter()
        .filter(|d| d.outcome == ItemOutcome::Issue)
        .map(|d| usize::from(d.item))
        .collect();
    if issued.is_empty() {
        let reason = decided.items.iter().find_map(|d| match d.outcome {
            ItemOutcome::NotIssued { reason } => Some(reason),
            ItemOutcome::Issue => None,
        })?;
        return Some(Refill::Rejected { reason, note: None });
    }
    Some(Refill::Approved(medicines(found, |n| issued.contains(&n))))
}

/// Whose thread (for errors and audit: the id only).
pub(crate) fn object(thread: ThreadId) -> String {
    format!("thread {}", thread.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealbox_model::hub_api::{ItemDecision, StaffEntry};
    use sealbox_model::jiff::Timestamp;
    use sealbox_model::message::{MedicationRequest, MedicationText};
    use sealbox_model::refill::RejectionReason;
    use sealbox_model::role::Role;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + s).unwrap()
    }

    fn request_thread() -> ThreadDetail {
        let patient = crate::store::testutil::patient("pt-7", "Grace Okonkwo");
        let messages = vec![
            sealbox_model::message::Message {
                id: sealbox_model::ids::MessageId(70),
                author: Author::Patient,
                received_at: at(0),
                parts: vec![
                    MessagePart::FreeText(sealbox_model::message::FreeText::new("My usual please")),
                    MessagePart::MedicationRequest(MedicationRequest {
                        items: vec![
                            MedicationText::new("Amlodipine 5mg tablets x28"),
                            MedicationText::new("Salbutamol 100micrograms/dose inhaler"),
                        ],
                        shared_notes: Vec::new(),
                        answers: Vec::new(),
                    }),
                ],
            },
            sealbox_model::message::Message {
                id: sealbox_model::ids::MessageId(71),
                author: Author::Note(StaffId("gp-1".into())),
                received_at: at(60),
                parts: vec![MessagePart::FreeText(sealbox_model::message::FreeText::new("internal"))],
            },
            sealbox_model::message::Message {
                id: sealbox_model::ids::MessageId(72),
                author: Author::Clinician(StaffId("gp-1".into())),
                received_at: at(120),
                parts: vec![MessagePart::FreeText(sealbox_model::message::FreeText::new("Issued"))],
            },
        ];
        let thread = sealbox_model::message::Thread {
            id: ThreadId(7),
            patient: patient.id.clone(),
            category: sealbox_model::category::Category::RepeatPrescription,
            priority: Priority::Routine,
            state: ThreadState::Closed,
            messages,
        };
        ThreadDetail { thread, patient, views: Vec::new() }
    }

    #[test]
    fn a_refill_thread_maps_its_messages_decision_and_people() {
        let detail = request_thread();
        let save = SaveRow {
            queued_at: at(300),
            queued_by: StaffId("gp-1".into()),
            audit_hash: "ab".repeat(32),
            tries: 0,
            last_error: None,
            saved_at: None,
        };
        let staff = StaffDirectory {
            staff: vec![StaffEntry {
                id: StaffId("gp-1".into()),
                name: "Asha Rao".into(),
                role: Role::Gp,
                active: true,
                away_until: None,
            }],
        };
        let detector = RedFlagDetector::new().unwrap();
        let registration = Registration::parse("GMC 7012345").unwrap();
        let me = StaffId("gp-1".into());
        let here = Here {
            practice: "p1",
            workstation: "dev-1",
            me: &me,
            my_registration: Some(&registration),
            staff: &staff,
            detector: &detector,
        };
        let one_of_two = RefillDecided {
            decision: RefillChoice::Approve,
            items: vec![
                ItemDecision { item: 0, outcome: ItemOutcome::Issue },
                ItemDecision {
                    item: 1,
                    outcome: ItemOutcome::NotIssued { reason: RejectionReason::ReviewNeeded },
                },
            ],
        };
        let found = Found { detail: &detail, facts: None, decided: Some(&one_of_two), save: &save };
        let (thread, photos) = handled(&found, &here).unwrap();
        assert!(photos.is_empty());
        assert_eq!(thread.messages.len(), 2, "the internal note stays out");
        assert!(thread.messages[0].text.contains("Medicines requested: Amlodipine 5mg tablets x28"));
        assert!(matches!(&thread.messages[1].from, Sender::Staff(c) if c.name == "Asha Rao"
            && c.registration.as_ref().map(Registration::as_str) == Some("GMC 7012345")));
        let Some(Refill::Approved(issued)) = &thread.refill else { panic!("approved") };
        assert_eq!(issued.len(), 1, "only what was issued");
        assert_eq!(
            (
                issued[0].name.as_str(),
                issued[0].strength.as_str(),
                issued[0].form.as_str(),
                issued[0].quantity
            ),
            ("Amlodipine", "5mg", "tablets", Some(28))
        );
        assert!(thread.closed && thread.saved.at == at(300) && thread.saved.audit_link == "ab".repeat(32));

        let none_issued = RefillDecided {
            decision: RefillChoice::Reject { reason: RejectionReason::ReviewNeeded },
            items: Vec::new(),
        };
        let found = Found { decided: Some(&none_issued), ..found };
        assert!(matches!(
            handled(&found, &here).unwrap().0.refill,
            Some(Refill::Rejected { reason: RejectionReason::ReviewNeeded, .. })
        ));
        let found = Found { decided: None, ..found };
        assert!(matches!(handled(&found, &here).unwrap().0.refill, Some(Refill::Undecided)));

        let mut anonymous = detail.clone();
        anonymous.patient.nhs_number = None;
        let found = Found { detail: &anonymous, ..found };
        assert!(matches!(handled(&found, &here), Err(SaveToRecordError::NoNhsNumber)));
    }
}
