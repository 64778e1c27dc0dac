//! One patient's requests together (issue 23 point 11), end to end against
//! the real hub over loopback HTTP: a new request that repeats an open one
//! (same patient, same medicine or the same question, within 7 days) is
//! linked on the workstation at intake; the patient's other open threads
//! are listed with each; a clinician merges the repeat with one action and
//! its messages are read in the original; the hub refuses a merge across
//! patients, across categories or into the thread itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::key::soft::SoftKey;
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::WorkstationError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::api::{InboxRequest, ThreadChange};
use sealbox_model::category::Category;
use sealbox_model::hub_api::{
    ActionOp, ActionOutcome, ActionRequest, ActionsRequest, IdempotencyKey, StateOp,
};
use sealbox_model::ids::ThreadId;
use sealbox_model::role::Role;
use sealbox_sim::{send, SendOptions};

use support::desks::enrol_approved;
use support::{request, start_hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_request_is_linked_at_intake_and_merged_with_one_action() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (first, repeat, letter, elsewhere) =
        (ThreadId(9_800), ThreadId(9_810), ThreadId(9_820), ThreadId(9_830));
    let rx = Category::RepeatPrescription;
    let sent = [
        request(0, first.0, rx, "My usual please", &["Ramipril 5mg capsules, 28"]),
        request(0, repeat.0, rx, "Chasing my ramipril", &["ramipril 5mg capsules", "Aspirin 75mg"]),
        request(0, letter.0, Category::AdminLetters, "Could I have a letter for my employer", &[]),
        // Another patient asking for the same medicine is not a repeat.
        request(1, elsewhere.0, rx, "My usual please", &["Ramipril 5mg capsules, 28"]),
    ];
    send::send(&hub.client, &hub.url, &hub.patients(), &sent, SendOptions::default()).await.unwrap();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();

    // Linked at intake: the later request for ramipril repeats the first.
    let view = desk.open_thread(repeat, now).unwrap().unwrap();
    let link = view.repeat_of.clone().expect("linked as a repeat");
    assert_eq!((link.thread.as_str(), link.reason.as_str()), ("9800", "asks for the same medicine"));
    assert!(link.can_merge);
    assert!(
        desk.open_thread(first, now).unwrap().unwrap().repeat_of.is_none(),
        "the original is not a repeat"
    );
    assert!(desk.open_thread(elsewhere, now).unwrap().unwrap().repeat_of.is_none(), "another patient's");
    assert!(desk.open_thread(letter, now).unwrap().unwrap().repeat_of.is_none(), "another category");
    // Grouped: each thread lists the patient's other open threads.
    let others: Vec<String> =
        desk.open_thread(first, now).unwrap().unwrap().patient_open.into_iter().map(|o| o.thread).collect();
    assert_eq!(others, ["9820", "9810"].map(str::to_owned), "newest first, the other patient's left out");
    let inbox = desk.inbox_view_of(&InboxRequest::default(), now, 50, None).unwrap();
    let row = |id: ThreadId| inbox.rows.iter().find(|r| r.thread == id.0.to_string()).unwrap();
    assert!(row(repeat).repeat && !row(first).repeat);
    assert_eq!((row(first).others_open, row(elsewhere).others_open), (2, 0));

    // Over HTTP the hub refuses a merge across patients, across categories
    // or into the thread itself, whatever the workstation says.
    let forged = |key: &str, thread: ThreadId, into: ThreadId| ActionRequest {
        idempotency_key: IdempotencyKey::new(key.to_owned()).unwrap(),
        thread_id: thread,
        expected_version: hub.thread_version(thread),
        op: ActionOp::Merge { into },
    };
    let batch = ActionsRequest {
        actions: vec![
            forged("other-patient", elsewhere, first),
            forged("other-category", letter, first),
            forged("itself", repeat, repeat),
        ],
    };
    let out = desk.hub().post_actions(&batch).await.unwrap();
    for o in &out.results {
        assert!(
            matches!(&o.outcome, ActionOutcome::Rejected { code, .. } if code == "merge_refused"),
            "{out:?}"
        );
    }
    assert!(matches!(desk.merge_repeat(first, now), Err(WorkstationError::NotARepeat)));

    // One action merges the repeat: closed at the hub, naming the original.
    assert_eq!(desk.merge_repeat(repeat, now).unwrap(), first);
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (1, 0), "{sent:?}");
    let merged_into = |id: ThreadId| {
        let id = i64::try_from(id.0).unwrap();
        hub.state
            .db
            .sqlite_blocking(move |c| {
                c.query_row("SELECT state_kind, merged_into FROM threads WHERE id = ?1", [id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
                })
            })
            .unwrap()
    };
    assert_eq!(merged_into(repeat), ("closed".to_owned(), Some(9_800)));

    // A second clinician's workstation learns it from the hub and reads the
    // repeat's messages in the original; the repeat leaves the open list.
    let (mut ws_nurse, mut key_nurse) =
        gp.another(&hub, &keyring, &dirs.path().join("nurse"), Role::Nurse, SoftKey::new("2468")).await;
    let other = ws_nurse.unlock(&mut key_nurse, now).await.unwrap();
    other.engine().unwrap().pull(&other.store(), now).await.unwrap();
    let original = other.open_thread(first, now).unwrap().unwrap();
    let from_repeat: Vec<_> = original.messages.iter().filter(|m| !m.merged_from.is_empty()).collect();
    assert_eq!(from_repeat.len(), 1, "{:?}", original.messages.len());
    assert!(from_repeat[0].medicines.iter().any(|m| m == "Aspirin 75mg"));
    assert!(from_repeat[0].merged_from.starts_with("From the repeat request received"));
    assert!(original.patient_open.iter().all(|o| o.thread != "9810"));
    assert!(other.open_thread(repeat, now).unwrap().unwrap().repeat_of.is_none());
    // Opening the original recorded the view of the merged message too (an
    // approval needs every patient message viewed).
    assert!(!from_repeat[0].viewed_by.is_empty());

    // Reopened, it is a thread of its own again.
    desk.change(repeat, ThreadChange::State { change: StateOp::Reopen }, now).unwrap();
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!(sent.applied, 1, "{sent:?}");
    assert_eq!(merged_into(repeat), ("triaged".to_owned(), None));
    engine.pull(&desk.store(), now).await.unwrap();
    assert!(lock(&desk.store()).merged_in(first).unwrap().is_empty());
}
