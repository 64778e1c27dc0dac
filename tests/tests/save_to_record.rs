//! Save to record from the real app (issue 27): the GP's workstation, in
//! its real webview against a real hub, saves a handled repeat request to
//! a real FHIR server we did not write (sekmet-fhir, SMART Backend
//! Services on). Practice IT reads the workstation's client id and public
//! key from Settings, registers them with the record system and writes
//! the set-up file. The GP opens the request: the record does not know the
//! patient yet, so "Save to record" is held and the thread says why. Once
//! the record holds the patient (the same name and date of birth), the
//! GP approves; the panel looks again, and S saves: the record holds the
//! Task (completed), the issued medicine and the messages, once. Then the
//! thread is exported as a file.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]
#[path = "../../crates/record/tests/sekmet/mod.rs"]
mod sekmet;

use std::time::{Duration, Instant};

use sealbox_e2e::flows;
use sealbox_e2e::practice::{Practice, GP_PIN};
use sealbox_e2e::App;
use serde_json::Value;

const AMLODIPINE: &str = "Amlodipine 5mg tablets x28";

/// The panel's next answer after `seen`.
async fn next_answer(app: &App, seen: u32) -> u32 {
    let answered = app
        .wait_attr("#record", "data-answer", |n| n.parse::<u32>().is_ok_and(|n| n > seen))
        .await
        .expect("the record panel answers");
    answered.parse().unwrap()
}

async fn disabled(app: &App, css: &str) -> bool {
    let script = format!(
        "const done = arguments[arguments.length - 1]; done(document.querySelector({css:?})?.disabled ?? null);"
    );
    app.run_async(&script).await.expect("probe") == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_saves_a_handled_request_to_the_record_only_once_the_record_knows_the_patient() {
    let practice = Practice::start(12, 30).await.expect("a practice with patients' messages");
    let thread = practice.request_repeat(301, &[AMLODIPINE]).await.expect("a repeat request");
    let it = tempfile::tempdir().unwrap();
    let setup_file = it.path().join("record.json");
    let exports = it.path().join("exports");
    let app = App::launch_env(&[
        ("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string()),
        ("SEALBOX_RECORD_CONFIG", setup_file.display().to_string()),
        ("SEALBOX_EXPORT_DIR", exports.display().to_string()),
    ])
    .await
    .expect("launch the app through tauri-driver");
    flows::unlock_until(&app, GP_PIN, &thread).await;

    // Practice IT reads what to register from Settings (nothing set up yet).
    app.click("#settings-button").await.expect("settings");
    let jwk: Value = serde_json::from_str(&app.text("#record-jwk").await.expect("the key")).unwrap();
    let client_id = app.text("#record-client-id").await.expect("the client id");
    let shown = app.attrs("#record-setup", "data-endpoint").await.expect("set-up");
    assert_eq!(shown, [""], "no record system yet");
    assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("EC"), Some("P-256")));
    assert!(jwk.get("d").is_none(), "the public key only");
    app.click("#settings-back").await.expect("back to the inbox");

    // ... registers them with the record system and sets the workstation up.
    let server = sekmet::start_smart(&client_id, &jwk);
    let setup = serde_json::json!({ "endpoint": server.base, "save_on_close": false });
    std::fs::write(&setup_file, setup.to_string()).unwrap();

    // The record does not know the patient: Save is held, and why is said.
    app.click(&format!("#inbox tr[data-thread='{thread}'] .patient")).await.expect("open the request");
    let seen = next_answer(&app, 0).await;
    let warning = app.text("#record-warning").await.expect("the warning");
    assert_eq!(warning, "The practice's record has no patient with this NHS number");
    assert!(disabled(&app, "#record-save").await, "held until the record is put right");
    assert!(app.attrs("#record-confirm", "id").await.expect("probe").is_empty(), "nothing to confirm");
    app.screenshot("record-unknown-patient").await.expect("screenshot");
    flows::assert_contrast(&app, "save to record held: patient unknown to the record").await;

    // The practice registers the patient as the record keeps them.
    let patient = practice.first_patient().unwrap();
    let name = patient.display_name.reveal().to_owned();
    let (given, family) = name.split_once(' ').unwrap();
    let nhs = patient.nhs_number.as_ref().unwrap().reveal().to_owned();
    let born = patient.date_of_birth.reveal().to_string();
    sekmet::add_patient(&server.base, &nhs, family, given, &born).await;

    // The GP approves; the thread closes and the panel looks again: it agrees.
    app.click("#approve").await.expect("approve");
    assert_eq!(app.text("#refill-done").await.expect("approved"), "Approved: queued for the practice hub.");
    app.wait_attr("#thread-state", "data-state", |s| s == "closed").await.expect("closed once decided");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = seen;
    while app.attrs("#record-warning", "class").await.expect("probe").len() == 1 {
        assert!(Instant::now() < deadline, "the panel never looked again");
        seen = next_answer(&app, seen).await;
    }
    app.text("#record-save").await.expect("Save to record is offered");
    assert!(!disabled(&app, "#record-save").await, "one patient, name and date of birth agree");

    // S saves (the pane's key), once: the decided request's buttons are
    // disabled, so the keyboard is with the thread again first.
    let focus = "document.querySelector('#thread').focus(); arguments[arguments.length - 1](true);";
    app.run_async(focus).await.expect("focus the thread");
    app.type_into_focused("s").await.expect("press S");
    let seen = next_answer(&app, seen).await;
    let status = app.text("#record-status").await.expect("where the save stands");
    println!("e2e: after S: {status}");
    assert!(status.starts_with("Saved to the record at"), "{status}");
    let practice_id = &practice.patients.practice_id;
    let task_id = format!("{practice_id}/{thread}");
    let tasks = sekmet::held(&server.base, "Task", "https://sealbox.example/fhir/Id/thread", &task_id).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["status"], "completed");
    let issued = sekmet::held(
        &server.base,
        "MedicationRequest",
        "https://sealbox.example/fhir/Id/issue",
        &format!("{task_id}/1"),
    )
    .await;
    assert_eq!(issued.len(), 1, "the approved medicine");
    assert_eq!(issued[0]["medicationCodeableConcept"]["text"], "Amlodipine 5mg tablets");
    assert_eq!(issued[0]["dispenseRequest"]["quantity"]["value"].as_f64(), Some(28.0));
    app.screenshot("record-saved").await.expect("screenshot");

    // Exported as a file for a practice without a record system.
    app.click("#record-export").await.expect("export");
    next_answer(&app, seen).await;
    let said = app.text("#record-message").await.expect("where it went");
    let file = exports.join(format!("sealbox-thread-{thread}.json"));
    assert_eq!(said, format!("Saved as {}", file.display()));
    let bundle: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        (bundle["resourceType"].as_str(), bundle["type"].as_str()),
        (Some("Bundle"), Some("transaction"))
    );
    assert!(bundle.to_string().contains(&task_id));
    app.close().await.expect("close");
    drop(server);
    drop(practice);
}
