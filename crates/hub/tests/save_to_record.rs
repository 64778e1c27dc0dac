//! Save to record from a real workstation (issue 27): a GP's desk, synced
//! from the real hub over loopback HTTP, saves handled threads to a real
//! FHIR server we did not write (sekmet-fhir, SMART Backend Services on,
//! the workstation's key registered as practice IT would from Settings).
//! Before anything is saved the patient is looked up by NHS number: a
//! patient unknown to the record holds the save until the record is put
//! right; a record whose date of birth differs holds it until a clinician
//! confirms; the decision goes to the record only as the hub applied it,
//! and a save waits while the thread has changes the hub has not taken;
//! a save sent twice is stored once; the endpoint down keeps the save
//! waiting (and says why) and a later round sends it; the file export is
//! the same Bundle, this user's alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../record/tests/sekmet/mod.rs"]
mod sekmet;
mod support;

use sealbox_core::record::{RecordConfig, SaveToRecordError};
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Desk, WorkstationError};
use sealbox_hub::config::RatePolicy;
use sealbox_model::category::Category;
use sealbox_model::hub_api::RefillChoice;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use sealbox_model::message::Author;
use sealbox_model::role::Role;
use sealbox_record::names;
use sealbox_sim::traffic;
use sealbox_sim::{send, SendOptions};
use serde_json::Value;

use support::desks::enrol_approved;
use support::start_hub;

/// The record system, with this workstation's key registered under its
/// device id (what Settings shows practice IT).
fn record_system(desk: &Desk) -> sekmet::Server {
    let setup = desk.record_setup(std::path::Path::new("/nonexistent/record.json")).unwrap();
    sekmet::start_smart(&setup.client_id, &serde_json::from_str(&setup.jwk).unwrap())
}

fn config_of(server: &sekmet::Server) -> RecordConfig {
    RecordConfig { endpoint: server.base.clone(), client_id: None, save_on_close: true, timeout_secs: 20 }
}

/// The patient of `thread` as the record has them: their name split as
/// a clinical system keeps it, their date of birth `born` (else theirs).
async fn register(server: &sekmet::Server, desk: &Desk, thread: ThreadId, born: Option<&str>) {
    let patient = lock(&desk.store()).thread(thread).unwrap().unwrap().patient;
    let name = patient.display_name.reveal().to_owned();
    let (given, family) = name.split_once(' ').unwrap();
    let birth = patient.date_of_birth.reveal().to_string();
    let nhs = patient.nhs_number.unwrap();
    sekmet::add_patient(&server.base, nhs.reveal(), family, given, born.unwrap_or(&birth)).await;
}

/// The record system's clock is its own: its sign-in checks the
/// assertion's expiry against real time, not the hub's test clock.
fn wall() -> Timestamp {
    Timestamp::now()
}

fn refused(result: Result<(), WorkstationError>) -> SaveToRecordError {
    match result.unwrap_err() {
        WorkstationError::Record(e) => e,
        other => panic!("refused for another reason: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workstation_saves_handled_threads_to_a_real_record_only_for_the_right_patient() {
    let hub = start_hub(20, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    // The hub's test clock at real time: the record system keeps its own.
    hub.clock.set(wall());
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let plan = traffic::plan(31, 20, 80);
    send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    let refills: Vec<ThreadId> = plan
        .iter()
        .filter(|m| m.category == Category::RepeatPrescription && !m.red_flag)
        .map(|m| m.thread_id)
        .collect();
    let mut threads = refills.clone();
    threads.dedup();
    let other_patient = |t: &ThreadId| {
        let of = |t: ThreadId| lock(&desk.store()).thread(t).unwrap().unwrap().patient.id;
        of(*t) != of(threads[0])
    };
    let (request, second) = (threads[0], *threads.iter().find(|t| other_patient(t)).unwrap());

    // No record system set up: nothing is queued.
    assert!(matches!(refused(desk.save_to_record(request, None, now)), SaveToRecordError::NotSetUp));

    // The GP approves; the hub takes the decision, the reply and the close.
    desk.open_thread(request, now).unwrap().unwrap();
    desk.decide_refill(request, RefillChoice::Approve, "", now).unwrap();
    let server = record_system(&desk);
    let config = config_of(&server);
    // Not sent to the hub yet: the save on close waits for the look-up.
    assert!(matches!(
        refused(desk.save_to_record(request, Some(&config), now)),
        SaveToRecordError::NotLookedUp
    ));
    assert!(!desk.save_on_close(request, Some(&config), now).unwrap());
    engine.send(&desk.store(), now).await.unwrap();

    // Unknown to the record: held until the record is put right; nothing to confirm.
    let mut sender = desk.record_sender(&config).unwrap();
    sender.check_match(request, wall()).await.unwrap();
    let panel = desk.record_panel(request, Some(&config), String::new()).unwrap();
    assert_eq!(panel.warning.as_deref(), Some("The practice's record has no patient with this NHS number"));
    assert!(!panel.can_save && !panel.confirmable, "{panel:?}");
    assert!(matches!(refused(desk.confirm_record_match(request, now)), SaveToRecordError::RecordNeedsFixing));
    assert!(matches!(
        refused(desk.save_to_record(request, Some(&config), now)),
        SaveToRecordError::RecordNeedsFixing
    ));

    // Registered with the same details: it agrees; closed, it is saved on close.
    register(&server, &desk, request, None).await;
    sender.check_match(request, wall()).await.unwrap();
    let panel = desk.record_panel(request, Some(&config), String::new()).unwrap();
    assert!(panel.warning.is_none() && panel.can_save, "{panel:?}");
    assert!(desk.save_on_close(request, Some(&config), now).unwrap(), "closed by the decision");
    let sent = sender.send_waiting(wall()).await.unwrap();
    assert_eq!((sent.saved, sent.waiting), (1, 0));
    let panel = desk.record_panel(request, Some(&config), String::new()).unwrap();
    assert!(panel.status.starts_with("Saved to the record at"), "{}", panel.status);

    // What the record holds: the Task, the medicines as issued, the
    // messages, and a Provenance naming the save's own audit event.
    let practice = &desk.profile().practice_id;
    let task_id = format!("{practice}/{}", request.0);
    let tasks = sekmet::held(&server.base, "Task", names::THREAD_ID, &task_id).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["status"], "completed", "{}", tasks[0]);
    let issued =
        sekmet::held(&server.base, "MedicationRequest", names::ISSUE_ID, &format!("{task_id}/1")).await;
    assert_eq!(issued.len(), 1, "the approved medicine");
    let detail = lock(&desk.store()).thread(request).unwrap().unwrap();
    let said: Vec<_> = detail
        .thread
        .messages
        .iter()
        .filter(|m| matches!(m.author, Author::Patient | Author::Clinician(_)))
        .collect();
    assert!(said.len() >= 2, "the request and the practice's reply");
    for m in said {
        let found =
            sekmet::held(&server.base, "Communication", names::MESSAGE_ID, &format!("{practice}/{}", m.id.0))
                .await;
        assert_eq!(found.len(), 1, "message {}", m.id.0);
    }
    let save = lock(&desk.store()).record_save(request).unwrap().unwrap();
    let events = lock(&desk.store()).audit_events(50).unwrap();
    let queued = events.iter().find(|l| l.action == "save_to_record").unwrap();
    assert_eq!(save.audit_hash, hex(&queued.hash), "the save's own audit event");
    assert!(events.iter().any(|l| l.action == "saved_to_record"), "the record's receipt is audited");

    // Saved again (the clinician presses Save once more): nothing is written twice.
    desk.save_to_record(request, Some(&config), now).unwrap();
    assert_eq!(sender.send_waiting(wall()).await.unwrap().saved, 1);
    assert_eq!(sekmet::held(&server.base, "Task", names::THREAD_ID, &task_id).await.len(), 1, "one Task");
    assert_eq!(
        sekmet::held(&server.base, "MedicationRequest", names::ISSUE_ID, &format!("{task_id}/1")).await.len(),
        1
    );

    // Another patient whose record has another date of birth: held until
    // a clinician confirms, then saved.
    desk.open_thread(second, now).unwrap().unwrap();
    register(&server, &desk, second, Some("1901-01-01")).await;
    sender.check_match(second, wall()).await.unwrap();
    let panel = desk.record_panel(second, Some(&config), String::new()).unwrap();
    assert_eq!(
        panel.warning.as_deref(),
        Some("The record's date of birth for this NHS number differs from what the patient wrote")
    );
    assert!(panel.confirmable && !panel.can_save, "{panel:?}");
    assert!(matches!(
        refused(desk.save_to_record(second, Some(&config), now)),
        SaveToRecordError::NotConfirmed
    ));
    desk.confirm_record_match(second, now).unwrap();
    let panel = desk.record_panel(second, Some(&config), String::new()).unwrap();
    assert!(panel.can_save && panel.confirmed.is_some() && !panel.confirmable, "{panel:?}");
    assert!(lock(&desk.store()).audit_events(50).unwrap().iter().any(|l| l.action == "confirm_record_match"));
    desk.save_to_record(second, Some(&config), now).unwrap();

    // A change the hub has not taken yet (it could still refuse it): the
    // save waits for it, and says so.
    assert!(desk.claim(second, now).unwrap());
    let sent = sender.send_waiting(wall()).await.unwrap();
    assert_eq!((sent.saved, sent.waiting), (0, 1));
    let panel = desk.record_panel(second, Some(&config), String::new()).unwrap();
    assert_eq!(
        panel.status,
        "Waiting to be saved to the record: waiting for the practice hub to take this thread's changes first"
    );
    engine.send(&desk.store(), now).await.unwrap();

    // The record system down: the save waits and says why; back, it goes.
    let base = server.base.clone();
    drop(server);
    let sent = sender.send_waiting(wall()).await.unwrap();
    assert_eq!((sent.saved, sent.waiting), (0, 1));
    let panel = desk.record_panel(second, Some(&config), String::new()).unwrap();
    assert_eq!(
        panel.status,
        "Waiting to be saved to the record: the practice's record system could not be reached; the save is kept to try again"
    );
    let back = record_system(&desk);
    assert_ne!(back.base, base);
    register(&back, &desk, second, Some("1901-01-01")).await;
    let mut sender = desk.record_sender(&config_of(&back)).unwrap();
    assert_eq!(
        sender.send_waiting(wall()).await.unwrap(),
        sealbox_core::record::sender::Sent { saved: 1, waiting: 0 }
    );
    let second_task = format!("{practice}/{}", second.0);
    assert_eq!(sekmet::held(&back.base, "Task", names::THREAD_ID, &second_task).await.len(), 1);

    // The file export: the same Bundle, this user's alone, audited.
    let out = tempfile::tempdir().unwrap();
    let file = desk.bundle_maker().unwrap().export(request, out.path(), now).await.unwrap();
    let bundle: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        (bundle["resourceType"].as_str(), bundle["type"].as_str()),
        (Some("Bundle"), Some("transaction"))
    );
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let events = lock(&desk.store()).audit_events(50).unwrap();
    let exported = events.iter().find(|l| l.action == "export_record").unwrap();
    assert!(
        bundle.to_string().contains(&hex(&exported.hash)),
        "its Provenance names the export's audit event"
    );
}

fn hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
