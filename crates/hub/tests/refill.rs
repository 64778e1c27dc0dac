//! Refill review end to end against the real hub over loopback HTTP: the
//! panel splits what was asked for and lists the patient's earlier
//! requests; approval is refused until every patient message was viewed
//! (sealbox-model's rule on the device, the hub's own check on the pushed
//! audit chain) — including one that arrived after the thread was opened —
//! then applied; rejection needs a listed reason, "other" a note; a query
//! goes to the patient as a sealed reply and the thread awaits the patient.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::refill::RefillError;
use sealbox_core::workstation::WorkstationError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::api::ThreadChange;
use sealbox_model::category::Category;
use sealbox_model::error::RuleError;
use sealbox_model::hub_api::{PracticePolicy, RefillChoice, StateOp};
use sealbox_model::ids::MessageId;
use sealbox_model::message::{FreeText, MessagePart};
use sealbox_model::refill::RejectionReason;
use sealbox_model::role::Role;
use sealbox_sim::read_replies::read_replies;
use sealbox_sim::traffic::{self, PlannedMessage};
use sealbox_sim::{send, SendOptions};

use support::desks::enrol_approved;
use support::login::{enrol_and_login, get};
use support::start_hub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_waits_for_every_patient_message_to_be_viewed_and_other_decisions_follow_the_rules() {
    let hub = start_hub(20, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;

    let plan = traffic::plan(31, 20, 80);
    send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap();
    let mut desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    let refills: Vec<&PlannedMessage> =
        plan.iter().filter(|m| m.category == Category::RepeatPrescription && !m.red_flag).collect();
    let request = refills[0];
    let thread = request.thread_id;

    // Not opened yet: nothing viewed, approval refused before it is queued.
    let err = desk.decide_refill(thread, RefillChoice::Approve, "", now).unwrap_err();
    assert!(
        matches!(err, WorkstationError::Refill(RefillError::Rule(RuleError::UnviewedPatientMessages { .. }))),
        "{err:?}"
    );
    assert!(lock(&desk.store()).outbox().unwrap().is_empty());

    // Opened: the panel splits the request; approval is allowed now.
    let view = desk.open_thread(thread, now).unwrap().unwrap();
    let panel = view.refill.clone().expect("a repeat prescription request has the refill panel");
    assert!(!panel.items.is_empty());
    for item in &panel.items {
        assert!(item.text.starts_with(&item.name) && item.strength.is_some(), "split: {}", item.text);
    }
    assert_eq!(panel.approve_blocked, None);
    let received = |desk: &sealbox_core::workstation::Desk| {
        let inbox = desk.inbox_view(now, 500, None).unwrap();
        inbox.rows.iter().find(|r| r.thread == thread.0.to_string()).unwrap().received.clone()
    };
    assert_eq!(received(&desk), view.latest_received, "the inbox agrees the view is current");
    assert_eq!(panel.reasons.len(), RejectionReason::ALL.len());
    let earlier = refills.iter().filter(|m| m.patient == request.patient && m.thread_id != thread).count();
    let distinct: std::collections::BTreeSet<_> = refills
        .iter()
        .filter(|m| m.patient == request.patient && m.thread_id != thread)
        .map(|m| m.thread_id)
        .collect();
    assert_eq!(panel.history.len(), distinct.len(), "{earlier} earlier messages");

    // The patient writes again before the GP decides: approval is refused
    // until that message, too, was shown.
    let follow_up = PlannedMessage {
        patient: request.patient,
        thread_id: thread,
        message_id: MessageId(9_000_001),
        category: Category::RepeatPrescription,
        parts: vec![MessagePart::FreeText(FreeText::new("Sorry, I also need my inhaler."))],
        red_flag: false,
        attachments: Vec::new(),
    };
    hub.clock.advance(sealbox_model::jiff::SignedDuration::from_mins(1));
    send::send(&hub.client, &hub.url, &hub.patients(), &[follow_up], SendOptions::default()).await.unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    assert_ne!(received(&desk), view.latest_received, "the inbox knows of a newer message than shown");
    let err = desk.decide_refill(thread, RefillChoice::Approve, "", now).unwrap_err();
    assert!(
        matches!(
            err,
            WorkstationError::Refill(RefillError::Rule(RuleError::UnviewedPatientMessages { unviewed: 1 }))
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "1 patient message(s) not yet viewed by the approver");
    let view = desk.open_thread(thread, now).unwrap().unwrap();
    assert_eq!(view.messages.last().unwrap().text, "Sorry, I also need my inhaler.");
    assert_eq!(view.refill.unwrap().approve_blocked, None);
    desk.decide_refill(thread, RefillChoice::Approve, "", now).unwrap();
    // Sent as the app sends: the audit chain (with the views) first. The
    // patient is told in the practice's words, and the thread is closed.
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (3, 0), "decision, reply, close: {sent:?}");
    let told = read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap();
    assert_eq!(told.len(), 1, "the patient is told without a note");
    assert!(
        told[0].text.starts_with("Dear ") && told[0].text.contains("has been issued"),
        "{}",
        told[0].text
    );
    let view = desk.open_thread(thread, now).unwrap().unwrap();
    assert_eq!(view.state, "closed");
    // Reopened, it cannot be issued again: the hub refuses, saying who did.
    desk.change(thread, ThreadChange::State { change: StateOp::Reopen }, now).unwrap();
    desk.decide_refill(thread, RefillChoice::Approve, "", now).unwrap();
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!(sent.applied, 1, "the reopening: {sent:?}");
    assert_eq!(
        sent.rejected.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["already_decided"],
        "{sent:?}"
    );
    assert_eq!(read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap().len(), 1, "told once");

    // Another request: "other" needs a note; a coded reason does not.
    let second = refills.iter().find(|m| m.thread_id != thread).unwrap().thread_id;
    desk.open_thread(second, now).unwrap().unwrap();
    let reject_other = RefillChoice::Reject { reason: RejectionReason::Other };
    let err = desk.decide_refill(second, reject_other, "  ", now).unwrap_err();
    assert!(
        matches!(err, WorkstationError::Refill(RefillError::Rule(RuleError::RejectionNoteRequired))),
        "{err:?}"
    );
    let query = desk.decide_refill(second, RefillChoice::QueryPatient, "", now).unwrap_err();
    assert!(matches!(query, WorkstationError::Refill(RefillError::QuestionRequired)), "{query:?}");

    // A query: the thread awaits the patient here at once, and the question
    // reaches the patient sealed, after the decision.
    desk.claim(second, now).unwrap();
    desk.decide_refill(second, RefillChoice::QueryPatient, "Are you still taking it twice a day?", now)
        .unwrap();
    assert_eq!(desk.open_thread(second, now).unwrap().unwrap().state, "awaiting_patient");
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.conflicts.len(), sent.rejected.len()), (3, 0, 0), "{sent:?}");
    let replies = read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap();
    assert_eq!(replies.len(), 2, "the approval's and the question");
    assert!(
        replies.iter().any(|r| r.text.starts_with("Are you still taking it twice a day?\n\n")),
        "the question reaches the patient"
    );
    let sid = second.0 as i64;
    let state: String = hub
        .state
        .db
        .sqlite_blocking(move |c| {
            c.query_row("SELECT state_kind FROM threads WHERE id = ?1", [sid], |r| r.get(0))
        })
        .unwrap();
    assert_eq!(state, "awaiting_patient");

    // Settings: the idle lock only within the practice's bounds, audited.
    use sealbox_model::api::Settings;
    use sealbox_model::jiff::SignedDuration;
    let defaults = desk.settings().unwrap();
    assert_eq!(
        (defaults.settings.idle_seconds, defaults.settings.notifications, defaults.settings.theme.as_str()),
        (300, true, "system")
    );
    assert_eq!((defaults.idle_min_seconds, defaults.idle_max_seconds), (30, 900));
    let mine = Settings { idle_seconds: 120, notifications: false, theme: "dark".into() };
    assert_eq!(desk.save_settings(&mine, now).unwrap().settings, mine);
    assert_eq!(desk.lock_policy().unwrap().idle(), SignedDuration::from_secs(120));
    let actions: Vec<String> =
        lock(&desk.store()).audit_events(5).unwrap().into_iter().map(|l| l.action).collect();
    assert!(actions.contains(&"settings:idle_seconds=120".to_owned()), "{actions:?}");
    assert!(actions.contains(&"settings:notifications=off".to_owned()), "{actions:?}");
    let longer = Settings { idle_seconds: 1_200, ..mine.clone() };
    let err = desk.save_settings(&longer, now).unwrap_err();
    assert_eq!(err.to_string(), "the lock timeout must be between 30 and 900 seconds");
    let err = desk.save_settings(&Settings { theme: "neon".into(), ..mine.clone() }, now).unwrap_err();
    assert!(matches!(err, WorkstationError::Settings(_)), "{err:?}");
    // The practice lowers its maximum below the choice and asks for
    // re-authentication hourly (`sealbox-hub policy`): the next fetch from
    // the hub (every online unlock) applies it, audited.
    assert_eq!(desk.practice_policy().unwrap(), support::demo_practice(), "the test practice's policy");
    let strict = PracticePolicy {
        max_idle_secs: 60,
        reauth_secs: 3_600,
        allow_weaker_keys: false,
        ..support::demo_practice()
    };
    hub.state.db.call_blocking(|c| sealbox_hub::auth::policy::set(c, strict, "test", now)).unwrap();
    assert_eq!(desk.refresh_policy(now).await.unwrap(), strict);
    assert_eq!(desk.practice_policy().unwrap(), strict, "kept in the cache for offline unlocks");
    let view = desk.settings().unwrap();
    assert_eq!((view.settings.idle_seconds, view.idle_max_seconds), (60, 60));
    let policy = desk.lock_policy().unwrap();
    assert_eq!(
        (policy.idle(), policy.reauth()),
        (SignedDuration::from_secs(60), SignedDuration::from_hours(1))
    );
    let err = desk.save_settings(&mine, now).unwrap_err();
    assert_eq!(err.to_string(), "the lock timeout must be between 30 and 60 seconds");
    let last = lock(&desk.store()).audit_events(1).unwrap();
    assert_eq!(
        last[0].action,
        "practice_policy:max_idle=60,reauth=3600,weaker_keys=false,max_offline=259200,demo_keys=true"
    );

    drop(engine);
    desk.lock("idle", now).await.unwrap();
    gp.wipe(&keyring);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_listing_two_medicines_is_decided_one_by_one_and_the_patient_is_told_of_each() {
    use sealbox_model::hub_api::{ActionOp, ActionOutcome, ActionRequest, ActionsRequest, IdempotencyKey};
    use sealbox_model::hub_api::{ItemDecision, ItemOutcome};
    use sealbox_model::ids::ThreadId;
    use sealbox_model::message::{MedicationRequest, MedicationText};
    let hub = start_hub(4, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let thread = ThreadId(9_901);
    let request = PlannedMessage {
        patient: 0,
        thread_id: thread,
        message_id: MessageId(9_902),
        category: Category::RepeatPrescription,
        parts: vec![
            MessagePart::FreeText(FreeText::new("My usual two please.")),
            MessagePart::MedicationRequest(MedicationRequest {
                items: vec![
                    MedicationText::new("Methotrexate 2.5mg tablets, 24"),
                    MedicationText::new("Folic acid 5mg tablets, 4"),
                ],
                shared_notes: Vec::new(),
                answers: Vec::new(),
            }),
        ],
        red_flag: false,
        attachments: Vec::new(),
    };
    send::send(&hub.client, &hub.url, &hub.patients(), &[request], SendOptions::default()).await.unwrap();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    let panel = desk.open_thread(thread, now).unwrap().unwrap().refill.expect("the refill panel");
    assert_eq!(panel.items.len(), 2);
    // The model's warnings are shown: methotrexate is issued only with its
    // blood monitoring up to date.
    assert!(
        panel.warnings.iter().any(|w| w.starts_with("Methotrexate needs blood monitoring")),
        "{:?}",
        panel.warnings
    );

    // Over HTTP, decisions per medicine that do not make the decision as a
    // whole, or decide one medicine twice, are refused by the hub.
    let issue = |item| ItemDecision { item, outcome: ItemOutcome::Issue };
    let monitoring = ItemDecision {
        item: 0,
        outcome: ItemOutcome::NotIssued { reason: RejectionReason::MonitoringNeeded },
    };
    let version = hub.thread_version(thread);
    let forged = |key: &str, decision, items| ActionRequest {
        idempotency_key: IdempotencyKey::new(key.to_owned()).unwrap(),
        thread_id: thread,
        expected_version: version,
        op: ActionOp::RefillDecision { decision, items },
    };
    let reject = RefillChoice::Reject { reason: RejectionReason::MonitoringNeeded };
    let batch = ActionsRequest {
        actions: vec![
            forged("forged-1", reject, vec![monitoring, issue(1)]),
            forged("forged-2", RefillChoice::Approve, vec![issue(1), issue(1)]),
        ],
    };
    let out = desk.hub().post_actions(&batch).await.unwrap();
    for o in &out.results {
        assert!(
            matches!(&o.outcome, ActionOutcome::Rejected { code, .. } if code == "item_decisions"),
            "{out:?}"
        );
    }

    // The workstation checks the same before anything is queued: every
    // medicine once, and the decision as a whole following from them.
    for (choice, items) in [(RefillChoice::Approve, vec![issue(1)]), (reject, vec![monitoring, issue(1)])] {
        let err = desk.decide_refill_items(thread, choice, &items, "", now).unwrap_err();
        assert!(
            matches!(err, WorkstationError::Refill(RefillError::Rule(RuleError::ItemDecisions))),
            "{err:?}"
        );
    }
    assert!(lock(&desk.store()).outbox().unwrap().is_empty());

    // Folic acid issued, methotrexate not until the blood test: one
    // decision at the hub, with its places; the patient told of each.
    desk.decide_refill_items(thread, RefillChoice::Approve, &[monitoring, issue(1)], "", now).unwrap();
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (3, 0), "decision, reply, close: {sent:?}");
    let told = read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap();
    assert_eq!(told.len(), 1);
    let text = &told[0].text;
    assert!(text.starts_with("Dear ") && text.matches("Dear ").count() == 1, "{text}");
    assert!(text.contains("Folic acid 5mg tablets, 4 has been issued"), "{text}");
    assert!(text.contains("Methotrexate 2.5mg tablets, 24 again you need a blood test"), "{text}");
    let id = i64::try_from(thread.0).unwrap();
    let logged: String = hub
        .state
        .db
        .sqlite_blocking(move |c| {
            c.query_row(
                "SELECT op FROM actions WHERE thread_id = ?1 AND op LIKE '%refill_decision%'",
                [id],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert!(logged.contains("\"items\"") && !logged.contains("Folic"), "places only: {logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_requests_come_from_the_practice_hub_after_this_workstation_purged_them() {
    use sealbox_core::store::retention::RetentionPolicy;
    use sealbox_model::ids::ThreadId;
    use sealbox_model::jiff::SignedDuration;
    use sealbox_model::message::{MedicationRequest, MedicationText};
    let hub = start_hub(4, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let ask = |thread: u64, message: u64| PlannedMessage {
        patient: 0,
        thread_id: ThreadId(thread),
        message_id: MessageId(message),
        category: Category::RepeatPrescription,
        parts: vec![
            MessagePart::FreeText(FreeText::new("My usual please.")),
            MessagePart::MedicationRequest(MedicationRequest {
                items: vec![MedicationText::new("Ramipril 5mg capsules, 28")],
                shared_notes: Vec::new(),
                answers: Vec::new(),
            }),
        ],
        red_flag: false,
        attachments: Vec::new(),
    };
    let (first, second) = (ThreadId(9_911), ThreadId(9_913));
    send::send(&hub.client, &hub.url, &hub.patients(), &[ask(first.0, 9_912)], SendOptions::default())
        .await
        .unwrap();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    desk.open_thread(first, now).unwrap().unwrap();
    desk.decide_refill(first, RefillChoice::Approve, "", now).unwrap();
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (3, 0), "{sent:?}");

    // Five weeks on the cache has purged the closed request; the patient asks again.
    let later = now + SignedDuration::from_hours(24 * 35);
    let purged = lock(&desk.store()).purge_closed(RetentionPolicy::default(), later).unwrap();
    assert_eq!(purged.threads, 1);
    send::send(&hub.client, &hub.url, &hub.patients(), &[ask(second.0, 9_914)], SendOptions::default())
        .await
        .unwrap();
    engine.pull(&desk.store(), later).await.unwrap();
    let panel = desk.open_thread(second, later).unwrap().unwrap().refill.unwrap();
    assert!(panel.history.is_empty(), "the cache no longer holds it: {:?}", panel.history);
    // The practice's record still does: when, what was decided and by whom.
    let lines = desk.refill_history_reader().lines(second).await.unwrap().lines;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("medicines not on this workstation")
            && lines[0].contains("approved by ")
            && lines[0].ends_with("closed"),
        "{}",
        lines[0]
    );

    // Over HTTP: only a role that may read the thread gets its history.
    let navigator = enrol_and_login(&hub.url, &hub.state, Role::CareNavigator).await;
    let url = format!("{}/v1/threads/{}/history", hub.url, second.0);
    let (status, _) = get(&hub.client, url.clone(), &navigator.token).await;
    assert_eq!(status, 403, "a care navigator may not read repeat prescriptions");
    let nurse = enrol_and_login(&hub.url, &hub.state, Role::Nurse).await;
    let (status, body) = get(&hub.client, url, &nurse.token).await;
    assert_eq!(status, 200);
    assert_eq!(body["threads"][0]["thread_id"], serde_json::json!(first.0));
    assert_eq!(body["threads"][0]["decision"]["decision"]["kind"], "approve");
}
