//! Replying end to end against the real hub over loopback HTTP: a GP opens
//! a repeat-prescription request, picks the quick reply filled with the
//! patient's name and medicine, and sends it; the patient (sealbox-sim's
//! `read-replies`, with the patient's own key) reads exactly that text,
//! signed with the GP's name and role; the reply syncs back to the GP's
//! device and opens there. A reply the hub does not apply returns to the
//! thread's draft, never lost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use sealbox_core::sync::lock;
use sealbox_core::vault::Keyring;
use sealbox_core::workstation::reply::ReplyError;
use sealbox_core::workstation::WorkstationError;
use sealbox_hub::config::RatePolicy;
use sealbox_model::category::Category;
use sealbox_model::role::Role;
use sealbox_sim::read_replies::read_replies;
use sealbox_sim::{send, traffic, SendOptions};

use support::desks::enrol_approved;
use support::start_hub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_templated_reply_reaches_the_patient_sealed_and_a_refused_one_returns_to_the_draft() {
    let hub = start_hub(20, RatePolicy { burst: 100_000, per_minute: 0 }).await;
    let now = hub.state.now();
    let keyring = Keyring::platform().expect("a Secret Service (run under `cargo xtask test`)");
    let dirs = tempfile::tempdir().unwrap();
    let mut gp = enrol_approved(&hub, &keyring, dirs.path(), Role::Gp).await;

    let plan = traffic::plan(21, 20, 40);
    send::send(&hub.client, &hub.url, &hub.patients(), &plan, SendOptions::default()).await.unwrap();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    engine.pull(&desk.store(), now).await.unwrap();
    let before = lock(&desk.store()).message_count().unwrap();

    // A repeat-prescription request: the quick reply names the patient and
    // the medicines they asked for.
    let request = plan.iter().find(|m| m.category == Category::RepeatPrescription && !m.red_flag).unwrap();
    let thread = desk.open_thread(request.thread_id, now).unwrap().unwrap();
    assert!(thread.can_reply);
    assert_eq!(thread.draft, "");
    let first_name = thread.patient.split_whitespace().next().unwrap().to_owned();
    let asked = thread.messages.iter().rev().find(|m| !m.medicines.is_empty()).unwrap().medicines.clone();
    let ready = thread.templates.iter().find(|t| t.key == "refill_ready").expect("offered on refills");
    assert!(ready.text.starts_with(&format!("Dear {first_name}, your repeat prescription for {}", asked[0])));
    assert!(!ready.text.contains('{'), "every placeholder filled: {}", ready.text);
    assert!(thread.templates.iter().all(|t| t.key != "results_normal"), "offered by category");

    // Empty and overlong replies are refused before anything is queued.
    let err = desk.reply(request.thread_id, "  \n ", now).unwrap_err();
    assert!(matches!(err, WorkstationError::Reply(ReplyError::Empty)), "{err:?}");
    let err = desk.reply(request.thread_id, &"x".repeat(4_001), now).unwrap_err();
    assert!(matches!(err, WorkstationError::Reply(ReplyError::TooLong)), "{err:?}");
    assert_eq!(err.to_string(), "the reply is too long: at most 4000 characters");
    assert!(lock(&desk.store()).outbox().unwrap().is_empty());

    // A half-typed reply is kept in the encrypted cache as it is typed, so
    // a lock (which reloads the page) loses none of it; blank clears it.
    let half = format!("{}\nPlease allow", ready.text);
    desk.save_draft(request.thread_id, &half, now).unwrap();
    let err = desk.save_draft(request.thread_id, &"x".repeat(4_001), now).unwrap_err();
    assert!(matches!(err, WorkstationError::Reply(ReplyError::TooLong)), "{err:?}");
    drop(engine);
    desk.lock("idle", now).await.unwrap();
    let desk = gp.ws.unlock(&mut gp.key, now).await.unwrap();
    let engine = desk.engine().unwrap();
    assert_eq!(
        desk.open_thread(request.thread_id, now).unwrap().unwrap().draft,
        half,
        "kept across the lock"
    );
    desk.save_draft(request.thread_id, " \n", now).unwrap();
    assert_eq!(desk.open_thread(request.thread_id, now).unwrap().unwrap().draft, "");
    desk.save_draft(request.thread_id, &half, now).unwrap();

    // Sent: shown in the thread at once, signed; at the hub after the send.
    let written = format!("{}\nPlease allow 2 working days.", ready.text);
    // Written a minute after the patient's message arrived (the hub's clock
    // is held still in these tests).
    let later = now.checked_add(sealbox_model::jiff::SignedDuration::from_mins(1)).unwrap();
    hub.clock.advance(sealbox_model::jiff::SignedDuration::from_mins(1));
    desk.reply(request.thread_id, &written, later).unwrap();
    let shown = desk.open_thread(request.thread_id, now).unwrap().unwrap();
    assert_eq!(shown.draft, "", "the reply sent clears its draft");
    assert_eq!(desk.profile().sign_off(), "Test Staff, GP (GMC 7012345)", "name, role and registration");
    let signed = format!("{written}\n\n{}", desk.profile().sign_off());
    let mine = shown.messages.last().unwrap();
    // Named from the practice's staff directory, fetched at unlock.
    assert_eq!((mine.from.as_str(), mine.text.as_str()), ("Test Staff \u{b7} GP", signed.as_str()));
    let sent = sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    assert_eq!(sent.applied, 1, "{sent:?}");

    // The patient opens it with their own key: exactly what was written.
    let replies = read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap();
    assert_eq!(replies.len(), 1, "one reply, to one patient");
    assert_eq!(replies[0].thread_id, request.thread_id.0);
    assert_eq!(replies[0].patient_id, hub.practice.patients[request.patient].patient_id.0);
    assert_eq!(replies[0].text, signed);

    // It syncs back (sealed to the GP pool too) and opens on this device.
    let pulled = engine.pull(&desk.store(), now).await.unwrap();
    assert_eq!(pulled.applied.unreadable, 0);
    assert_eq!(lock(&desk.store()).message_count().unwrap(), before + 1);
    let synced = desk.open_thread(request.thread_id, now).unwrap().unwrap();
    assert_eq!(synced.messages.last().unwrap().text, signed);

    // A colleague changes the thread first (its version moves at the hub):
    // the queued reply is not applied, leaves the thread and comes back as
    // the draft, after anything drafted there since.
    let tid = request.thread_id.0 as i64;
    hub.state
        .db
        .sqlite_blocking(move |c| c.execute("UPDATE threads SET version = version + 1 WHERE id = ?1", [tid]))
        .unwrap();
    let draft = |text: &str| desk.save_draft(request.thread_id, text, now).unwrap();
    draft("Second reply, raced.");
    assert_eq!(desk.open_thread(request.thread_id, now).unwrap().unwrap().draft, "Second reply, raced.");
    desk.reply(request.thread_id, "Second reply, raced.", later).unwrap();
    assert_eq!(
        desk.open_thread(request.thread_id, now).unwrap().unwrap().draft,
        "",
        "sending clears the draft"
    );
    // A further reply queued behind it assumed it would apply: it comes back too.
    desk.reply(request.thread_id, "Third, queued behind it.", later).unwrap();
    draft("A note started since");
    let sent = sealbox_core::sync::outbox::send(&desk.store(), desk.hub(), now).await.unwrap();
    assert_eq!((sent.applied, sent.conflicts.len()), (0, 2), "{sent:?}");
    assert!(lock(&desk.store()).outbox().unwrap().is_empty());
    let back = desk.open_thread(request.thread_id, now).unwrap().unwrap();
    // What the GP wrote, without the sign-off (added again when sent).
    assert_eq!(back.draft, "A note started since\n\nSecond reply, raced.\n\nThird, queued behind it.");
    assert_eq!(back.messages.last().unwrap().text, signed, "the unsent reply left the thread");
    assert_eq!(read_replies(&hub.client, &hub.url, &hub.patients()).await.unwrap().len(), 1);

    // Closed (e): no more replies; handed to the pharmacists' queue (a)
    // after reopening; both by sealbox-model's rules, here and at the hub.
    use sealbox_model::api::ThreadChange;
    use sealbox_model::hub_api::StateOp;
    let tid = request.thread_id;
    let err = desk.change(tid, ThreadChange::State { change: StateOp::Close }, later).unwrap_err();
    assert!(matches!(err, WorkstationError::Rule(_)), "a new thread is claimed before it is closed: {err:?}");
    desk.claim(tid, later).unwrap();
    desk.change(tid, ThreadChange::State { change: StateOp::Close }, later).unwrap();
    let closed = desk.open_thread(tid, later).unwrap().unwrap();
    assert_eq!((closed.state.as_str(), closed.can_reply), ("closed", false));
    let err = desk.reply(tid, "After closing", later).unwrap_err();
    assert!(matches!(err, WorkstationError::Reply(ReplyError::Closed)), "{err:?}");
    let err = desk.change(tid, ThreadChange::State { change: StateOp::Close }, later).unwrap_err();
    assert!(matches!(err, WorkstationError::Rule(_)), "closing twice is refused: {err:?}");
    desk.change(tid, ThreadChange::State { change: StateOp::Reopen }, later).unwrap();
    let pharmacy = sealbox_model::pool::Pool::Pharmacy;
    let to_pool = |pool| sealbox_model::hub_api::AssignTarget::Pool { pool };
    desk.hand_over(tid, &to_pool(pharmacy), "", later).unwrap();
    let row =
        desk.inbox_view(later, 500, None).unwrap().rows.into_iter().find(|r| r.thread == tid.0.to_string());
    assert_eq!(row.map(|r| (r.pool, r.state)), Some(("pharmacy".to_owned(), "assigned".to_owned())));
    let sent = engine.send(&desk.store(), later).await.unwrap();
    assert_eq!((sent.applied, sent.conflicts.len(), sent.rejected.len()), (4, 0, 0), "{sent:?}");
    let at_hub: (String, Option<String>) = hub
        .state
        .db
        .sqlite_blocking(move |c| {
            c.query_row("SELECT state_kind, queue_pool FROM threads WHERE id = ?1", [tid.0 as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
        })
        .unwrap();
    assert_eq!(at_hub, ("assigned".to_owned(), Some("pharmacy".to_owned())));

    // A hand-over the hub refuses (a colleague changed the thread first)
    // leaves the thread in the queue the hub has it in.
    engine.pull(&desk.store(), later).await.unwrap();
    desk.hand_over(tid, &to_pool(sealbox_model::pool::Pool::Gp), "", later).unwrap();
    let pool_here = |desk: &sealbox_core::workstation::Desk| {
        let rows = desk.inbox_view(later, 500, None).unwrap().rows;
        rows.into_iter().find(|r| r.thread == tid.0.to_string()).map(|r| r.pool)
    };
    assert_eq!(pool_here(&desk).as_deref(), Some("gp"), "shown at once");
    hub.state
        .db
        .sqlite_blocking(move |c| {
            c.execute("UPDATE threads SET version = version + 1 WHERE id = ?1", [tid.0 as i64])
        })
        .unwrap();
    let sent = engine.send(&desk.store(), later).await.unwrap();
    assert_eq!((sent.applied, sent.conflicts.len()), (0, 1), "{sent:?}");
    assert_eq!(pool_here(&desk).as_deref(), Some("pharmacy"), "back in the hub's queue");

    drop(engine);
    desk.lock("idle", now).await.unwrap();
    gp.wipe(&keyring);
}
