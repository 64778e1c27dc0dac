//! A GP's refill request, in the real app against a real hub fed by
//! sealbox-sim: the refill review shows what was asked for; the patient
//! writes again while it is open — the thread says so, and Approve is
//! refused until that message was shown, then succeeds and reaches the
//! hub; the patient is told in the practice's words, filled with their
//! name and medicine, and the thread is closed; `sealbox-sim read-replies`
//! opens exactly that text with the patient's own key. Locking leaves none
//! of it in the page.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
use std::time::{Duration, Instant};

use sealbox_e2e::flows::{self, assert_no_names, unlock};
use sealbox_e2e::practice::{Practice, GP_NAME, GP_REGISTRATION};
use sealbox_e2e::{words, App};

const FOLLOW_UP: &str = "Sorry, I forgot: I also need my brown inhaler.";

/// `document.querySelector(css)[prop]`, as JSON.
async fn prop(app: &App, css: &str, prop: &str) -> serde_json::Value {
    let script = format!(
        "const done = arguments[arguments.length - 1]; const el = document.querySelector({css:?}); \
         done(el ? el[{prop:?}] : null);"
    );
    app.run_async(&script).await.expect("probe")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refill_is_approved_only_once_every_message_was_shown_and_the_patient_is_told_in_the_practices_words(
) {
    let practice = Practice::start(20, 60).await.expect("a practice with patients' messages");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    let (names, _, _) = unlock(&app, practice.threads).await;
    let refill = practice.refill_thread.clone();

    // The refill review: the medicines asked for; Approve allowed once shown.
    app.click(&format!("#inbox tr[data-thread='{refill}'] .patient")).await.expect("open the request");
    app.text("#refill-title").await.expect("the refill review");
    let items = app.texts("#refill tr.item td:first-child").await.expect("items");
    println!("e2e: refill items: {}", items.len());
    assert!(!items.is_empty() && items.iter().all(|i| !i.trim().is_empty()), "{items:?}");
    assert_eq!(prop(&app, "#approve", "disabled").await, false, "every message is shown: Approve allowed");
    app.screenshot("refill-review").await.expect("screenshot");
    flows::assert_contrast(&app, "refill review").await;

    // The patient writes again while the GP reads: the thread says so.
    practice.patient_writes(&refill, FOLLOW_UP).await.expect("the patient writes again");
    let banner = app
        .text_within("#thread-new", Duration::from_secs(40))
        .await
        .expect("the open thread says the patient wrote again");
    println!("e2e: {banner}");
    // Approve now is refused by the rule (the new message was not shown),
    // and the thread is shown again with it.
    app.click("#approve").await.expect("approve");
    let refused = app.text("#refill-error").await.expect("the refusal is shown");
    println!("e2e: approve before the new message was shown -> {refused}");
    assert!(refused.contains("not yet viewed"), "{refused}");
    app.wait_gone("#thread-new").await.expect("the new message is now shown");
    let bodies = app.texts("#thread .message .body").await.expect("bodies");
    assert_eq!(bodies.last().map(|b| words(b)), Some(words(FOLLOW_UP)));
    let mut changes = practice.hub_changes();
    app.click("#approve").await.expect("approve again");
    let done = app.text("#refill-done").await.expect("approved");
    assert_eq!(done, "Approved: queued for the practice hub.");
    let deadline = Instant::now() + Duration::from_secs(20);
    let decisions = loop {
        let d = practice.hub_actions(&refill, "refill_decision").expect("hub actions");
        if !d.is_empty() {
            break d;
        }
        changes.next(deadline).await.expect("the decision reaches the hub");
    };
    println!("e2e: refill decisions at the hub: {decisions:?}");
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert!(decisions[0].contains("approve"), "{decisions:?}");

    // The patient is told in the practice's words (no note was written),
    // signed, and the thread is closed: nobody can issue it twice.
    let sent = app.text("#thread .message.staff .body").await.expect("the reply is shown in the thread");
    assert!(words(&sent).starts_with("Dear ") && sent.contains(&items[0]) && !sent.contains('{'), "{sent}");
    assert!(
        words(&sent).ends_with(&format!("{GP_NAME}, GP ({GP_REGISTRATION})")),
        "signed with name, role and registration: {sent}"
    );
    app.wait_attr("#thread-state", "data-state", |s| s == "closed").await.expect("closed once decided");
    assert_eq!(prop(&app, "#approve", "disabled").await, true, "a decided request cannot be approved again");
    app.screenshot("reply-sent").await.expect("screenshot");
    flows::assert_contrast(&app, "a decided request with the patient told").await;

    // The patient opens it with their own key: exactly what was sent.
    let deadline = Instant::now() + Duration::from_secs(20);
    let replies = loop {
        let r = practice.replies().await.expect("read-replies");
        if !r.is_empty() {
            break r;
        }
        changes.next(deadline).await.expect("the reply reaches the hub");
    };
    println!("e2e: read-replies: {} reply(ies)", replies.len());
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].0, refill);
    assert_eq!(words(&replies[0].1), words(&sent));

    // Locked: nothing of the thread stays in the page.
    app.press_ctrl('l').await.expect("Ctrl+L");
    app.text("#lock-reason").await.expect("locked");
    let page = app.source().await.expect("page source");
    assert_no_names(&page, &names);
    assert!(!page.contains(&items[0]) && !page.contains(FOLLOW_UP) && !page.contains("Dear "));
    app.close().await.expect("close");
    drop(practice);
}
