//! A shared workstation in the real app (issue 24): a GP and a pharmacist
//! enrolled on one machine, each with their own key. The lock screen names
//! nobody; the PIN typed opens the demo key that holds a seat (with USB
//! keys, the key plugged in picks it); switching clinician is a lock and
//! the next key, and nothing of the first clinician's inbox is left in
//! the page. The practice manager, enrolled there too, removes the
//! pharmacist from Settings; the GP's seat is untouched.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use std::time::{Duration, Instant};

use sealbox_e2e::flows;
use sealbox_e2e::practice::{Practice, GP_NAME, GP_PIN};
use sealbox_e2e::App;
use sealbox_model::category::Category;
use sealbox_model::role::Role;

const PHARMACIST: &str = "Priya Shah";
const PHARMACIST_PIN: &str = "1357";
const MANAGER: &str = "Morgan Hale";
const MANAGER_PIN: &str = "8642";
const LUMP: &str = "I have found a lump in my neck that has been there for three weeks";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gp_and_a_pharmacist_share_a_workstation_and_a_switch_leaves_nothing_of_the_first() {
    let mut practice = Practice::start(12, 30).await.expect("a practice with patients' messages");
    let pharmacist = practice
        .enrol_in_gp_room(Role::Pharmacist, PHARMACIST, Some("GPhC 2212345"), PHARMACIST_PIN)
        .await
        .expect("a pharmacist on the GP's workstation");
    practice
        .enrol_in_gp_room(Role::PracticeAdmin, MANAGER, None, MANAGER_PIN)
        .await
        .expect("the practice manager on the GP's workstation");
    let question =
        practice.patient_asks(501, Category::ClinicalQuestion, LUMP, &[]).await.expect("a question");
    let refill = practice.request_repeat(502, &["Amlodipine 5mg tablets"]).await.expect("a refill");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", practice.gp_dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");

    // The lock screen says it is shared and names nobody.
    let shared = app.text("#shared-room").await.expect("the room is shared");
    assert!(shared.contains("3 clinicians"), "{shared}");
    let page = app.source().await.expect("lock page");
    assert!(
        !page.contains(GP_NAME) && !page.contains(PHARMACIST) && !page.contains(MANAGER),
        "the lock screen names a clinician"
    );

    // The GP's key opens the GP's inbox, with the clinical question.
    flows::unlock_until(&app, GP_PIN, &question).await;
    let who = app.text("#clinician").await.expect("who");
    assert!(who.contains(GP_NAME), "{who}");
    app.click(&format!("#inbox tr[data-thread='{question}'] .patient")).await.expect("open the question");
    app.wait_attr("#thread", "data-thread", |s| s == question).await.expect("the question is open");

    // Switch: lock, then the pharmacist's key.
    app.press_ctrl('l').await.expect("lock");
    app.type_into("#pin", PHARMACIST_PIN).await.expect("type the pharmacist's PIN");
    let asked = Instant::now();
    app.click("#unlock").await.expect("unlock");
    app.text("#inbox-title").await.expect("the pharmacist's inbox");
    println!(
        "e2e: switch (unlock clicked -> the second clinician's inbox): {} ms",
        asked.elapsed().as_millis()
    );
    let who = app.text("#clinician").await.expect("who");
    assert!(who.contains(PHARMACIST) && who.contains("pharmacist"), "{who}");
    app.wait_attr(&format!("#inbox tr[data-thread='{refill}']"), "data-thread", |t| t == refill)
        .await
        .expect("the pharmacist's refill");
    let page = app.source().await.expect("the pharmacist's page");
    assert!(!page.contains("lump in my neck"), "the GP's question is left in the page");
    assert!(!page.contains(&format!("data-thread=\"{question}\"")), "the GP's thread is listed");
    app.screenshot("shared-room-switched").await.expect("screenshot");

    // The practice manager's key: Settings lists the three of them, and the
    // pharmacist (who left) is removed, confirmed first, with a report.
    app.press_ctrl('l').await.expect("lock");
    app.type_into("#pin", MANAGER_PIN).await.expect("type the manager's PIN");
    app.click("#unlock").await.expect("unlock");
    app.text("#inbox-title").await.expect("the manager's inbox");
    let who = app.text("#clinician").await.expect("who");
    assert!(who.contains(MANAGER), "{who}");
    app.click("#settings-button").await.expect("settings");
    app.text("#room-title").await.expect("the room's clinicians");
    let members = app.texts("#room-members li").await.expect("members");
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(members.iter().any(|m| m.contains(MANAGER) && m.contains("(you)")), "{members:?}");
    assert!(members.iter().any(|m| m.contains(PHARMACIST)), "{members:?}");
    app.click(&format!("#room-members li[data-user='{pharmacist}'] .remove-clinician"))
        .await
        .expect("remove");
    let asked = app.text("#confirm-removal-text").await.expect("asked to confirm");
    assert!(asked.contains(PHARMACIST), "{asked}");
    app.click("#confirm-remove").await.expect("confirm");
    let report = app.text("#removal-report").await.expect("the report");
    assert!(report.contains(PHARMACIST) && report.contains("files deleted"), "{report}");
    let gone = "document.querySelectorAll('#room-members li').length === 2";
    let listed = app.wait_for_js(gone, Instant::now() + Duration::from_secs(10)).await.expect("the list");
    assert!(listed, "the pharmacist is still listed");
    let members = app.texts("#room-members li").await.expect("members");
    assert!(members.len() == 2 && !members.iter().any(|m| m.contains(PHARMACIST)), "{members:?}");
    app.screenshot("shared-room-removed").await.expect("screenshot");
    let seats = std::fs::read_dir(practice.gp_dir.join("clinicians")).expect("seats").count();
    assert_eq!(seats, 1, "the pharmacist's seat is still on disk");

    // And back: the GP's seat still opens, with the question.
    app.press_ctrl('l').await.expect("lock");
    let shared = app.text("#shared-room").await.expect("the room is shared");
    assert!(shared.contains("2 clinicians"), "{shared}");
    flows::unlock_until(&app, GP_PIN, &question).await;
    app.close().await.expect("close");
    drop(practice);
}
