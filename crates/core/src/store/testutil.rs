//! Fixtures shared by the cache's unit tests.

use sealbox_crypto::secret::SecretKey;
use sealbox_model::actor::StaffRef;
use sealbox_model::category::Category;
use sealbox_model::ids::{MessageId, PatientId, StaffId, ThreadId};
use sealbox_model::jiff::civil::Date;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::{
    Author, FreeText, MedicationRequest, MedicationText, Message, MessagePart, SharedNote,
};
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::patient::{DateOfBirth, DisplayName, Patient};
use sealbox_model::pool::Pool;
use sealbox_model::priority::Priority;
use sealbox_model::role::Role;
use sealbox_model::thread_state::{Assignee, ThreadState};
use std::path::{Path, PathBuf};

use super::write::{OutboxItem, ThreadRecord};
use super::{open, Keying, Store};

pub fn t(sec: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + sec).unwrap()
}

pub fn new_store(dir: &Path) -> (Store, SecretKey, PathBuf) {
    let key = SecretKey::generate();
    let path = dir.join("cache.sqlite3");
    let store = open::open(&path, Keying::Encrypted(&key)).unwrap();
    (store, key, path)
}

pub fn patient(id: &str, name: &str) -> Patient {
    Patient {
        id: PatientId(id.into()),
        display_name: DisplayName::new(name),
        date_of_birth: DateOfBirth::new(Date::new(1948, 3, 17).unwrap()),
        nhs_number: Some(NhsNumber::parse("9434765919").unwrap()),
    }
}

pub fn thread(
    id: u64,
    patient: &str,
    pool: Pool,
    urgent: bool,
    due: Option<i64>,
    received: i64,
) -> ThreadRecord {
    ThreadRecord {
        id: ThreadId(id),
        patient: PatientId(patient.into()),
        pool,
        category: Category::ClinicalQuestion,
        priority: if urgent { Priority::Urgent } else { Priority::Routine },
        state: ThreadState::Assigned { to: Assignee::Pool(pool) },
        urgent,
        due: due.map(t),
        received: t(received),
    }
}

pub fn held_by(staff: &str) -> ThreadState {
    ThreadState::InProgress { by: StaffRef::new(staff, Role::Gp) }
}

pub fn message(id: u64, at: i64, text: &str, medication: Option<&str>) -> Message {
    let mut parts = vec![MessagePart::FreeText(FreeText::new(text))];
    if let Some(m) = medication {
        parts.push(MessagePart::MedicationRequest(MedicationRequest {
            items: vec![MedicationText::new(m)],
            shared_notes: vec![SharedNote {
                shared_by: StaffId("gp-1".into()),
                at: t(at),
                text: FreeText::new("note"),
            }],
            answers: Vec::new(),
        }));
    }
    Message { id: MessageId(id), author: Author::Patient, received_at: t(at), parts }
}

pub fn outbox(key: &str, payload: &[u8]) -> OutboxItem {
    OutboxItem {
        idempotency_key: key.into(),
        kind: "reply".into(),
        thread: Some(ThreadId(1)),
        payload: payload.to_vec(),
        created: t(0),
    }
}

/// Every byte of every file under `dir`, recursively, with its path.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// (path, length, FNV-1a hash) of every file under `dir`: comparable and
/// printable without dumping file contents.
pub fn fingerprint(dir: &Path) -> Vec<(PathBuf, usize, u64)> {
    all_files(dir)
        .into_iter()
        .map(|(p, b)| {
            let h = b
                .iter()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ u64::from(*x)).wrapping_mul(0x0100_0000_01b3));
            (p, b.len(), h)
        })
        .collect()
}
