//! A handled thread as one FHIR R4 transaction Bundle, built with the
//! `fhir` crate's R4 models. Each entry is a conditional create
//! (`ifNoneExist` on our identifier), so saving the same thread twice
//! changes nothing in the record; entries name each other by stable
//! `urn:uuid`s, which the server replaces with the ids it gives.

use base64::Engine;
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{
    BundleType, EventStatus, HttpVerb, MedicationrequestIntent, MedicationrequestStatus,
    ProvenanceEntityRole, RequestPriority, TaskIntent, TaskStatus,
};
use fhir::r4::resources::bundle::{Bundle, BundleEntry, BundleEntryRequest};
use fhir::r4::resources::communication::{Communication, CommunicationPayload, CommunicationPayloadContent};
use fhir::r4::resources::medication_request::{
    MedicationRequest, MedicationRequestDispenseRequest, MedicationRequestMedication,
};
use fhir::r4::resources::provenance::{Provenance, ProvenanceAgent, ProvenanceEntity};
use fhir::r4::resources::task::{Task, TaskOutput, TaskOutputValue};
use fhir::r4::resources::Resource;
use fhir::r4::types::annotation::AnnotationAuthor;
use fhir::r4::types::{
    self, Annotation, Attachment, CodeableConcept, Coding, Identifier, Meta, Quantity, Reference,
};
use sealbox_model::jiff::Timestamp;
use sealbox_model::priority::Priority;

use crate::names::{self, entry_name};
use crate::thread::{Clinician, HandledThread, Refill, Sender};

/// Why a Bundle could not be made (no patient data in the text).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A thread with no message has nothing to save.
    #[error("the thread has no message to save")]
    Empty,
    /// The models would not encode (a bug, not bad input).
    #[error("the record could not be encoded: {0}")]
    Encode(String),
}

fn s(v: impl Into<String>) -> types::String {
    types::String(v.into())
}

fn uri(v: impl Into<String>) -> types::Uri {
    types::Uri(v.into())
}

fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn identifier(system: &str, value: impl Into<String>) -> Identifier {
    Identifier { system: Some(uri(system)), value: Some(s(value)), ..Default::default() }
}

fn coding(system: &str, code: &str, display: Option<&str>) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding {
            system: Some(uri(system)),
            code: Some(types::Code(code.to_owned())),
            display: display.map(s),
            ..Default::default()
        }],
        text: display.map(s),
        ..Default::default()
    }
}

fn profile(url: &str) -> Option<Meta> {
    Some(Meta { profile: vec![types::Canonical(url.to_owned())].into(), ..Default::default() })
}

fn to(urn: &str) -> Reference {
    Reference { reference: Some(s(urn)), ..Default::default() }
}

/// The patient, by NHS number: the record's own Patient, never one of ours.
fn patient(thread: &HandledThread) -> Reference {
    Reference {
        r#type: Some(uri("Patient")),
        identifier: Some(identifier(names::NHS_NUMBER, thread.nhs_number.reveal())),
        ..Default::default()
    }
}

/// A member of staff, by their registration (else our staff id), named.
fn staff(who: &Clinician) -> Reference {
    let registered = who.registration.as_ref().and_then(|r| {
        let (regulator, number) = r.as_str().split_once(' ')?;
        Some(identifier(names::registration_system(regulator)?, number))
    });
    Reference {
        r#type: Some(uri("Practitioner")),
        identifier: Some(registered.unwrap_or_else(|| identifier(names::STAFF_ID, &who.staff_id))),
        display: Some(s(match who.role {
            Some(role) => format!("{}, {}", who.name, role.title()),
            None => who.name.clone(),
        })),
        ..Default::default()
    }
}

fn entry(
    full_url: String,
    resource: Resource,
    kind: &str,
    if_none_exist: String,
) -> Result<BundleEntry, RecordError> {
    let resource = serde_json::to_value(resource).map_err(|e| RecordError::Encode(e.to_string()))?;
    Ok(BundleEntry {
        full_url: Some(uri(full_url)),
        resource: Some(resource),
        request: Some(BundleEntryRequest {
            method: Coded::Known(HttpVerb::Post),
            url: uri(kind),
            if_none_exist: Some(s(if_none_exist)),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn by_identifier(system: &str, value: &str) -> String {
    format!("identifier={system}|{value}")
}

fn priority(p: Priority) -> RequestPriority {
    // Ours: urgent = today, soon = next working day, routine = the
    // category's target. FHIR's order: routine < urgent < asap < stat.
    match p {
        Priority::Urgent => RequestPriority::Asap,
        Priority::Soon => RequestPriority::Urgent,
        Priority::Routine => RequestPriority::Routine,
    }
}

/// The thread as a transaction Bundle (see the module's doc).
pub fn to_bundle(thread: &HandledThread) -> Result<Bundle, RecordError> {
    if thread.messages.is_empty() {
        return Err(RecordError::Empty);
    }
    let p = &thread.practice;
    let task_urn = entry_name(p, "thread", &thread.thread.to_string());
    let task_id = format!("{p}/{}", thread.thread);
    let mut entries = Vec::new();
    let mut targets = vec![to(&task_urn)];

    // One Communication per message, each answering the one before.
    let mut previous: Option<String> = None;
    for m in &thread.messages {
        let urn = entry_name(p, "message", &m.id.to_string());
        let id = format!("{p}/{}", m.id);
        let (sender, recipient) = match &m.from {
            Sender::Patient => (patient(thread), None),
            Sender::Staff(who) => (staff(who), Some(patient(thread))),
        };
        let mut payload = vec![CommunicationPayload {
            content: Some(CommunicationPayloadContent::String(Primitive::new(s(&m.text)))),
            ..Default::default()
        }];
        payload.extend(m.photos.iter().map(|photo| CommunicationPayload {
            content: Some(CommunicationPayloadContent::Attachment(Box::new(Attachment {
                content_type: Some(types::Code(photo.content_type.clone())),
                data: Some(types::Base64Binary(
                    base64::engine::general_purpose::STANDARD.encode(&photo.bytes),
                )),
                ..Default::default()
            }))),
            ..Default::default()
        }));
        let communication = Communication {
            meta: profile(names::UKCORE_COMMUNICATION),
            identifier: vec![identifier(names::MESSAGE_ID, &id)],
            status: Coded::Known(EventStatus::Completed),
            subject: Some(patient(thread)),
            sender: Some(sender),
            recipient: recipient.into_iter().collect(),
            sent: Some(types::DateTime(time(m.sent))),
            in_response_to: previous.iter().map(|u| to(u).cast()).collect(),
            payload,
            ..Default::default()
        };
        entries.push(entry(
            urn.clone(),
            Resource::Communication(Box::new(communication)),
            "Communication",
            by_identifier(names::MESSAGE_ID, &id),
        )?);
        targets.push(to(&urn));
        previous = Some(urn);
    }
    let first_message = entry_name(p, "message", &thread.messages[0].id.to_string());

    // The decision on a repeat: a MedicationRequest per medicine issued.
    let mut outputs = Vec::new();
    let (mut status_reason, mut business_status) = (None, None);
    match &thread.refill {
        Some(Refill::Approved(medicines)) => {
            business_status = Some(coding(names::REFILL_OUTCOME, "approved", Some("Issued")));
            for (n, med) in medicines.iter().enumerate() {
                let id = format!("{task_id}/{}", n + 1);
                let urn = entry_name(p, "issue", &id);
                let issued = MedicationRequest {
                    meta: profile(names::UKCORE_MEDICATION_REQUEST),
                    identifier: vec![identifier(names::ISSUE_ID, &id)],
                    status: Coded::Known(MedicationrequestStatus::Active),
                    intent: Coded::Known(MedicationrequestIntent::Order),
                    medication: Some(MedicationRequestMedication::CodeableConcept(Box::new(
                        CodeableConcept {
                            text: Some(s([&med.name, &med.strength, &med.form]
                                .into_iter()
                                .filter(|w| !w.is_empty())
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .join(" "))),
                            ..Default::default()
                        },
                    ))),
                    subject: patient(thread),
                    authored_on: Some(types::DateTime(time(thread.saved.at))),
                    requester: Some(staff(&thread.saved.by)),
                    dispense_request: med
                        .quantity
                        .map(|quantity| {
                            Ok::<_, RecordError>(MedicationRequestDispenseRequest {
                                quantity: Some(Quantity {
                                    value: Some(
                                        types::Decimal::new(quantity.to_string())
                                            .map_err(|e| RecordError::Encode(e.to_string()))?,
                                    ),
                                    unit: (!med.form.is_empty()).then(|| s(&med.form)),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            })
                        })
                        .transpose()?,
                    ..Default::default()
                };
                entries.push(entry(
                    urn.clone(),
                    Resource::MedicationRequest(Box::new(issued)),
                    "MedicationRequest",
                    by_identifier(names::ISSUE_ID, &id),
                )?);
                outputs.push(TaskOutput {
                    r#type: coding(names::REFILL_OUTCOME, "issued", Some("Medicine issued")),
                    value: Some(TaskOutputValue::Reference(Box::new(to(&urn)))),
                    ..Default::default()
                });
                targets.push(to(&urn));
            }
        }
        Some(Refill::Rejected { reason, note }) => {
            let code = serde_json::to_value(reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .ok_or_else(|| RecordError::Encode("a rejection reason".to_owned()))?;
            let mut why = coding(names::REJECTION, &code, Some(reason.label()));
            if let Some(note) = note {
                why.text = Some(s(format!("{}: {note}", reason.label())));
            }
            status_reason = Some(why);
            business_status = Some(coding(names::REFILL_OUTCOME, "rejected", Some("Not issued")));
        }
        Some(Refill::Undecided) | None => {}
    }

    // Red flags raised, and who lowered them and why.
    let note = thread
        .red_flags
        .iter()
        .map(|flag| match &flag.overruled {
            None => Annotation {
                text: types::Markdown(format!("Red flag raised: {}", flag.rule)),
                ..Default::default()
            },
            Some(o) => Annotation {
                author: Some(AnnotationAuthor::Reference(Box::new(staff(&o.by)))),
                text: types::Markdown(format!("Red flag raised: {}. Overruled: {}", flag.rule, o.reason)),
                ..Default::default()
            },
        })
        .collect();

    let status = match (thread.closed, &thread.owner) {
        (true, _) => TaskStatus::Completed,
        (false, Some(_)) => TaskStatus::InProgress,
        (false, None) => TaskStatus::Ready,
    };
    let task = Task {
        meta: profile(names::UKCORE_TASK),
        identifier: vec![identifier(names::THREAD_ID, &task_id)],
        status: Coded::Known(status),
        status_reason,
        business_status,
        intent: Coded::Known(TaskIntent::Order),
        priority: Some(Coded::Known(priority(thread.priority))),
        code: Some(coding(names::CATEGORY, thread.category.key(), None)),
        focus: Some(to(&first_message)),
        r#for: Some(patient(thread)),
        authored_on: Some(types::DateTime(time(thread.opened))),
        last_modified: Some(types::DateTime(time(thread.saved.at))),
        owner: thread.owner.as_ref().map(staff),
        note,
        output: outputs,
        ..Default::default()
    };
    entries.insert(
        0,
        entry(
            task_urn.clone(),
            Resource::Task(Box::new(task)),
            "Task",
            by_identifier(names::THREAD_ID, &task_id),
        )?,
    );

    // Who saved it, from which workstation, and the audit chain's link.
    let save = format!("{task_id}/{}", thread.saved.audit_link);
    let provenance = Provenance::builder()
        .meta(Meta {
            tag: vec![Coding {
                system: Some(uri(names::SAVE_TAG)),
                code: Some(types::Code(save.clone())),
                ..Default::default()
            }],
            ..Default::default()
        })
        .target(vec1::Vec1::try_from_vec(targets).map_err(|_| RecordError::Empty)?)
        .recorded(types::Instant(time(thread.saved.at)))
        .agent(vec1::vec1![
            ProvenanceAgent { who: staff(&thread.saved.by), ..Default::default() },
            ProvenanceAgent {
                who: Reference {
                    r#type: Some(uri("Device")),
                    identifier: Some(identifier(names::WORKSTATION_ID, &thread.saved.workstation)),
                    display: Some(s("Sealbox workstation")),
                    ..Default::default()
                },
                ..Default::default()
            }
        ])
        .entity(vec![ProvenanceEntity {
            role: Coded::Known(ProvenanceEntityRole::Source),
            what: Reference {
                identifier: Some(identifier(names::AUDIT_EVENT_ID, &thread.saved.audit_link)),
                display: Some(s("Sealbox audit chain event")),
                ..Default::default()
            },
            ..Default::default()
        }])
        .build()
        .map_err(|e| RecordError::Encode(e.to_string()))?;
    entries.push(entry(
        entry_name(p, "save", &save),
        Resource::Provenance(Box::new(provenance)),
        "Provenance",
        format!("_tag={}|{save}", names::SAVE_TAG),
    )?);

    Ok(Bundle {
        identifier: Some(identifier(names::SAVE_TAG, &save)),
        r#type: Coded::Known(BundleType::Transaction),
        timestamp: Some(types::Instant(time(thread.saved.at))),
        entry: entries,
        ..Default::default()
    })
}

/// The Bundle as the JSON a FHIR server takes (`resourceType` included).
pub fn to_json(bundle: Bundle) -> Result<serde_json::Value, RecordError> {
    serde_json::to_value(Resource::Bundle(Box::new(bundle))).map_err(|e| RecordError::Encode(e.to_string()))
}
