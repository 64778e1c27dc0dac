//! Three handled threads for the golden Bundles: a repeat approved, a
//! repeat rejected, a clinical question answered (a photo, a red flag a
//! GP overruled). Fixed ids and times: the Bundles are byte for byte.

use sealbox_model::category::Category;
use sealbox_model::jiff::Timestamp;
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::priority::Priority;
use sealbox_model::refill::RejectionReason;
use sealbox_model::registration::Registration;
use sealbox_model::role::Role;
use sealbox_record::thread::{
    Clinician, HandledThread, Medicine, Message, Overrule, Photo, RedFlag, Refill, Saved, Sender,
};

fn at(t: &str) -> Timestamp {
    t.parse().unwrap()
}

fn gp() -> Clinician {
    Clinician {
        staff_id: "staff-gp-1".to_owned(),
        name: "Dr Asha Rao".to_owned(),
        role: Some(Role::Gp),
        registration: Some(Registration::parse("GMC 7012345").unwrap()),
    }
}

fn nurse() -> Clinician {
    Clinician {
        staff_id: "staff-nurse-1".to_owned(),
        name: "Sam Okafor".to_owned(),
        role: Some(Role::Nurse),
        registration: Some(Registration::parse("NMC 12A3456B").unwrap()),
    }
}

fn message(id: u64, from: Sender, sent: &str, text: &str) -> Message {
    Message { id, from, sent: at(sent), text: text.to_owned(), photos: Vec::new() }
}

fn saved(by: Clinician, at_: &str, link: &str) -> Saved {
    Saved { by, workstation: "device-7f3a".to_owned(), at: at(at_), audit_link: link.to_owned() }
}

/// (file name, thread).
pub fn all() -> Vec<(&'static str, HandledThread)> {
    vec![
        ("repeat-approved", repeat_approved()),
        ("repeat-rejected", repeat_rejected()),
        ("question-answered", question_answered()),
    ]
}

fn repeat_approved() -> HandledThread {
    HandledThread {
        practice: "practice-riverside".to_owned(),
        thread: 4101,
        nhs_number: NhsNumber::parse("943 476 5919").unwrap(),
        category: Category::RepeatPrescription,
        priority: Priority::Routine,
        closed: true,
        owner: Some(nurse()),
        opened: at("2026-12-01T08:14:00Z"),
        messages: vec![
            message(41011, Sender::Patient, "2026-12-01T08:14:00Z", "Please may I have my usual amlodipine and atorvastatin."),
            message(41012, Sender::Staff(nurse()), "2026-12-01T10:02:00Z", "Dear patient, your repeat prescription has been approved and sent to your pharmacy. Sam Okafor, Nurse (NMC 12A3456B)"),
        ],
        red_flags: Vec::new(),
        refill: Some(Refill::Approved(vec![
            Medicine { name: "Amlodipine".to_owned(), strength: "5 mg".to_owned(), form: "tablets".to_owned(), quantity: Some(28) },
            Medicine { name: "Atorvastatin".to_owned(), strength: "20 mg".to_owned(), form: "tablets".to_owned(), quantity: Some(28) },
        ])),
        saved: saved(nurse(), "2026-12-01T10:02:05Z", "9f2c4e1a7b3d5f60812a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d"),
    }
}

fn repeat_rejected() -> HandledThread {
    HandledThread {
        practice: "practice-riverside".to_owned(),
        thread: 4102,
        nhs_number: NhsNumber::parse("9876543210").unwrap(),
        category: Category::RepeatPrescription,
        priority: Priority::Soon,
        closed: true,
        owner: Some(gp()),
        opened: at("2026-12-02T09:00:00Z"),
        messages: vec![
            message(41021, Sender::Patient, "2026-12-02T09:00:00Z", "I need more of my ramipril please."),
            message(41022, Sender::Staff(gp()), "2026-12-02T11:30:00Z", "Dear patient, we need to check your kidney blood test before we can issue more ramipril. Please book a blood test. Dr Asha Rao, GP (GMC 7012345)"),
        ],
        red_flags: Vec::new(),
        refill: Some(Refill::Rejected { reason: RejectionReason::MonitoringNeeded, note: Some("U&E due".to_owned()) }),
        saved: saved(gp(), "2026-12-02T11:30:04Z", "1a3c5e7092b4d6f8103a5c7e9b1d3f50728a4c6e8092b4d6f8a0c2e4b6d8f0a2"),
    }
}

fn question_answered() -> HandledThread {
    let mut first = message(41031, Sender::Patient, "2026-12-03T07:45:00Z", "I have had chest pain on and off since last night, it is sharp when I breathe in. I have attached a photo of the rash on my chest.");
    first.photos.push(Photo {
        content_type: "image/png".to_owned(),
        bytes: vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
    });
    HandledThread {
        practice: "practice-riverside".to_owned(),
        thread: 4103,
        nhs_number: NhsNumber::parse("9000000009").unwrap(),
        category: Category::ClinicalQuestion,
        priority: Priority::Urgent,
        closed: true,
        owner: Some(gp()),
        opened: at("2026-12-03T07:45:00Z"),
        messages: vec![
            first,
            message(41032, Sender::Staff(gp()), "2026-12-03T08:20:00Z", "Thank you. This looks like shingles; we will call you this morning to arrange treatment. If the pain becomes crushing or you are short of breath, call 999. Dr Asha Rao, GP (GMC 7012345)"),
        ],
        red_flags: vec![RedFlag {
            rule: "chest pain".to_owned(),
            overruled: Some(Overrule { by: gp(), reason: "pleuritic pain with a dermatomal rash: shingles; seen today".to_owned() }),
        }],
        refill: None,
        saved: saved(gp(), "2026-12-03T08:20:03Z", "0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a1a3c5e7092b4d6f8103a5c7e9b1d3f50"),
    }
}
