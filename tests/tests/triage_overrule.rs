//! Priority in human hands, in the real app against a real hub fed by
//! sealbox-sim: a red-flagged thread shows its flags and the words that
//! matched; lowering it without a reason is refused on the screen; with a
//! reason it is lowered, the flag stays shown with who overruled it, the
//! hub logs the decision, and the inbox row follows.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
use std::time::{Duration, Instant};

use sealbox_e2e::flows::{self, unlock};
use sealbox_e2e::practice::{Practice, GP_NAME};
use sealbox_e2e::App;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_overrules_a_red_flag_only_with_a_reason_and_the_flag_stays_visible() {
    let practice = Practice::start(20, 60).await.expect("a practice with patients' messages");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    unlock(&app, practice.threads).await;
    let urgent = app.attrs("#inbox tr[data-priority='urgent']", "data-thread").await.expect("urgent rows");
    let thread = urgent.first().expect("sealbox-sim sends red-flagged messages").clone();
    println!("e2e: {} urgent row(s); opening {thread}", urgent.len());

    app.click(&format!("#inbox tr[data-thread='{thread}'] .patient")).await.expect("open it");
    // Waits for the thread to show (texts() does not wait).
    let note = app.text("#red-flags p").await.expect("the red flags are shown");
    assert!(note.contains("safety net"), "the detector says it is assistive: {note}");
    let flags = app.texts("#red-flags li.flag").await.expect("the red flags");
    assert!(!flags.is_empty() && flags.iter().all(|f| f.contains('\u{201c}')), "{flags:?}");

    // Lowering without a reason: refused, and said.
    app.click("#priority option[value='routine']").await.expect("pick routine");
    app.click("#set-priority").await.expect("save");
    let refused = app.text("#thread .status[data-state='error']").await.expect("the refusal is shown");
    println!("e2e: lowering without a reason -> {refused}");
    assert!(refused.contains("needs a reason"), "{refused}");

    // With a reason: lowered, the flag stays, who and why are shown.
    let mut changes = practice.hub_changes();
    app.click("#lower-reason option[value='not_urgent_on_reading']").await.expect("pick a reason");
    app.click("#set-priority").await.expect("save");
    app.wait_attr("#triage-decision", "data-overruled", |v| v == "true")
        .await
        .expect("the decision is shown");
    let decision = app.text("#triage-decision").await.expect("decision line");
    println!("e2e: {decision}");
    assert!(decision.contains("routine") && decision.contains("Not urgent on reading"), "{decision}");
    assert!(decision.contains(&format!("by {GP_NAME} \u{b7} GP")), "named, not an id: {decision}");
    assert!(!app.texts("#red-flags li.flag").await.expect("flags").is_empty(), "the flag stays shown");
    app.screenshot("triage-overruled").await.expect("screenshot");
    flows::assert_contrast(&app, "thread with an overruled red flag").await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let logged = loop {
        let d = practice.hub_actions(&thread, "prioritise").expect("hub actions");
        if !d.is_empty() {
            break d;
        }
        changes.next(deadline).await.expect("the decision reaches the hub");
    };
    println!("e2e: decisions at the hub: {logged:?}");
    assert!(logged[0].contains("not_urgent_on_reading") && logged[0].contains("routine"), "{logged:?}");

    app.click("#back").await.expect("back to the inbox");
    app.wait_attr(&format!("#inbox tr[data-thread='{thread}']"), "data-priority", |p| p == "routine")
        .await
        .expect("the inbox row follows the decision");
    app.close().await.expect("close");
    drop(practice);
}
