//! A new clinician's first day, in the real app against a real hub: a
//! workstation with nothing on it shows the enrolment form; the invite code
//! from the practice admin and the security key (the software key, PIN
//! chosen here) enrol it, and it stays locked; once the admin has approved
//! it, the PIN unlocks it and the inbox lists every thread the patients
//! wrote.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use sealbox_e2e::flows;
use sealbox_e2e::practice::Practice;
use sealbox_e2e::App;
use sealbox_model::role::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_gp_enrols_with_an_invite_and_the_software_key_then_unlocks_once_approved() {
    let mut practice = Practice::start(10, 30).await.expect("a practice with patients' messages");
    let code = practice.invite(Role::Gp, "Dr Ben Cole", Some("GMC 7654321")).expect("an invite");
    let empty = tempfile::Builder::new().prefix("sealbox-e2e-new-gp-").tempdir().expect("a data dir");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", empty.path().display().to_string())])
        .await
        .expect("launch the app through tauri-driver");

    assert_eq!(app.text("#enrol-title").await.expect("the enrolment form"), "Enrol this workstation");
    app.type_into("#enrol-hub", &practice.url).await.expect("hub");
    app.type_into("#enrol-code", &code).await.expect("code");
    app.type_into("#enrol-device", "Room 5 PC").await.expect("name");
    app.screenshot("enrol").await.expect("screenshot");
    flows::assert_contrast(&app, "enrolment").await;

    // Two different PINs: said plainly, nothing sent.
    app.type_into("#enrol-pin", "8642").await.expect("pin");
    app.type_into("#enrol-pin-again", "8643").await.expect("pin again");
    app.click("#enrol").await.expect("enrol");
    assert_eq!(app.text("#enrol-error").await.expect("an error"), "the two PINs differ");

    app.type_into("#enrol-pin-again", "8642").await.expect("pin again");
    app.click("#enrol").await.expect("enrol");
    let note = app.text("#enrolled-note").await.expect("enrolled");
    println!("e2e: {note}");
    assert!(note.starts_with("Enrolled."), "{note}");
    app.text("#unlock-form").await.expect("the unlock form");

    // The admin approves the new workstation; the GP unlocks with the PIN.
    assert_eq!(practice.approve_new_devices().await.expect("approve"), 1);
    app.type_into("#pin", "8642").await.expect("type the PIN");
    app.click("#unlock").await.expect("unlock");
    app.wait_attr("#inbox", "data-count", |n| n == practice.threads.to_string())
        .await
        .expect("every thread synced to the new workstation");
    let who = app.text("#clinician").await.expect("who is signed in");
    println!("e2e: signed in as {who}");
    assert_eq!(who, "Dr Ben Cole \u{b7} GP", "named, not an id");
    app.press_ctrl('l').await.expect("Ctrl+L");
    app.text("#lock-reason").await.expect("locked");
    app.close().await.expect("close");
    drop(practice);
}
