#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use rand::rngs::OsRng;
use sealbox_crypto::ed25519_dalek::SigningKey;
use sealbox_crypto::envelope::{seal_envelope, EnvelopeFields, PartInput, PartKind, Recipient, RecipientId};
use sealbox_crypto::x25519_dalek::{PublicKey, StaticSecret};
use sealbox_model::actor::StaffRef;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{Base64Bytes, EnvelopeRecord, Sender, SyncPage, ThreadMeta};
use sealbox_model::ids::StaffId;
use sealbox_model::ids::{MessageId, PatientId, ThreadId};
use sealbox_model::jiff::civil::Date;
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::nhs_number::NhsNumber;
use sealbox_model::patient::{DateOfBirth, DisplayName, PatientDetails};
use sealbox_model::role::Role;

const PRACTICE: &str = "practice-1";

struct Keys {
    nurse: StaticSecret,
    gp: StaticSecret,
}

fn keys() -> Keys {
    Keys { nurse: StaticSecret::random_from_rng(OsRng), gp: StaticSecret::random_from_rng(OsRng) }
}

fn t(sec: i64) -> Timestamp {
    // A Monday morning in term time, plus `sec`.
    Timestamp::from_second(1_763_974_800 + sec).unwrap()
}

fn details() -> PatientDetails {
    PatientDetails {
        display_name: DisplayName::new("Amara Okafor"),
        date_of_birth: DateOfBirth::new(Date::new(1961, 4, 2).unwrap()),
        nhs_number: Some(NhsNumber::parse("9434765919").unwrap()),
        written_by: None,
    }
}

/// A patient envelope: free text and details, each sealed to `to`.
fn sealed(thread: u64, message: u64, text: &str, to: &[(Pool, &StaticSecret)]) -> Vec<u8> {
    sealed_naming(thread, message, text, to, &details())
}

/// [`sealed`], naming the patient with `who`.
fn sealed_naming(
    thread: u64,
    message: u64,
    text: &str,
    to: &[(Pool, &StaticSecret)],
    who: &PatientDetails,
) -> Vec<u8> {
    let sender = SigningKey::generate(&mut OsRng);
    let recipients: Vec<Recipient> = to
        .iter()
        .map(|(p, s)| Recipient { id: RecipientId::Pool(*p), public_key: PublicKey::from(*s) })
        .collect();
    let free = MessagePart::FreeText(FreeText::new(text)).to_sealed_plaintext().unwrap();
    let who = who.to_sealed_plaintext().unwrap();
    let parts = [
        PartInput { kind: PartKind::FreeText, plaintext: &free, recipients: &recipients },
        PartInput { kind: PartKind::PatientDetails, plaintext: &who, recipients: &recipients },
    ];
    let fields = EnvelopeFields { practice: PRACTICE, thread_id: thread, message_id: message };
    seal_envelope(&mut OsRng, &sender, &fields, &parts).unwrap()
}

fn page(envelopes: Vec<(u64, u64, Vec<u8>)>, category: Category) -> SyncPage {
    let mut threads: Vec<ThreadMeta> = Vec::new();
    let mut records = Vec::new();
    for (i, (thread, message, bytes)) in envelopes.into_iter().enumerate() {
        records.push(EnvelopeRecord {
            seq: i as u64 + 1,
            thread_id: ThreadId(thread),
            message_id: MessageId(message),
            sender: Sender::Patient,
            received_at: t(i as i64),
            envelope: Base64Bytes(bytes),
        });
        if !threads.iter().any(|m| m.thread_id.0 == thread) {
            threads.push(ThreadMeta {
                thread_id: ThreadId(thread),
                patient_id: PatientId(format!("p-{thread}")),
                patient_x25519_public: Base64Bytes(vec![0; 32]),
                category,
                state: ThreadState::New,
                version: 1,
                created_at: t(0),
                updated_at: t(0),
                updated_by: None,
                triage: None,
                merged_into: None,
            });
        }
    }
    let next = records.len() as u64;
    SyncPage { envelopes: records, threads, actions: Vec::new(), next_cursor: Cursor(next), more: false }
}

fn nurse_device(k: &Keys) -> PoolKeyring {
    PoolKeyring::new(PRACTICE, [(Pool::Nurse, k.nurse.clone())])
}

fn rules() -> TriageRules {
    TriageRules::uk_default().unwrap()
}

#[test]
fn opens_what_is_sealed_to_the_devices_pool_and_names_the_patient() {
    let k = keys();
    let p = page(
        vec![(10, 100, sealed(10, 100, "Could I have my usual inhaler please", &[(Pool::Nurse, &k.nurse)]))],
        Category::RepeatPrescription,
    );
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert_eq!(plan.messages.len(), 1);
    assert_eq!(plan.patients.len(), 1);
    assert_eq!(plan.patients[0].id, PatientId("p-10".into()));
    assert_eq!(plan.patients[0].display_name.reveal(), "Amara Okafor");
    assert_eq!(plan.threads.len(), 1);
    let thread = &plan.threads[0];
    assert_eq!(thread.record.pool, Pool::Nurse);
    assert_eq!(thread.record.priority, Priority::Routine);
    assert!(thread.record.due.is_some_and(|d| d > t(0)));
    assert_eq!(plan.cursor, Cursor(1));
    assert!(plan.unreadable.is_empty());
}

#[test]
fn a_red_flag_makes_the_thread_urgent() {
    let k = keys();
    let text = "I have crushing chest pain spreading to my arm";
    let p =
        page(vec![(11, 101, sealed(11, 101, text, &[(Pool::Nurse, &k.nurse)]))], Category::ClinicalQuestion);
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert!(plan.threads[0].record.urgent);
    assert_eq!(plan.threads[0].record.priority, Priority::Urgent);
}

#[test]
fn an_envelope_for_another_pool_is_counted_not_stored() {
    let k = keys();
    let p =
        page(vec![(12, 102, sealed(12, 102, "results please", &[(Pool::Gp, &k.gp)]))], Category::TestResults);
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert_eq!(plan.not_for_this_device, 1);
    assert!(plan.messages.is_empty() && plan.threads.is_empty() && plan.patients.is_empty());
    assert!(plan.unreadable.is_empty());
    assert_eq!(plan.cursor, Cursor(1), "the cursor still moves past it");
}

#[test]
fn tampered_or_misfiled_envelopes_are_kept_as_unreadable_never_dropped() {
    let k = keys();
    let mut tampered = sealed(13, 103, "marker-tampered", &[(Pool::Nurse, &k.nurse)]);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    // A hostile hub files a real envelope under another message id.
    let moved = sealed(14, 104, "marker-moved", &[(Pool::Nurse, &k.nurse)]);
    let good = sealed(15, 105, "fine", &[(Pool::Nurse, &k.nurse)]);
    let p = page(
        vec![(13, 103, tampered.clone()), (14, 999, moved), (15, 105, good)],
        Category::MedicationQuestion,
    );
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert_eq!(plan.unreadable.len(), 2);
    assert_eq!(plan.unreadable[0].envelope, tampered);
    assert_eq!(plan.unreadable[1].message_id, MessageId(999));
    for u in &plan.unreadable {
        assert!(!u.reason.contains("marker"), "{}", u.reason);
        assert!(!format!("{u:?}").contains("marker"));
    }
    assert_eq!(plan.messages.len(), 1);
    assert_eq!(plan.messages[0].1.id, MessageId(105));
}

#[test]
fn a_thread_with_a_queued_action_keeps_its_local_state_and_earlier_facts() {
    let k = keys();
    let p = page(
        vec![(16, 106, sealed(16, 106, "another question", &[(Pool::Nurse, &k.nurse)]))],
        Category::RepeatPrescription,
    );
    let me = StaffRef { id: StaffId("nurse-1".into()), role: Role::Nurse };
    let local = ThreadState::InProgress { by: me };
    let known = BTreeMap::from([(
        ThreadId(16),
        KnownThread {
            urgent: true,
            received: t(-60),
            state: local.clone(),
            pending_action: true,
            triage: None,
        },
    )]);
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &known);
    let thread = &plan.threads[0];
    assert_eq!(thread.record.state, local);
    assert_eq!(thread.hub_state, ThreadState::New);
    assert!(thread.record.urgent, "a red flag once seen stays");
    assert_eq!(thread.record.received, t(0), "the newer patient message counts");
}

#[test]
fn another_practices_envelope_is_unreadable() {
    let k = keys();
    let p = page(vec![(17, 107, sealed(17, 107, "hello", &[(Pool::Nurse, &k.nurse)]))], Category::Other);
    let device = PoolKeyring::new("practice-2", [(Pool::Nurse, k.nurse.clone())]);
    let plan = plan_page(&p, &device, &rules(), &BTreeMap::new());
    assert_eq!(plan.unreadable.len(), 1);
    assert!(plan.unreadable[0].reason.contains("another practice"));
}

#[test]
fn a_staff_envelope_never_names_the_patient() {
    let k = keys();
    // The patient's message names them; a staff envelope on the same
    // thread (sealed with details, as a hostile or buggy device could) does not.
    let mut p = page(
        vec![
            (10, 100, sealed(10, 100, "Could I have my usual inhaler please", &[(Pool::Nurse, &k.nurse)])),
            (10, 101, sealed(10, 101, "Done", &[(Pool::Nurse, &k.nurse)])),
        ],
        Category::RepeatPrescription,
    );
    p.envelopes[1].sender = Sender::Staff { staff: StaffRef::new("nurse-9", Role::Nurse) };
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert_eq!(plan.messages.len(), 2, "the staff message itself is kept");
    assert_eq!(plan.patients.len(), 1, "named once, by the patient's own message");

    // A thread whose only envelope is a staff one names nobody.
    p.envelopes.remove(0);
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert!(plan.patients.is_empty());
}

#[test]
fn a_message_written_on_the_patients_behalf_keeps_who_wrote_it() {
    use sealbox_model::patient::{Relationship, Representative};
    let k = keys();
    let by = Representative { name: DisplayName::new("Jo Okafor"), relationship: Relationship::Parent };
    let who = PatientDetails { written_by: Some(by.clone()), ..details() };
    let text = "My son needs his inhaler";
    let p = page(
        vec![
            (13, 103, sealed_naming(13, 103, text, &[(Pool::Nurse, &k.nurse)], &who)),
            (13, 104, sealed(13, 104, "It's me, the patient, now", &[(Pool::Nurse, &k.nurse)])),
        ],
        Category::RepeatPrescription,
    );
    let plan = plan_page(&p, &nurse_device(&k), &rules(), &BTreeMap::new());
    assert_eq!(plan.written_by.len(), 1);
    assert_eq!(plan.written_by[0].0, MessageId(103));
    assert!(plan.written_by[0].1 == by);
    // Who wrote it is the message's, never the patient's record.
    assert_eq!(plan.patients[0].display_name.reveal(), "Amara Okafor");

    // Kept in the real (SQLCipher) cache and read back per message.
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = crate::store::testutil::new_store(dir.path());
    store.apply_page(&plan, t(10)).unwrap();
    let kept = store.written_by(ThreadId(13)).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[&MessageId(103)].sentence(),
        "Written by Jo Okafor (parent or guardian) on the patient's behalf"
    );
}
