//! A nurse's repeat prescriptions, in the real app against a real hub: a
//! nurse (enrolled and approved through the real flows) opens a request
//! listing two medicines; the review warns that methotrexate needs blood
//! monitoring; she issues folic acid and holds methotrexate back until the
//! blood test, medicine by medicine; the hub logs one decision with the
//! places only, and the patient (`sealbox-sim read-replies`, their own key)
//! is told of each medicine under one greeting. Earlier requests are the
//! practice hub's record, not only this workstation's cache. Before that,
//! the patient asks again for folic acid on a new thread: it is linked as
//! a repeat at intake and the nurse merges it with one key.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
use std::time::{Duration, Instant};

use sealbox_e2e::flows;
use sealbox_e2e::practice::Practice;
use sealbox_e2e::App;
use sealbox_model::role::Role;

const NURSE_PIN: &str = "1357";
const METHOTREXATE: &str = "Methotrexate 2.5mg tablets, 24";
const FOLIC_ACID: &str = "Folic acid 5mg tablets, 4";

/// `document.querySelector(css).disabled`.
async fn disabled(app: &App, css: &str) -> bool {
    let script = format!(
        "const done = arguments[arguments.length - 1]; done(document.querySelector({css:?})?.disabled ?? null);"
    );
    app.run_async(&script).await.expect("probe") == serde_json::Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_decides_a_two_medicine_request_one_by_one_and_the_patient_is_told_of_each() {
    let mut practice = Practice::start(12, 30).await.expect("a practice with patients' messages");
    let nurse_dir = practice
        .enrol_colleague(Role::Nurse, "Sam Okafor", Some("NMC 12A3456E"), NURSE_PIN)
        .await
        .expect("a nurse");
    let thread =
        practice.request_repeat(101, &[METHOTREXATE, FOLIC_ACID]).await.expect("a two-medicine request");
    // The patient asks again for folic acid the next minute: a repeat.
    let repeat = practice.request_repeat(111, &[FOLIC_ACID]).await.expect("a repeat request");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", nurse_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    flows::unlock_until(&app, NURSE_PIN, &thread).await;
    let who = app.text("#clinician").await.expect("who is signed in");
    assert!(who.contains("Sam Okafor") && who.contains("nurse"), "{who}");

    // The repeat is linked at intake and merged with one key: the pane
    // moves to the first request, where the repeat's message is read.
    app.click(&format!("#inbox tr[data-thread='{repeat}'] .patient")).await.expect("open the repeat");
    app.wait_attr("#repeat-of", "data-of", |s| s == thread).await.expect("linked as a repeat");
    app.click("#merge-repeat").await.expect("merge it");
    app.wait_attr("#thread", "data-thread", |s| s == thread).await.expect("the first request");
    let merged = app.texts("#thread .merged-from").await.expect("the repeat's message");
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].starts_with("From the repeat request received"), "{merged:?}");
    app.screenshot("repeat-merged").await.expect("screenshot");

    // Earlier requests come from the practice's record at the hub.
    app.wait_attr("#refill-history", "data-source", |s| s == "practice")
        .await
        .expect("the practice's record");
    let warnings = app.texts("#refill-warnings li").await.expect("warnings");
    assert!(warnings.iter().any(|w| w.starts_with("Methotrexate needs blood monitoring")), "{warnings:?}");
    // Nothing is chosen for her: the per-medicine decision waits for both.
    assert!(disabled(&app, "#decide-items").await, "no medicine decided yet");
    app.click("#item-decision-0 option[value='not:monitoring_needed']").await.expect("hold methotrexate");
    assert!(disabled(&app, "#decide-items").await, "folic acid not decided yet");
    app.click("#item-decision-1 option[value='issue']").await.expect("issue folic acid");
    let enabled = "!document.querySelector('#decide-items').disabled";
    let both =
        app.wait_for_js(enabled, std::time::Instant::now() + Duration::from_secs(10)).await.expect("probe");
    assert!(both, "both decided: the decision can be sent");
    app.screenshot("refill-per-medicine").await.expect("screenshot");
    flows::assert_contrast(&app, "refill decided medicine by medicine").await;

    let mut changes = practice.hub_changes();
    app.click("#decide-items").await.expect("send the decisions");
    let done = app.text("#refill-done").await.expect("decided");
    assert_eq!(done, "Decided medicine by medicine: queued for the practice hub.");
    let deadline = Instant::now() + Duration::from_secs(20);
    let decisions = loop {
        let d = practice.hub_actions(&thread, "refill_decision").expect("hub actions");
        if !d.is_empty() {
            break d;
        }
        changes.next(deadline).await.expect("the decision reaches the hub");
    };
    println!("e2e: the hub logged {decisions:?}");
    assert_eq!(decisions.len(), 1);
    assert!(
        decisions[0].contains("\"items\"") && !decisions[0].contains("Folic"),
        "places only: {decisions:?}"
    );

    // The patient reads one reply: folic acid issued, methotrexate after the blood test.
    let told = practice.reply_read(&thread, &mut changes).await.expect("the reply reaches the patient");
    println!("e2e: the patient reads: {told}");
    assert_eq!(told.matches("Dear ").count(), 1, "{told}");
    assert!(told.contains(&format!("{FOLIC_ACID} has been issued")), "{told}");
    assert!(told.contains(&format!("{METHOTREXATE} again you need a blood test")), "{told}");
    app.close().await.expect("close");
    drop(practice);
}
