//! Priority in human hands, end to end against the real hub over loopback
//! HTTP with two GPs' workstations (real SQLCipher caches, the real
//! keyring): a red-flagged thread is lowered only with a coded reason; the
//! overrule is in the audit chain (who, when, from, to, why); the flag and
//! who overruled it stay visible on both workstations; a red flag in a
//! newer patient message makes the thread urgent again; who holds the
//! thread is named on both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::key::soft::SoftKey;
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::{Desk, WorkstationError};
use sealbox_hub::config::RatePolicy;
use sealbox_model::api::ThreadChange;
use sealbox_model::category::Category;
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::priority::Priority;
use sealbox_model::role::Role;
use sealbox_model::triage::{LowerReason, TriageDecision, TriageError};
use sealbox_sim::{send, SendOptions};

use support::desks::enrol_approved;
use support::start_hub;

fn row_priority(desk: &Desk, thread: ThreadId, now: Timestamp) -> String {
    let inbox = desk.inbox_view(now, 500, None).unwrap();
    inbox.rows.iter().find(|r| r.thread == thread.0.to_string()).unwrap().priority.clone()
}

fn says(thread: u64, message: u64, text: &str) -> sealbox_sim::traffic::PlannedMessage {
    support::clinical_question(thread, message, text, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_lowers_a_red_flagged_thread_only_with_a_reason_and_a_newer_flag_raises_it_again() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp_a = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (mut ws_b, mut key_b) =
        gp_a.another(&hub, &keyring, &dirs.path().join("gp-b"), Role::Gp, SoftKey::new("2468")).await;
    let a_id = gp_a.ws.profile().unwrap().user_id.clone();
    let thread = ThreadId(7_001);
    let first = says(
        thread.0,
        7_101,
        "Had crushing chest pain going into my left arm at the weekend, seen in A&E, all tests normal.",
    );
    send::send(&hub.client, &hub.url, &hub.patients(), &[first], SendOptions::default()).await.unwrap();

    let now = hub.state.now();
    let a = gp_a.ws.unlock(&mut gp_a.key, now).await.unwrap();
    let engine_a = a.engine().unwrap();
    engine_a.pull(&a.store(), now).await.unwrap();
    assert_eq!(row_priority(&a, thread, now), "urgent", "the detector suggests urgent");
    let view = a.open_thread(thread, now).unwrap().unwrap();
    assert!(view.flags.iter().any(|f| f.starts_with("chest pain")), "{:?}", view.flags);
    assert_eq!(view.triage, None);
    assert!(view.can_triage);

    // Lowering without a reason is refused before anything is queued.
    let lower = |reason| ThreadChange::Prioritise {
        decision: TriageDecision {
            priority: Priority::Routine,
            category: Category::ClinicalQuestion,
            reason,
        },
    };
    let err = a.change(thread, lower(None), now).unwrap_err();
    assert!(matches!(err, WorkstationError::Triage(TriageError::ReasonRequired)), "{err:?}");
    assert!(lock(&a.store()).outbox().unwrap().is_empty());

    // With a reason: shown at once, audited as an overrule, sent.
    a.change(thread, lower(Some(LowerReason::AlreadyAssessed)), now).unwrap();
    assert_eq!(row_priority(&a, thread, now), "routine");
    let view = a.open_thread(thread, now).unwrap().unwrap();
    assert!(!view.flags.is_empty(), "the flag stays visible after it is overruled");
    let line = view.triage.clone().expect("the decision is shown");
    assert!(line.overruled_flag && line.priority == "routine", "{line:?}");
    assert_eq!(line.reason, LowerReason::AlreadyAssessed.label());
    assert_eq!(line.by, "Test Staff \u{b7} GP", "named, not an id");
    let audit = lock(&a.store()).audit_events(10).unwrap();
    let overrule = audit.iter().find(|l| l.action == "overrule_flag").expect("audited");
    assert_eq!(overrule.actor, a_id);
    assert_eq!(
        overrule.object,
        format!("thread {}: urgent to routine (already_assessed), red-flagged", thread.0)
    );
    let sent = engine_a.send(&a.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (1, 0), "{sent:?}");

    // The colleague's workstation shows the decision, the flag and who.
    let b = ws_b.unlock(&mut key_b, now).await.unwrap();
    let engine_b = b.engine().unwrap();
    engine_b.pull(&b.store(), now).await.unwrap();
    assert_eq!(row_priority(&b, thread, now), "routine");
    let view = b.open_thread(thread, now).unwrap().unwrap();
    assert!(!view.flags.is_empty());
    let line = view.triage.expect("the decision reached the colleague");
    assert!(line.overruled_flag && line.by == "Test Staff \u{b7} GP", "{line:?}");

    // The patient writes again with a new red flag: urgent again for both.
    hub.clock.advance(SignedDuration::from_mins(5));
    let again = says(thread.0, 7_102, "The chest pain is back now and I can't catch my breath.");
    send::send(&hub.client, &hub.url, &hub.patients(), &[again], SendOptions::default()).await.unwrap();
    let later = hub.state.now();
    engine_b.pull(&b.store(), later).await.unwrap();
    engine_a.pull(&a.store(), later).await.unwrap();
    assert_eq!(row_priority(&b, thread, later), "urgent");
    assert_eq!(row_priority(&a, thread, later), "urgent");

    // Who holds it is said on both screens, by name.
    a.claim(thread, later).unwrap();
    let sent = engine_a.send(&a.store(), later).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (1, 0), "{sent:?}");
    engine_b.pull(&b.store(), later).await.unwrap();
    assert_eq!(a.open_thread(thread, later).unwrap().unwrap().holder, "You");
    assert_eq!(b.open_thread(thread, later).unwrap().unwrap().holder, "Test Staff \u{b7} GP");

    drop((engine_a, engine_b));
    a.lock("idle", later).await.unwrap();
    b.lock("idle", later).await.unwrap();
    gp_a.wipe(&keyring);
    support::desks::wipe(&ws_b, &keyring);
}
