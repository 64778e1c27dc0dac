//! The workload view and "My activity" in plain words (issue 23 points 14
//! and 2), on a real workstation (SQLCipher cache, the OS keyring) synced
//! from the real hub over loopback HTTP: a GP holds one thread, closes
//! another and hands a third to a named nurse; the workload counts them per
//! queue and per person, what falls due today and what is past its target
//! (the clock is a parameter: tomorrow and next month are asked directly),
//! and the GP's own day; My activity names what happened without ids.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::key::soft::SoftKey;
use sealbox_core::store::queries::InboxFilter;
use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_hub::config::RatePolicy;
use sealbox_model::api::{ThreadChange, WorkloadRow};
use sealbox_model::calendar::uk_time_zone;
use sealbox_model::hub_api::{AssignTarget, StateOp};
use sealbox_model::ids::{StaffId, ThreadId};
use sealbox_model::jiff::{SignedDuration, Timestamp};
use sealbox_model::role::Role;
use sealbox_sim::{send, SendOptions};

use support::desks::enrol_approved;
use support::start_hub;

fn row<'a>(rows: &'a [WorkloadRow], label: &str) -> &'a WorkloadRow {
    rows.iter().find(|r| r.label == label).unwrap_or_else(|| panic!("no row {label}: {rows:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workload_counts_queues_people_due_and_breached_and_my_activity_reads_without_ids() {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (ws_nurse, _key_nurse) =
        gp.another(&hub, &keyring, &dirs.path().join("nurse"), Role::Nurse, SoftKey::new("2468")).await;
    let nurse = StaffId(ws_nurse.profile().unwrap().user_id.clone());
    let (held, closed, handed) = (ThreadId(9_001), ThreadId(9_002), ThreadId(9_003));
    let questions = [
        support::clinical_question(held.0, 9_101, "Crushing chest pain going down my left arm", true),
        support::clinical_question(closed.0, 9_102, "Can I take ibuprofen with my inhaler?", false),
        support::clinical_question(handed.0, 9_103, "Could the nurse check my blood pressure log?", false),
    ];
    send::send(&hub.client, &hub.url, &hub.patients(), &questions, SendOptions::default()).await.unwrap();

    let now = hub.state.now();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    for t in [held, closed, handed] {
        desk.open_thread(t, now).unwrap().unwrap();
    }
    desk.claim(held, now).unwrap();
    desk.claim(closed, now).unwrap();
    desk.change(closed, ThreadChange::State { change: StateOp::Close }, now).unwrap();
    desk.hand_over(handed, &AssignTarget::Staff { id: nurse.clone(), role: Role::Nurse }, "", now).unwrap();
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert!(sent.conflicts.is_empty() && sent.rejected.is_empty(), "{sent:?}");
    engine.pull(&desk.store(), now).await.unwrap();

    // Now: two open threads in the GPs' queue, one held by the GP, one by
    // the nurse (named); the GP closed one today; nothing past its target.
    let w = desk.workload(now).unwrap();
    println!("workload now: {w:?}");
    let gps = row(&w.queues, "GPs' queue");
    assert_eq!((gps.open, gps.breached), (2, 0), "{w:?}");
    assert_eq!(w.people.len(), 2, "{w:?}");
    assert_eq!(w.people[0].label, "You", "the clinician first");
    assert_eq!(w.people[0].open, 1);
    assert_eq!(
        row(&w.people, &format!("Test Staff \u{b7} {}", Role::Nurse.title())).open,
        1,
        "named, not an id"
    );
    assert_eq!((w.holding, w.finished_today), (1, 1));
    assert!(!w.as_of.is_empty());

    // Due today: just before the red-flagged thread's target, it is counted
    // as due (with every other open thread whose target falls before
    // midnight, UK time), and nothing is breached yet.
    let page = lock(&desk.store()).inbox_page(&InboxFilter::default(), None, 50, now).unwrap();
    let due_ms = |t: ThreadId| -> i64 {
        let row = page.rows.iter().find(|r| r.thread == t).expect("open in the inbox");
        row.sort_key.due_ms.expect("a response target")
    };
    let urgent_due = Timestamp::from_millisecond(due_ms(held)).unwrap();
    let before = urgent_due.checked_sub(SignedDuration::from_mins(1)).unwrap();
    let tz = uk_time_zone().unwrap();
    let midnight = before.to_zoned(tz.clone()).date().tomorrow().unwrap().to_zoned(tz).unwrap().timestamp();
    let expected_due = [held, handed]
        .iter()
        .filter(|t| {
            let due = due_ms(**t);
            due > before.as_millisecond() && due < midnight.as_millisecond()
        })
        .count();
    assert!(expected_due >= 1);
    let w = desk.workload(before).unwrap();
    let gps = row(&w.queues, "GPs' queue");
    assert_eq!((gps.due_today as usize, gps.breached), (expected_due, 0), "{w:?}");
    assert_eq!(w.people[0].due_today, 1, "the GP's red-flagged thread is due today");

    // A month on, everything open is past its target and nothing is "due
    // today"; and nothing was closed that day.
    let later = now.checked_add(SignedDuration::from_hours(24 * 30)).unwrap();
    let w = desk.workload(later).unwrap();
    for r in w.queues.iter().chain(&w.people) {
        assert_eq!((r.breached, r.due_today), (r.open, 0), "{r:?}");
    }
    assert_eq!(row(&w.queues, "GPs' queue").breached, 2);
    assert_eq!(w.finished_today, 0, "closes count on the day they happened");

    // My activity: plain sentences, no message or thread ids.
    let mine = desk.my_activity().unwrap();
    let said: Vec<&str> = mine.lines.iter().map(|l| l.what.as_str()).collect();
    println!("my activity: {said:?}");
    assert!(said.contains(&"closed the thread"), "{said:?}");
    assert!(said.contains(&"claimed the thread"), "{said:?}");
    assert!(said.contains(&"handed the thread on"), "{said:?}");
    assert!(
        said.iter().any(|s| s.starts_with("viewed the message of ") && s.ends_with("(clinical question)")),
        "{said:?}"
    );
    assert!(said.iter().any(|s| s.starts_with("received the practice's policy: lock after ")), "{said:?}");
    for s in &said {
        assert!(!s.contains("910") && !s.contains("900") && !s.contains('='), "an id or a key: {s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_away_hands_what_a_gp_holds_to_a_deputy_where_allowed_else_to_its_queue_and_targets_keep_running(
) {
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (ws_nav, _key_nav) = gp
        .another(&hub, &keyring, &dirs.path().join("navigator"), Role::CareNavigator, SoftKey::new("2468"))
        .await;
    let navigator = StaffId(ws_nav.profile().unwrap().user_id.clone());
    let (clinical, letter) = (ThreadId(9_501), ThreadId(9_502));
    let mut admin = support::clinical_question(letter.0, 9_602, "Could you send a letter for my gym?", false);
    admin.category = sealbox_model::category::Category::AdminLetters;
    let question = support::clinical_question(clinical.0, 9_601, "My rash is spreading slowly", false);
    send::send(&hub.client, &hub.url, &hub.patients(), &[question, admin], SendOptions::default())
        .await
        .unwrap();

    let now = hub.state.now();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    for t in [clinical, letter] {
        desk.open_thread(t, now).unwrap().unwrap();
        desk.claim(t, now).unwrap();
    }
    engine.send(&desk.store(), now).await.unwrap();
    let due = |t: ThreadId| {
        let page = lock(&desk.store()).inbox_page(&InboxFilter::default(), None, 50, now).unwrap();
        page.rows.iter().find(|r| r.thread == t).map(|r| r.sort_key.due_ms)
    };
    let before = (due(clinical), due(letter));
    assert_eq!(desk.workload(now).unwrap().holding, 2);
    let deputies = desk.workload(now).unwrap().deputies;
    assert!(deputies.iter().any(|d| d.id == navigator.0), "{deputies:?}");

    // A care navigator may take the letter, not the clinical question: that
    // goes back to the GPs' queue.
    let cover = desk.cover_absence(Some(&navigator), now).unwrap();
    assert_eq!((cover.to_deputy, cover.to_queue), (1, 1));
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert!(sent.conflicts.is_empty() && sent.rejected.is_empty(), "{sent:?}");
    engine.pull(&desk.store(), now).await.unwrap();
    let state = |t: ThreadId| {
        let id = i64::try_from(t.0).unwrap();
        hub.state
            .db
            .sqlite_blocking(move |c| {
                c.query_row("SELECT state_kind, queue_pool, state FROM threads WHERE id = ?1", [id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?))
                })
            })
            .unwrap()
    };
    let (kind, pool, _) = state(clinical);
    assert_eq!((kind.as_str(), pool.as_deref()), ("assigned", Some("gp")), "back to its queue");
    let (kind, _, json) = state(letter);
    assert!(kind == "assigned" && json.contains(&navigator.0), "to the deputy: {kind} {json}");
    let w = desk.workload(now).unwrap();
    assert_eq!(w.holding, 0, "{w:?}");
    assert_eq!(row(&w.people, &format!("Test Staff \u{b7} {}", Role::CareNavigator.title())).open, 1);
    assert_eq!((due(clinical), due(letter)), before, "response targets keep running");
    // Nothing left to hand on: a second cover moves nothing.
    assert_eq!(desk.cover_absence(None, now).unwrap(), Default::default());
}

/// Sends the desk's outbox; every action applied.
async fn sync(desk: &sealbox_core::workstation::Desk, now: Timestamp) {
    let sent = desk.engine().unwrap().send(&desk.store(), now).await.unwrap();
    assert!(sent.conflicts.is_empty() && sent.rejected.is_empty(), "{sent:?}");
}

/// The hub's state of `thread`: its kind and its state as JSON.
fn hub_state(hub: &support::Hub, thread: ThreadId) -> (String, String) {
    let id = i64::try_from(thread.0).unwrap();
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.query_row("SELECT state_kind, state FROM threads WHERE id = ?1", [id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_or_a_hand_over_is_undone_within_ten_seconds_by_ordinary_actions_the_hub_applies() {
    use sealbox_core::workstation::undo::UndoError;
    use sealbox_core::workstation::WorkstationError;
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let me = gp.ws.profile().unwrap().user_id.clone();
    let (held, queued) = (ThreadId(9_701), ThreadId(9_702));
    let messages = [
        support::clinical_question(held.0, 9_801, "My ankle is still swollen", false),
        support::clinical_question(queued.0, 9_802, "Can I travel after my operation?", false),
    ];
    send::send(&hub.client, &hub.url, &hub.patients(), &messages, SendOptions::default()).await.unwrap();
    let now = hub.state.now();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    // Each inbox row previews the patient's newest words.
    let inbox = desk.inbox_view(now, 50, None).unwrap();
    let preview =
        |t: ThreadId| inbox.rows.iter().find(|r| r.thread == t.0.to_string()).map(|r| r.preview.clone());
    assert_eq!(preview(held).as_deref(), Some("My ankle is still swollen"));
    desk.open_thread(held, now).unwrap().unwrap();
    desk.claim(held, now).unwrap();
    sync(&desk, now).await;
    assert_eq!(hub_state(&hub, held).0, "in_progress");

    // Closed, then undone 9.9 seconds later: reopened and held by the GP again.
    let close = ThreadChange::State { change: StateOp::Close };
    desk.change(held, close, now).unwrap();
    sync(&desk, now).await;
    assert_eq!(hub_state(&hub, held).0, "closed");
    assert_eq!(desk.undo(now + SignedDuration::from_millis(9_900)).unwrap(), held);
    sync(&desk, now).await;
    let (kind, json) = hub_state(&hub, held);
    assert!(kind == "in_progress" && json.contains(&me), "held again: {kind} {json}");
    // Undone once: nothing is left to undo.
    assert!(matches!(desk.undo(now), Err(WorkstationError::Undo(UndoError::Nothing))));

    // A thread nobody held, handed to the nurses, goes back to the GPs' queue.
    let nurses = AssignTarget::Pool { pool: sealbox_model::pool::Pool::Nurse };
    desk.hand_over(queued, &nurses, "", now).unwrap();
    sync(&desk, now).await;
    assert!(hub_state(&hub, queued).1.contains("nurse"));
    desk.undo(now + SignedDuration::from_secs(2)).unwrap();
    sync(&desk, now).await;
    let (kind, json) = hub_state(&hub, queued);
    assert!(kind == "assigned" && json.contains("\"gp\""), "back in its queue: {kind} {json}");

    // Ten seconds on, the close stands.
    desk.change(held, close, now).unwrap();
    sync(&desk, now).await;
    let late = desk.undo(now + SignedDuration::from_secs(10));
    assert!(matches!(late, Err(WorkstationError::Undo(UndoError::TooLate))), "{late:?}");
    sync(&desk, now).await;
    assert_eq!(hub_state(&hub, held).0, "closed");
    // The hub's log holds the close, the reopen and the claim back: an undo erases nothing.
    let ops = hub
        .state
        .db
        .sqlite_blocking(move |c| {
            let mut s = c.prepare("SELECT op FROM actions WHERE thread_id = ?1 ORDER BY seq")?;
            let rows = s.query_map([i64::try_from(held.0).unwrap()], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    let kind =
        |op: &String| ["reopen", "close", "claim"].into_iter().find(|k| op.contains(k)).unwrap_or("other");
    let kinds: Vec<&str> = ops.iter().map(kind).collect();
    assert_eq!(kinds, ["claim", "close", "reopen", "claim", "close"], "{ops:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absence_recorded_at_the_hub_stops_colleagues_handing_the_clinician_a_thread_until_they_are_back()
{
    use sealbox_model::hub_api::{ActionOp, ActionOutcome, ActionRequest, ActionsRequest, IdempotencyKey};
    let hub = start_hub(2, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;
    let (mut ws_nav, mut key_nav) = gp
        .another(&hub, &keyring, &dirs.path().join("navigator"), Role::CareNavigator, SoftKey::new("2468"))
        .await;
    let navigator = StaffId(ws_nav.profile().unwrap().user_id.clone());
    let letter = ThreadId(9_701);
    let mut admin = support::clinical_question(letter.0, 9_702, "Could you send a letter for my gym?", false);
    admin.category = sealbox_model::category::Category::AdminLetters;
    send::send(&hub.client, &hub.url, &hub.patients(), &[admin], SendOptions::default()).await.unwrap();
    let now = hub.state.now();

    // The care navigator records that she is away for two days; an absence
    // in the past is refused.
    let away = ws_nav.unlock(&mut key_nav, now).await.unwrap();
    assert!(away.record_absence(Some(now - SignedDuration::from_hours(1))).await.is_err());
    away.record_absence(Some(now + SignedDuration::from_hours(48))).await.unwrap();

    // The GP is not offered her, and the hub refuses a hand-over to her
    // anyway, saying she is away.
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    let entry = desk.staff().unwrap().staff.into_iter().find(|s| s.id == navigator).unwrap();
    assert!(!entry.active && entry.away_until.is_some(), "{entry:?}");
    let offered = |desk: &sealbox_core::workstation::Desk| {
        desk.open_thread(letter, now)
            .unwrap()
            .unwrap()
            .hand_to
            .into_iter()
            .any(|o| matches!(&o.to, AssignTarget::Staff { id, .. } if *id == navigator))
    };
    assert!(!offered(&desk), "an absent colleague is not offered");
    let hand = ActionsRequest {
        actions: vec![ActionRequest {
            idempotency_key: IdempotencyKey::new("hand-to-absent".to_owned()).unwrap(),
            thread_id: letter,
            expected_version: hub.thread_version(letter),
            op: ActionOp::Assign {
                to: AssignTarget::Staff { id: navigator.clone(), role: Role::CareNavigator },
            },
        }],
    };
    let out = desk.hub().post_actions(&hand).await.unwrap();
    assert!(
        matches!(&out.results[0].outcome, ActionOutcome::Rejected { code, detail } if code == "away" && detail.contains("away until")),
        "{out:?}"
    );

    // Back: offered again, and the hand-over is applied.
    away.record_absence(None).await.unwrap();
    desk.refresh_staff().await.unwrap();
    assert!(offered(&desk), "back at work: offered again");
    let to = AssignTarget::Staff { id: navigator.clone(), role: Role::CareNavigator };
    desk.hand_over(letter, &to, "", now).unwrap();
    let sent = engine.send(&desk.store(), now).await.unwrap();
    assert_eq!((sent.applied, sent.rejected.len()), (2, 0), "triaged on the way, then handed: {sent:?}");
}
