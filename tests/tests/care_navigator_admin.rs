//! A care navigator's admin queue, in the real app against a real hub: a
//! care navigator (enrolled and approved through the real flows) sees the
//! patient's appointment request and never their clinical question (sealed
//! to clinicians only, so it is not in this workstation's cache at all);
//! claims the request and answers with the practice's template, inserted into what she had typed;
//! closes it; the patient reads the answer with their own key; her
//! workload counts the thread closed today; going away for three days is
//! recorded at the practice hub. Last, she invites a patient to write
//! online from Settings, and the patient joins with that link in Chromium.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use sealbox_e2e::flows;
use sealbox_e2e::practice::Practice;
use sealbox_e2e::{words, App};
use sealbox_model::category::Category;
use sealbox_model::role::Role;

const PIN: &str = "9753";
const MOVE: &str = "Please could my appointment on Tuesday be moved to the afternoon? I work mornings.";
const RASH: &str = "I have had an itchy rash on my arm for a week";
const PATIENT: &str = "Marcus Ferreira";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_care_navigator_answers_an_appointment_request_and_never_sees_a_clinical_question() {
    let mut practice = Practice::start(12, 30).await.expect("a practice with patients' messages");
    let dir = practice
        .enrol_colleague(Role::CareNavigator, "Jordan Lee", None, PIN)
        .await
        .expect("a care navigator");
    let rash = practice.patient_asks(311, Category::ClinicalQuestion, RASH, &[]).await.expect("a question");
    let admin = practice
        .patient_asks(301, Category::AdminAppointment, MOVE, &[])
        .await
        .expect("an appointment request");
    let app = App::launch_env(&[("SEALBOX_DATA_DIR", dir.display().to_string())])
        .await
        .expect("launch the app through tauri-driver");
    flows::unlock_until(&app, PIN, &admin).await;
    let who = app.text("#clinician").await.expect("who is signed in");
    assert!(who.contains("Jordan Lee") && who.contains("Care navigator"), "{who}");
    let listed = app.attrs("#inbox tr.row", "data-thread").await.expect("rows");
    assert!(!listed.contains(&rash), "a clinical question is not the care navigator's to read");
    let page = app.source().await.expect("page source");
    assert!(!page.contains("itchy rash"));

    app.click(&format!("#inbox tr[data-thread='{admin}'] .patient")).await.expect("open the request");
    app.wait_attr("#thread", "data-thread", |s| s == admin).await.expect("the request is open");
    let bodies = app.texts("#thread .message .body").await.expect("bodies");
    assert_eq!(bodies.iter().map(|b| words(b)).collect::<Vec<_>>(), [words(MOVE)]);
    app.click("#claim").await.expect("claim");
    app.wait_attr("#thread-state", "data-state", |s| s == "in_progress").await.expect("claimed");
    // What she typed stays; the template is inserted after it.
    app.type_into("#reply-text", "Tuesday at 14:10 is free.").await.expect("type");
    app.click("#template option[value='book_appointment']").await.expect("choose a template");
    let typed =
        "const done = arguments[arguments.length - 1]; done(document.querySelector('#reply-text').value);";
    let text = app.run_async(typed).await.expect("the reply box");
    let text = text.as_str().unwrap_or_default().to_owned();
    assert!(
        text.starts_with("Tuesday at 14:10 is free.") && text.contains("Please call the practice"),
        "{text}"
    );
    app.screenshot("care-navigator-admin").await.expect("screenshot");
    flows::assert_contrast(&app, "a care navigator answering an appointment request").await;

    let mut changes = practice.hub_changes();
    app.click("#send-reply").await.expect("send");
    let sent = app.text("#thread .message.staff .body").await.expect("the answer is shown");
    assert!(words(&sent).ends_with("Jordan Lee, Care navigator"), "signed: {sent}");
    let told = practice.reply_read(&admin, &mut changes).await.expect("the reply reaches the patient");
    println!("e2e: the patient reads: {told}");
    assert_eq!(told, words(&sent));

    app.click("#close-thread").await.expect("close");
    practice.wait_hub_state(&admin, "closed", &mut changes).await.expect("the close reaches the hub");
    // The inbox moves on to the next thread (or back to the list) first.
    let moved_on = format!("(document.querySelector('#thread')?.dataset.thread ?? '') !== '{admin}'");
    let moved = app.wait_for_js(&moved_on, std::time::Instant::now() + std::time::Duration::from_secs(20));
    assert!(moved.await.expect("probe"), "moved on from the closed thread");
    // Her day: the workload counts what she closed.
    app.click("#workload-button").await.expect("workload");
    app.wait_attr("#my-day", "data-finished", |n| n == "1").await.expect("one closed today");

    // Going away for a few days: recorded at the practice hub.
    let back = sealbox_model::jiff::Zoned::now()
        .date()
        .checked_add(sealbox_model::jiff::Span::new().days(3))
        .unwrap();
    let set = format!(
        "document.querySelector('#back-on').value = '{back}'; arguments[arguments.length - 1](true);"
    );
    app.run_async(&set).await.expect("the day back");
    app.click("#cover").await.expect("go away");
    let said = app.text("#covered").await.expect("said");
    assert!(said.starts_with("Your absence is recorded"), "{said}");
    let away = practice.staff_away_until("Jordan Lee").expect("hub staff");
    assert!(away.is_some(), "the absence is at the hub");

    // Reception invites a patient to write online, from Settings: the
    // link is made here, and the patient joins with it in a browser.
    app.click("#settings-button").await.expect("settings");
    app.type_into("#invite-name", PATIENT).await.expect("name");
    app.type_into("#invite-born", "12/03/1975").await.expect("date of birth");
    app.type_into("#invite-nhs", "943 476 5919").await.expect("NHS number");
    app.click("#make-patient-invite").await.expect("make the invite");
    let link = app.text("#patient-invite-link").await.expect("the invite's link");
    assert!(link.starts_with(&format!("{}/patient/#join=", practice.url)), "{link}");
    // Its QR code for the letter is drawn (a blob: image the CSP allows).
    let drawn = "const img = document.querySelector('#patient-invite-qr'); const done = arguments[arguments.length - 1]; \
                 if (!img) { done(0); } else if (img.complete) { done(img.naturalWidth); } \
                 else { img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); }";
    let width = app.run_async(drawn).await.expect("the QR image");
    assert!(width.as_u64().unwrap_or(0) > 0, "the invite's QR code is drawn: {width}");
    app.screenshot("patient-invite-made").await.expect("screenshot");
    flows::assert_contrast(&app, "settings with a patient's invite").await;
    app.close().await.expect("close");
    let phone = App::browser(&link).await.expect("Chromium on the invite");
    phone.type_into("#name", PATIENT).await.unwrap();
    phone.type_into("#born", "12/03/1975").await.unwrap();
    phone.type_into("#nhs", "9434765919").await.unwrap();
    phone.type_into("#passphrase", "lantern meadow copper").await.unwrap();
    phone.type_into("#passphrase-again", "lantern meadow copper").await.unwrap();
    phone.click("#join-button").await.unwrap();
    phone
        .text_within("#emergency", std::time::Duration::from_secs(30))
        .await
        .expect("joined with the desk's invite");
    phone.close().await.unwrap();
    drop(practice);
}
